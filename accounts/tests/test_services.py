"""activity_change: the full transition table for each source, pause-reason rules, and who may act on whom."""

import itertools

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from accounts.models import ActivityChange, User
from accounts.services import (
    ActivityChangeRefused,
    Actor,
    ClaimFound,
    _agents_claim_in_steps,
    activity_change,
    agent_claim,
    agent_enabled_again,
    agents_claim,
    user_create,
)
from accounts.states import ALLOWED, ActivityState, ChangeSource
from companies.models import PauseReason
from companies.services import pause_reason_for

STATES = list(ActivityState)
PAIRS = [(a, b) for a, b in itertools.product(STATES, STATES) if a != b]


@pytest.fixture(autouse=True)
def _english_messages():
    with translation.override("en"):
        yield


def put_in_state(agent: User, state: str) -> None:
    User.objects.filter(pk=agent.pk).update(activity_state=state)


def selectable_reason(company) -> PauseReason:
    return PauseReason.objects.get(company=company, code=PauseReason.Code.LUNCH)


def actor_for(source, agent, manager_a):
    if source == ChangeSource.SELF:
        return Actor.person(user=agent, agent=agent)
    if source == ChangeSource.SUPERVISOR:
        return Actor.person(user=manager_a, agent=agent)
    return Actor.telephony()


# Written out, not derived from states.py, so a change to the table has to change this test too.
EXPECTED = {
    ChangeSource.SELF: {
        ("READY", "AWAY"), ("READY", "TRAINING"), ("AWAY", "READY"), ("AWAY", "TRAINING"),
        ("TRAINING", "READY"), ("TRAINING", "AWAY"),
        ("POST_PROCESSING", "READY"), ("POST_PROCESSING", "AWAY"), ("POST_PROCESSING", "TRAINING"),
    },
    ChangeSource.TELEPHONY: {
        ("READY", "CALLING"), ("CALLING", "ON_CALL"), ("CALLING", "READY"), ("CALLING", "AWAY"),
        ("ON_CALL", "POST_PROCESSING"), ("ON_CALL", "READY"),
        ("POST_PROCESSING", "READY"), ("POST_PROCESSING", "AWAY"), ("POST_PROCESSING", "TRAINING"),
    },
}  # fmt: skip
EXPECTED[ChangeSource.SUPERVISOR] = EXPECTED[ChangeSource.SELF] | {
    ("READY", "DISABLED"), ("AWAY", "DISABLED"), ("TRAINING", "DISABLED"), ("POST_PROCESSING", "DISABLED"),
    ("DISABLED", "READY"), ("DISABLED", "AWAY"), ("DISABLED", "TRAINING"),
}  # fmt: skip


def test_the_table_in_states_matches_the_written_expectation():
    assert {source: {(a.value, b.value) for a, b in pairs} for source, pairs in ALLOWED.items()} == EXPECTED


@pytest.mark.parametrize("source", list(ChangeSource))
@pytest.mark.parametrize(("from_state", "to_state"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_transition(source, from_state, to_state, agent_a, manager_a, company_a):
    put_in_state(agent_a, from_state)
    actor = actor_for(source, agent_a, manager_a)
    reason = selectable_reason(company_a) if to_state == "AWAY" and source != ChangeSource.TELEPHONY else None
    allowed = (from_state.value, to_state.value) in EXPECTED[source]

    if allowed:
        activity_change(agent_id=agent_a.pk, to_state=to_state, actor=actor, pause_reason=reason)
        agent_a.refresh_from_db()
        assert agent_a.activity_state == to_state
        entry = ActivityChange.objects.get(agent=agent_a)
        assert (entry.from_state, entry.to_state, entry.source) == (from_state, to_state, source)
        assert entry.actor_id == (None if source == ChangeSource.TELEPHONY else actor.user.pk)
        assert entry.company_id == company_a.pk
    else:
        with pytest.raises(ActivityChangeRefused, match="is not allowed here"):
            activity_change(agent_id=agent_a.pk, to_state=to_state, actor=actor, pause_reason=reason)
        agent_a.refresh_from_db()
        assert agent_a.activity_state == from_state
        assert not ActivityChange.objects.filter(agent=agent_a).exists()


@pytest.mark.parametrize(("from_state", "to_state"), sorted(EXPECTED[ChangeSource.SUPERVISOR]))
def test_an_admin_may_make_every_supervisor_move(from_state, to_state, agent_a, admin_user, company_a):
    put_in_state(agent_a, from_state)
    reason = selectable_reason(company_a) if to_state == "AWAY" else None
    activity_change(
        agent_id=agent_a.pk, to_state=to_state, actor=Actor.person(user=admin_user, agent=agent_a), pause_reason=reason
    )
    assert User.objects.get(pk=agent_a.pk).activity_state == to_state


@pytest.mark.parametrize(("from_state", "to_state"), sorted(EXPECTED[ChangeSource.SUPERVISOR]))
def test_a_manager_of_another_company_may_make_no_move(from_state, to_state, agent_a, manager_b, company_a):
    put_in_state(agent_a, from_state)
    reason = selectable_reason(company_a) if to_state == "AWAY" else None
    with pytest.raises(ActivityChangeRefused, match="may not change this agent"):
        activity_change(
            agent_id=agent_a.pk,
            to_state=to_state,
            actor=Actor.person(user=manager_b, agent=agent_a),
            pause_reason=reason,
        )
    assert User.objects.get(pk=agent_a.pk).activity_state == from_state


def test_an_agent_may_not_change_another_agent(agent_a, make_user, company_a):
    colleague = make_user(company=company_a)
    with pytest.raises(ActivityChangeRefused):
        activity_change(agent_id=agent_a.pk, to_state="TRAINING", actor=Actor.person(user=colleague, agent=agent_a))
    with pytest.raises(ActivityChangeRefused, match="only their own"):
        activity_change(agent_id=agent_a.pk, to_state="TRAINING", actor=Actor(ChangeSource.SELF, colleague))


def test_a_deactivated_agent_may_not_change_their_state(agent_a):
    User.objects.filter(pk=agent_a.pk).update(is_active=False)
    agent_a.refresh_from_db()
    with pytest.raises(ActivityChangeRefused, match="not signed in"):
        activity_change(agent_id=agent_a.pk, to_state="TRAINING", actor=Actor.person(user=agent_a, agent=agent_a))


def test_managers_have_no_activity_state(manager_a, admin_user):
    with pytest.raises(ActivityChangeRefused, match="Only agents"):
        activity_change(agent_id=manager_a.pk, to_state="AWAY", actor=Actor.person(user=admin_user, agent=manager_a))


def test_an_unknown_state_is_refused_not_a_crash(agent_a):
    with pytest.raises(ActivityChangeRefused, match="not an activity state"):
        activity_change(agent_id=agent_a.pk, to_state="LUNCH", actor=Actor.person(user=agent_a, agent=agent_a))


def test_a_move_to_the_same_state_changes_nothing_and_logs_nothing(agent_a):
    activity_change(agent_id=agent_a.pk, to_state="READY", actor=Actor.person(user=agent_a, agent=agent_a))
    assert not ActivityChange.objects.exists()


def test_a_refused_move_to_away_says_it_is_refused_not_that_a_reason_is_missing(agent_a):
    put_in_state(agent_a, "ON_CALL")
    with pytest.raises(ActivityChangeRefused, match="is not allowed here"):
        activity_change(agent_id=agent_a.pk, to_state="AWAY", actor=Actor.person(user=agent_a, agent=agent_a))


# Pause reasons.


def test_a_person_must_give_a_reason_for_away(agent_a, manager_a):
    for user in (agent_a, manager_a):
        with pytest.raises(ActivityChangeRefused, match="Choose a reason"):
            activity_change(agent_id=agent_a.pk, to_state="AWAY", actor=Actor.person(user=user, agent=agent_a))
    assert User.objects.get(pk=agent_a.pk).activity_state == "READY"


def test_away_records_its_reason(agent_a, company_a):
    reason = selectable_reason(company_a)
    activity_change(
        agent_id=agent_a.pk, to_state="AWAY", actor=Actor.person(user=agent_a, agent=agent_a), pause_reason=reason
    )
    agent_a.refresh_from_db()
    assert agent_a.pause_reason == reason
    assert ActivityChange.objects.get().pause_reason == reason


def test_leaving_away_clears_the_reason(agent_a, company_a):
    me = Actor.person(user=agent_a, agent=agent_a)
    activity_change(agent_id=agent_a.pk, to_state="AWAY", actor=me, pause_reason=selectable_reason(company_a))
    activity_change(agent_id=agent_a.pk, to_state="READY", actor=me)
    assert User.objects.get(pk=agent_a.pk).pause_reason is None


def test_a_reason_of_another_company_is_refused(agent_a, company_b):
    with pytest.raises(ActivityChangeRefused, match="does not belong"):
        activity_change(
            agent_id=agent_a.pk,
            to_state="AWAY",
            actor=Actor.person(user=agent_a, agent=agent_a),
            pause_reason=selectable_reason(company_b),
        )


def test_a_retired_reason_is_refused(agent_a, company_a):
    reason = selectable_reason(company_a)
    PauseReason.objects.filter(pk=reason.pk).update(is_active=False)
    reason.refresh_from_db()
    with pytest.raises(ActivityChangeRefused, match="does not belong"):
        activity_change(
            agent_id=agent_a.pk, to_state="AWAY", actor=Actor.person(user=agent_a, agent=agent_a), pause_reason=reason
        )


def test_the_automatic_reason_is_set_only_by_the_system(agent_a, manager_a, company_a):
    automatic = PauseReason.objects.get(company=company_a, code=PauseReason.Code.MISSED_OFFER)
    for user in (agent_a, manager_a):
        with pytest.raises(ActivityChangeRefused, match="only by the system"):
            activity_change(
                agent_id=agent_a.pk,
                to_state="AWAY",
                actor=Actor.person(user=user, agent=agent_a),
                pause_reason=automatic,
            )


def test_enabled_again_is_set_only_by_enabling_a_disabled_agent(agent_a, manager_a, company_a):
    enabled_again = pause_reason_for(company_id=company_a.pk, code=PauseReason.Code.ENABLED_AGAIN)
    for user in (agent_a, manager_a):  # an agent READY: nobody picks it for them, nor they for themselves
        with pytest.raises(ActivityChangeRefused, match="only by the system"):
            activity_change(agent_id=agent_a.pk, to_state="AWAY", actor=Actor.person(user=user, agent=agent_a),
                            pause_reason=enabled_again)  # fmt: skip
    activity_change(agent_id=agent_a.pk, to_state="DISABLED", actor=Actor.person(user=manager_a, agent=agent_a))

    agent = agent_enabled_again(agent=User.objects.get(pk=agent_a.pk), by=manager_a)

    assert (agent.activity_state, agent.pause_reason) == ("AWAY", enabled_again)
    ready = activity_change(agent_id=agent_a.pk, to_state="READY", actor=Actor.person(user=agent_a, agent=agent_a))
    assert ready.activity_state == "READY" and ready.pause_reason is None


def test_a_missed_offer_pauses_with_the_automatic_reason(agent_a, company_a):
    put_in_state(agent_a, "CALLING")
    activity_change(agent_id=agent_a.pk, to_state="AWAY", actor=Actor.telephony())
    agent_a.refresh_from_db()
    assert agent_a.pause_reason.code == PauseReason.Code.MISSED_OFFER
    assert agent_a.pause_reason.company == company_a


def test_a_new_reason_while_away_is_logged_as_a_change(agent_a, company_a):
    me = Actor.person(user=agent_a, agent=agent_a)
    lunch = selectable_reason(company_a)
    meeting = PauseReason.objects.get(company=company_a, code=PauseReason.Code.MEETING)
    activity_change(agent_id=agent_a.pk, to_state="AWAY", actor=me, pause_reason=lunch)
    activity_change(agent_id=agent_a.pk, to_state="AWAY", actor=me, pause_reason=meeting)
    activity_change(agent_id=agent_a.pk, to_state="AWAY", actor=me, pause_reason=meeting)  # no change: not logged
    assert [(c.from_state, c.to_state, c.pause_reason.code) for c in ActivityChange.objects.order_by("id")] == [
        ("READY", "AWAY", "LUNCH"),
        ("AWAY", "AWAY", "MEETING"),
    ]


# The telephony core's guards.


def test_only_from_refuses_a_late_event(agent_a):
    put_in_state(agent_a, "AWAY")
    with pytest.raises(ActivityChangeRefused):
        activity_change(agent_id=agent_a.pk, to_state="READY", actor=Actor.telephony(), only_from=("CALLING",))
    assert User.objects.get(pk=agent_a.pk).activity_state == "AWAY"


def test_a_claim_takes_a_ready_agent_once(agent_a):
    assert agent_claim(agent_id=agent_a.pk)
    assert not agent_claim(agent_id=agent_a.pk)
    assert User.objects.get(pk=agent_a.pk).activity_state == "CALLING"
    assert ActivityChange.objects.filter(agent=agent_a, to_state="CALLING").count() == 1


@pytest.mark.parametrize("blocker", ["unregistered", "deactivated", "away"])
def test_a_claim_skips_an_agent_who_cannot_take_a_call(agent_a, blocker):
    changes = {"unregistered": {"endpoint_online": False}, "deactivated": {"is_active": False}}
    User.objects.filter(pk=agent_a.pk).update(**changes.get(blocker, {"activity_state": "AWAY"}))
    assert not agent_claim(agent_id=agent_a.pk)
    assert not ActivityChange.objects.exists()


def test_time_in_the_previous_state_is_recorded(agent_a):
    me = Actor.person(user=agent_a, agent=agent_a)
    activity_change(agent_id=agent_a.pk, to_state="TRAINING", actor=me)
    activity_change(agent_id=agent_a.pk, to_state="READY", actor=me)
    first, second = ActivityChange.objects.order_by("id")
    assert first.seconds_in_previous >= 0
    assert 0 <= second.seconds_in_previous <= (second.changed_at - first.changed_at).total_seconds() + 0.001


# Users.


def test_user_create_refuses_a_manager_without_a_company(db):
    with pytest.raises(ValidationError, match="belong to a company"):
        user_create(username="lonely", password="a-long-unusual-passphrase", role="MANAGER")


def test_user_create_gives_agents_with_an_extension_a_sip_secret(agent_a, manager_a):
    assert len(agent_a.sip_secret) >= 20
    assert manager_a.sip_secret == ""


def test_only_system_admins_are_staff(admin_user, manager_a, agent_a):
    assert (admin_user.is_staff, admin_user.is_superuser) == (True, True)
    assert not manager_a.is_staff and not agent_a.is_staff


@pytest.mark.django_db(transaction=True)
def test_direct_calls_claim_many_agents_in_one_statement_as_the_general_path_would(make_user, company_a):
    """The telephony engine's claims outside a transaction are one statement on PostgreSQL; inside one (or on SQLite)
    they go through activity_change's general path. Both find and record the same."""
    blockers = [{}, {"endpoint_online": False}, {"is_active": False}, {"activity_state": "AWAY"}]
    sets = []
    for base in (1200, 1300):
        agents = [make_user(company=company_a, extension=str(base + n)) for n in range(len(blockers))]
        for agent, blocker in zip(agents, blockers, strict=True):
            User.objects.filter(pk=agent.pk).update(**blocker)
        sets.append([(agent.pk, f"call {n}") for n, agent in enumerate(agents)] + [(10**9 + base, "nobody")])

    with CaptureQueriesContext(connection) as queries:
        in_one = agents_claim(sets[0])
    in_steps = _agents_claim_in_steps(sets[1])

    assert len(queries) == 1
    assert [in_one[agent_id] for agent_id, _note in sets[0]][:4] == [
        ClaimFound(True, False, "READY", True, "1200"),
        ClaimFound(False, False, "READY", False, "1201"),
        ClaimFound(False, False, "READY", True, "1202"),
        ClaimFound(False, False, "AWAY", True, "1203"),
    ]
    assert in_one[10**9 + 1200] == ClaimFound(False) == in_steps[10**9 + 1300], "no such agent"
    shown = [(found.claimed, found.held, found.state, found.endpoint_online) for found in in_one.values()]
    assert shown == [(found.claimed, found.held, found.state, found.endpoint_online) for found in in_steps.values()]
    audit = ActivityChange.objects.order_by("id").values(
        "agent__extension", "company", "from_state", "to_state", "pause_reason", "source", "actor", "note"
    )
    assert [{**row, "agent__extension": row["agent__extension"][1:]} for row in audit] == [
        {"agent__extension": "200", "company": company_a.pk, "from_state": "READY", "to_state": "CALLING",
         "pause_reason": None, "source": ChangeSource.TELEPHONY, "actor": None, "note": "call 0"},
        {"agent__extension": "300", "company": company_a.pk, "from_state": "READY", "to_state": "CALLING",
         "pause_reason": None, "source": ChangeSource.TELEPHONY, "actor": None, "note": "call 0"},
    ]  # fmt: skip
    assert all(row.seconds_in_previous >= 0 for row in ActivityChange.objects.all())
    assert User.objects.get(extension="1200").activity_state == "CALLING"

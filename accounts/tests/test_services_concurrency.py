"""activity_change and agent_claim under real concurrency: threads with their own database connections."""

import threading

import pytest
from django.db import close_old_connections, connection

from accounts.models import ActivityChange, User
from accounts.services import ActivityChangeRefused, Actor, activity_change, agent_claim, agents_claim
from companies.models import PauseReason

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(functions) -> list:
    """Start every function at the same moment (a barrier), each in its own thread and connection."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def worker(index, function):
        try:
            barrier.wait(timeout=30)
            results[index] = function()
        except Exception as error:  # noqa: BLE001  (the test inspects what each thread got)
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a thread is stuck (lock never released?)"
    close_old_connections()
    return results


def test_two_claims_of_one_ready_agent_exactly_one_wins(agent_a):
    for _ in range(10):
        User.objects.filter(pk=agent_a.pk).update(activity_state="READY")
        results = run_together([lambda: agent_claim(agent_id=agent_a.pk)] * 2)
        assert sum(bool(result) for result in results) == 1, results
        assert User.objects.get(pk=agent_a.pk).activity_state == "CALLING"
    assert ActivityChange.objects.filter(agent=agent_a, from_state="READY", to_state="CALLING").count() == 10


def test_eight_claims_of_three_ready_agents_at_once_take_each_agent_once(company_a, make_user):
    agents = [make_user(company=company_a, extension=f"11{n}") for n in range(3)]
    User.objects.filter(pk__in=[agent.pk for agent in agents]).update(endpoint_online=True)
    wanted = [(agent.pk, "queue call") for agent in agents]
    results = run_together([lambda: agents_claim(wanted)] * 8)
    claimed = sorted(agent_id for found in results for agent_id, claim in found.items() if claim.claimed)
    assert claimed == sorted(agent.pk for agent in agents), results
    assert ActivityChange.objects.filter(to_state="CALLING").count() == 3


def test_agent_and_telephony_racing_leave_a_consistent_audit_log(agent_a, company_a):
    """The agent goes AWAY while the core claims them: one wins, and the log replays to the final state."""
    lunch = PauseReason.objects.get(company=company_a, code="LUNCH")
    for _ in range(10):
        User.objects.filter(pk=agent_a.pk).update(activity_state="READY", pause_reason=None)
        results = run_together(
            [
                lambda: agent_claim(agent_id=agent_a.pk),
                lambda: activity_change(
                    agent_id=agent_a.pk,
                    to_state="AWAY",
                    actor=Actor.person(user=agent_a, agent=agent_a),
                    pause_reason=lunch,
                ),
            ]
        )
        claim, away = results
        final = User.objects.get(pk=agent_a.pk).activity_state
        if claim:
            # The claim came first; the agent's AWAY then saw CALLING and was refused.
            assert final == "CALLING" and isinstance(away, ActivityChangeRefused), results
        else:
            assert final == "AWAY" and isinstance(away, User), results
    # Every entry starts where the previous one of the same round ended: no change interleaved with another.
    entries = list(ActivityChange.objects.filter(agent=agent_a).order_by("id"))
    assert len(entries) == 10
    assert all(entry.from_state == "READY" and entry.to_state in {"CALLING", "AWAY"} for entry in entries)


def test_many_concurrent_changes_of_one_agent_chain_in_the_log(agent_a):
    """Twelve threads toggle READY/TRAINING; the log must read as one unbroken chain of from -> to."""
    me = Actor.person(user=agent_a, agent=agent_a)

    def toggle():
        for _ in range(5):
            current = User.objects.get(pk=agent_a.pk).activity_state
            target = "TRAINING" if current == "READY" else "READY"
            activity_change(agent_id=agent_a.pk, to_state=target, actor=me)

    results = run_together([toggle] * 12)
    assert all(result is None for result in results), results
    entries = list(ActivityChange.objects.filter(agent=agent_a).order_by("changed_at", "id"))
    assert entries, "no change was made"
    state = "READY"
    for entry in entries:
        assert entry.from_state == state, [(e.from_state, e.to_state) for e in entries]
        state = entry.to_state
    assert User.objects.get(pk=agent_a.pk).activity_state == state


def test_batched_telephony_claims_racing_a_single_claim_take_the_agent_once(agent_a, company_a, make_user):
    """The telephony engine claims direct calls' agents several per transaction; a rival claim still loses cleanly."""
    from telephony.directory import claim_agents

    other = make_user(company=company_a, extension="1199")
    for _ in range(10):
        User.objects.filter(pk__in=[agent_a.pk, other.pk]).update(activity_state="READY")
        batched, single = run_together(
            [
                lambda: claim_agents(claims=[(agent_a.pk, "call x"), (other.pk, "call y")]),
                lambda: agent_claim(agent_id=agent_a.pk),
            ]  # fmt: skip
        )
        (claim_a, reason_a), (claim_other, _reason) = batched
        assert claim_other is not None and claim_other.endpoint.endswith("1199"), "the uncontested agent is claimed"
        assert (claim_a is not None) != bool(single), (batched, single)
        if reason_a == "locked":
            # The rival held the row at that moment: nothing waited for it, and asking again hears "busy".
            [(claim_a, reason_a)] = claim_agents(claims=[(agent_a.pk, "call x")])
        assert claim_a is not None or reason_a == "busy"
    assert ActivityChange.objects.filter(to_state="CALLING").count() == 20

"""The records writer's batches: many calls' records in one transaction, written kind by kind in waves, must leave
the database exactly as writing them one at a time would. Real PostgreSQL, no event loop needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import ActivityChange, User
from accounts.services import TelephonyChange, telephony_changes_apply
from calls.models import Call, CallEvent, Offer
from companies.models import PauseReason
from telephony import core
from telephony.tests.support import make_call_center, row_locked
from telephony.writer import WrapUpOver, _Item, _waves, apply_batch

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def answered_call(key: str, agent: User, start: float) -> list[_Item]:
    """A direct call to the agent, answered and hung up by the caller, as the core records it."""
    route = core.Route(kind=core.RouteKind.AGENT, company_id=agent.company_id, agent_id=agent.pk)
    leg = f"{key}-leg"
    actions = [
        core.RecordStart(exten=agent.extension, caller_number="01012345678", caller_name="", route=route, at=at(start)),
        core.RecordOffer(agent_id=agent.pk, channel_id=leg, at=at(start)),
        core.RecordEvent(kind="ringing", channel_id=leg, at=at(start + 1)),
        core.RecordAnswer(agent_id=agent.pk, channel_id=leg, bridge_id=f"br-{key}", at=at(start + 2)),
        core.AgentState(agent_id=agent.pk, to_state=core.ON_CALL, only_from=(core.CALLING,)),
        core.RecordEnd(
            disposition="ANSWERED", hangup_by="CALLER", cause=16, cause_text="Normal Clearing", at=at(start + 30)
        ),  # fmt: skip
        core.RecordOfferEnd(channel_id=leg, result="ANSWERED", cause=16, at=at(start + 30)),
        core.AgentState(agent_id=agent.pk, to_state=core.POST_PROCESSING, only_from=(core.ON_CALL,)),
        core.StartWrapUp(agent_id=agent.pk, seconds=5),
    ]
    return [_Item(key, action, 0.0) for action in actions]


def queue_call_missed_then_answered(key: str, queue_id: int, first: User, second: User) -> list[_Item]:
    route = core.Route(kind=core.RouteKind.QUEUE, company_id=first.company_id, queue_id=queue_id)
    actions = [
        core.RecordStart(exten="5000", caller_number="0212345678", caller_name="", route=route, at=at(0)),
        core.RecordOffer(agent_id=first.pk, channel_id=f"{key}-1", at=at(1)),
        core.RecordOfferEnd(channel_id=f"{key}-1", result="NO_ANSWER", cause=19, at=at(16)),
        core.AgentState(agent_id=first.pk, to_state=core.AWAY, only_from=(core.CALLING,), note="missed"),
        core.RecordOffer(agent_id=second.pk, channel_id=f"{key}-2", at=at(17)),
        core.RecordAnswer(agent_id=second.pk, channel_id=f"{key}-2", bridge_id=f"br-{key}", at=at(20)),
        core.AgentState(agent_id=second.pk, to_state=core.ON_CALL, only_from=(core.CALLING,)),
    ]
    return [_Item(key, action, 0.0) for action in actions]


def interleave(*calls: list[_Item]) -> list[_Item]:
    """Round-robin, as records of concurrent calls arrive."""
    merged, longest = [], max(len(call) for call in calls)
    for index in range(longest):
        merged += [call[index] for call in calls if index < len(call)]
    return merged


def claimed(*agents: User) -> None:
    User.objects.filter(pk__in=[agent.pk for agent in agents]).update(activity_state=core.CALLING)


def snapshot() -> dict:
    """Everything the writes decide, without ids and clocks of the run."""
    calls = Call.objects.order_by("caller_channel_id").values_list(
        "caller_channel_id", "state", "disposition", "agent__username", "answered_at", "ended_at", "wait_seconds",
        "talk_seconds", "bridge_id",
    )  # fmt: skip
    offers = Offer.objects.order_by("channel_id").values_list("channel_id", "agent__username", "result", "answered_at")
    agents = User.objects.order_by("username").values_list("username", "activity_state", "pause_reason__code")
    audit = ActivityChange.objects.order_by("agent__username", "id").values_list(
        "agent__username", "from_state", "to_state", "source"
    )
    events = CallEvent.objects.order_by("call__caller_channel_id", "at").values_list("call__caller_channel_id", "kind")
    return {name: list(rows) for name, rows in
            {"calls": calls, "offers": offers, "agents": agents, "audit": audit, "events": events}.items()}  # fmt: skip


def write_one_by_one(items: list[_Item]) -> list:
    follow_ups = []
    for item in items:
        follow_ups += apply_batch(items=[item])
    return follow_ups


@pytest.mark.parametrize("write", [apply_batch, write_one_by_one], ids=["one batch", "one at a time"])
def test_a_batch_of_interleaved_calls_writes_what_one_record_at_a_time_writes(write):
    _company, agents, queue = make_call_center(extensions=["1001", "1002", "1003", "1004"], queue_number="5000")
    a, b, c, d = agents
    claimed(a, b, c, d)
    items = interleave(
        answered_call("call-a", a, start=0),
        answered_call("call-b", b, start=3),
        queue_call_missed_then_answered("call-q", queue.pk, c, d),
    )
    follow_ups = write(items=items) if write is apply_batch else write(items)
    state = snapshot()

    assert [(key, st, disp, who) for key, st, disp, who, *_ in state["calls"]] == [
        ("call-a", "ENDED", "ANSWERED", "agent1001"),
        ("call-b", "ENDED", "ANSWERED", "agent1002"),
        ("call-q", "CONNECTED", "", "agent1004"),
    ]
    assert state["calls"][0][6:8] == (2.0, 28.0), "wait and talk seconds of call a"
    assert [(channel, who, result) for channel, who, result, _ in state["offers"]] == [
        ("call-a-leg", "agent1001", "ANSWERED"),
        ("call-b-leg", "agent1002", "ANSWERED"),
        ("call-q-1", "agent1003", "NO_ANSWER"),
        ("call-q-2", "agent1004", "ANSWERED"),
    ]
    assert state["agents"] == [
        ("agent1001", "POST_PROCESSING", None),
        ("agent1002", "POST_PROCESSING", None),
        ("agent1003", "AWAY", "MISSED_OFFER"),
        ("agent1004", "ON_CALL", None),
    ]
    assert [(who, to) for who, _from, to, _src in state["audit"]] == [
        ("agent1001", "ON_CALL"), ("agent1001", "POST_PROCESSING"), ("agent1002", "ON_CALL"),
        ("agent1002", "POST_PROCESSING"), ("agent1003", "AWAY"), ("agent1004", "ON_CALL"),
    ]  # fmt: skip
    assert state["events"] == [("call-a", "ringing"), ("call-b", "ringing")]
    assert sorted(f for f in follow_ups if f[0] == "wrapup") == [
        ("wrapup", a.pk, 5, "call-a"),
        ("wrapup", b.pk, 5, "call-b"),
    ]


def test_the_same_batch_written_twice_changes_nothing_the_second_time():
    """After a commit whose answer was lost the writer retries the batch: every write is idempotent."""
    _company, agents, _queue = make_call_center(extensions=["1001", "1002"])
    claimed(*agents)
    items = interleave(answered_call("call-a", agents[0], start=0), answered_call("call-b", agents[1], start=1))
    apply_batch(items=items)
    first = snapshot()
    apply_batch(items=items)
    assert snapshot() == first


def test_waves_hold_each_call_and_each_agent_once_and_keep_each_calls_order():
    _company, agents, queue = make_call_center(extensions=["1001", "1002", "1003"], queue_number="5000")
    items = interleave(answered_call("call-a", agents[0], start=0),
                       queue_call_missed_then_answered("call-q", queue.pk, agents[1], agents[2]))  # fmt: skip
    items.append(_Item("", WrapUpOver(agents[0].pk), 0.0))
    follow_ups, timeline = [], []
    waves = list(_waves(items, follow_ups, timeline))
    for wave in waves:
        keys = [item.key for item in wave if item.key]
        agent_ids = [item.action.agent_id for item in wave
                     if isinstance(item.action, core.AgentState | WrapUpOver)]  # fmt: skip
        assert len(keys) == len(set(keys)) and len(agent_ids) == len(set(agent_ids))
    flattened = [item for wave in waves for item in wave]
    for key in ("call-a", "call-q"):
        expected = [
            i.action for i in items if i.key == key and not isinstance(i.action, core.RecordEvent | core.StartWrapUp)
        ]
        assert [i.action for i in flattened if i.key == key] == expected
    assert len(timeline) == 1 and follow_ups == [("wrapup", agents[0].pk, 5, "call-a")]


def test_wrap_up_ends_in_the_batch_where_the_agent_chose_to_go_and_is_recorded_on_the_call():
    company, agents, _queue = make_call_center(extensions=["1001", "1002"])
    claimed(*agents)
    apply_batch(items=answered_call("call-a", agents[0], start=0) + answered_call("call-b", agents[1], start=0))
    lunch = PauseReason.objects.get(company=company, code="LUNCH")
    User.objects.filter(pk=agents[1].pk).update(after_call_state="AWAY", after_call_reason=lunch)
    follow_ups = apply_batch(items=[_Item("", WrapUpOver(agents[0].pk), 0.0), _Item("", WrapUpOver(agents[1].pk), 0.0)])

    states = dict(User.objects.values_list("username", "activity_state"))
    assert states == {"agent1001": "READY", "agent1002": "AWAY"}
    second = User.objects.get(pk=agents[1].pk)
    assert (second.pause_reason_id, second.after_call_state, second.after_call_reason_id) == (lunch.pk, "", None)
    assert Call.objects.filter(wrapup_seconds__isnull=False).count() == 2
    assert sorted(follow_ups) == sorted([("agent_free", agents[0].pk), ("agent_free", agents[1].pk)])


def test_changes_applied_together_follow_the_rules_of_one_change_each():
    _company, agents, _queue = make_call_center(extensions=["1001", "1002", "1003"])
    User.objects.filter(pk=agents[0].pk).update(activity_state="CALLING")
    User.objects.filter(pk=agents[1].pk).update(activity_state="TRAINING")  # moved on by hand: the core's change loses
    results = telephony_changes_apply([
        TelephonyChange(agent_id=agents[0].pk, to_state="ON_CALL", only_from=("CALLING",)),
        TelephonyChange(agent_id=agents[1].pk, to_state="ON_CALL", only_from=("CALLING",)),
        TelephonyChange(agent_id=agents[2].pk, to_state="READY", only_from=("READY",)),  # already there: no change
    ])  # fmt: skip
    assert results[0] is not None and (results[0].from_state, results[0].to_state) == ("CALLING", "ON_CALL")
    assert results[1] is None
    assert results[2] is not None and results[2].from_state == results[2].to_state == "READY"
    assert list(User.objects.order_by("username").values_list("activity_state", flat=True)) == [
        "ON_CALL", "TRAINING", "READY"]  # fmt: skip
    assert list(ActivityChange.objects.values_list("agent_id", "to_state")) == [(agents[0].pk, "ON_CALL")]


def test_calls_at_different_stages_share_one_read_of_the_calls_and_one_update_of_their_agents():
    """One call answered and another ended in the same batch: one read of the calls' facts for both, and their
    agents' moves to ON_CALL and to wrap-up in one UPDATE (a statement per kind or per state is work done again)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _company, agents, _queue = make_call_center(extensions=["1001", "1002"])
    a, b = agents
    claimed(a, b)
    answering, ending = answered_call("call-a", a, 0), answered_call("call-b", b, 0)
    apply_batch(items=answering[:3] + ending[:5])  # call a rings, call b is talking
    batch = [answering[3], ending[5], answering[4], ending[7]]  # answer and end, then the agents' states

    with CaptureQueriesContext(connection) as queries:
        apply_batch(items=batch)

    statements = [query["sql"] for query in queries.captured_queries]
    by_caller = '"calls_call"."caller_channel_id" IN'
    facts_reads = [sql for sql in statements if sql.startswith("SELECT") and by_caller in sql]
    agent_updates = [sql for sql in statements if 'UPDATE "accounts_user"' in sql]
    assert (len(facts_reads), len(agent_updates)) == (1, 1)
    assert snapshot()["agents"] == [("agent1001", "ON_CALL", None), ("agent1002", "POST_PROCESSING", None)]


def test_calls_seen_by_an_earlier_batch_are_written_without_reading_their_facts_again():
    """The writer keeps what each batch learned of its calls (`known`): at hundreds of calls a second a batch then
    reads no facts at all, and the records it writes are those a fresh read would have given."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _company, agents, _queue = make_call_center(extensions=["1001", "1002"])
    claimed(*agents)
    items = answered_call("call-a", agents[0], 0)
    known: dict = {}
    learned: dict = {}
    apply_batch(items=items[:3], known=known, learned=learned)  # started and ringing
    known.update(learned)
    assert known["call-a"].agent_id == agents[0].pk and known["call-a"].answered_at is None

    with CaptureQueriesContext(connection) as queries:
        learned = {}
        apply_batch(items=items[3:6], known=known, learned=learned)  # answered, then ended
    facts_reads = [q["sql"] for q in queries.captured_queries if '"calls_call"."caller_channel_id" IN' in q["sql"]]
    assert facts_reads == []
    assert learned["call-a"].state == "ENDED" and learned["call-a"].answered_at == at(2)
    call = Call.objects.get(caller_channel_id="call-a")
    assert (call.state, call.disposition, call.talk_seconds, call.wait_seconds) == ("ENDED", "ANSWERED", 28.0, 2.0)


def test_facts_behind_the_row_never_write_a_call_twice():
    """A call the writer still thinks is ringing was ended meanwhile by another process (a reconcile after a
    restart, say): the answer and the end it then writes change nothing, the row's own conditions decide."""
    _company, agents, _queue = make_call_center(extensions=["1001"])
    claimed(*agents)
    items = answered_call("call-a", agents[0], 0)
    known: dict = {}
    apply_batch(items=items[:3], known={}, learned=known)
    Call.objects.filter(caller_channel_id="call-a").update(state="ENDED", disposition="CANCELLED", ended_at=at(1))

    learned: dict = {}
    apply_batch(items=[items[3], items[5]], known=known, learned=learned)  # answered, ended

    call = Call.objects.get(caller_channel_id="call-a")
    assert (call.state, call.disposition, call.answered_at, call.ended_at) == ("ENDED", "CANCELLED", None, at(1))
    assert learned["call-a"].state != "CONNECTED"


@pytest.mark.django_db(transaction=True)
def test_records_waiting_for_an_agent_another_transaction_holds_are_held_back_and_the_rest_is_written():
    _company, agents, _queue = make_call_center(extensions=["1001", "1002"])
    claimed(*agents)
    call_a, call_b = answered_call("call-a", agents[0], start=0), answered_call("call-b", agents[1], start=1)
    held: list[_Item] = []
    with row_locked("1001"):
        follow_ups = apply_batch(items=interleave(call_a, call_b), held=held)
    # From call a's first change of its agent on, call a waits (in its order); call b is written whole.
    first_change = next(n for n, item in enumerate(call_a) if isinstance(item.action, core.AgentState))
    assert held == call_a[first_change:]
    assert follow_ups == [("wrapup", agents[1].pk, 5, "call-b")]
    assert Call.objects.get(caller_channel_id="call-a").state == "CONNECTED"
    assert Call.objects.get(caller_channel_id="call-b").state == "ENDED"
    assert User.objects.get(pk=agents[0].pk).activity_state == core.CALLING
    # Once the row is free the held records are written like any others.
    again: list[_Item] = []
    assert apply_batch(items=held, held=again) == [("wrapup", agents[0].pk, 5, "call-a")] and again == []
    assert Call.objects.get(caller_channel_id="call-a").state == "ENDED"
    assert User.objects.get(pk=agents[0].pk).activity_state == core.POST_PROCESSING


def test_the_writer_locks_and_reads_a_batchs_agents_once_for_all_its_waves():
    """A whole call in one batch moves its agent twice (ON_CALL, then wrap-up) in two waves: one locking read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _company, agents, _queue = make_call_center(extensions=["1001", "1002"])
    claimed(*agents)
    with CaptureQueriesContext(connection) as queries:
        apply_batch(items=interleave(answered_call("call-a", agents[0], 0), answered_call("call-b", agents[1], 1)),
                    held=[])  # fmt: skip
    agent_reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "accounts_user"."id"')]
    assert len(agent_reads) == 1 and "FOR NO KEY UPDATE SKIP LOCKED" in agent_reads[0]
    assert snapshot()["agents"] == [("agent1001", "POST_PROCESSING", None), ("agent1002", "POST_PROCESSING", None)]


def test_every_wave_of_a_batch_goes_to_the_database_in_one_round_trip():
    """Two calls from start to end in one batch make several waves (a call's records come one per wave), and a queue
    call's missed offer puts the call back to waiting: the waves' writes, and the timeline, still go in one query
    after the agents' lock, each wave built on the facts the waves before it leave."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _company, agents, queue = make_call_center(extensions=["1001", "1002", "1003", "1004"], queue_number="5000")
    claimed(*agents)
    items = interleave(answered_call("call-a", agents[0], start=0),
                       queue_call_missed_then_answered("call-q", queue.pk, agents[1], agents[2]))  # fmt: skip
    assert len(_waves(items, [], [])) >= 4

    with CaptureQueriesContext(connection) as queries:
        apply_batch(items=items, known={}, learned={})

    statements = [query["sql"] for query in queries.captured_queries]
    writes = [sql for sql in statements if "INSERT" in sql or "UPDATE" in sql.split("FOR NO KEY UPDATE")[0]]
    assert len(writes) == 1, statements
    assert not any('"calls_call"."caller_channel_id" IN' in sql for sql in statements)  # new calls: nothing read
    assert snapshot()["calls"] == [
        ("call-a", "ENDED", "ANSWERED", "agent1001", at(2), at(30), 2.0, 28.0, "br-call-a"),
        ("call-q", "CONNECTED", "", "agent1003", at(20), None, 20.0, None, "br-call-q"),
    ]
    offers = Offer.objects.order_by("channel_id").values_list("channel_id", "result")
    assert list(offers) == [("call-a-leg", "ANSWERED"), ("call-q-1", "NO_ANSWER"), ("call-q-2", "ANSWERED")]
    assert CallEvent.objects.count() == 1


def test_a_call_taken_to_be_new_that_was_started_before_is_written_again_with_its_facts_read():
    """After a restart the writer keeps no facts, and a start it has not seen is taken to be a new call. When the
    call was in fact started before (its start seen again), the row's facts, not the start's, must decide the rest
    of the batch: here the wait, counted from when the caller really came in."""
    _company, agents, _queue = make_call_center(extensions=["1001"])
    claimed(*agents)
    first = answered_call("call-a", agents[0], start=0)
    apply_batch(items=first[:3])  # started at 0 and ringing
    again = answered_call("call-a", agents[0], start=5)  # the start seen again, later, then the answer (at 7)

    learned: dict = {}
    apply_batch(items=[again[0], again[3], again[4]], known={}, learned=learned)

    call = Call.objects.get(caller_channel_id="call-a")
    assert (call.state, call.enqueued_at, call.answered_at, call.wait_seconds) == ("CONNECTED", at(0), at(7), 7.0)
    assert learned["call-a"].pk == call.pk and learned["call-a"].enqueued_at == at(0)
    assert Offer.objects.get().answered_at == at(7)


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_its_own_begins_and_commits_in_its_two_queries():
    """The writer's batch (a transaction of its own, agents locked without waiting): the first query begins, locks
    the agents and writes the calls; the second writes the agents' changes and commits. No round trip of its own
    for BEGIN, the lock or COMMIT."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _company, agents, queue = make_call_center(extensions=["1001", "1002", "1003"], queue_number="5000")
    claimed(*agents)
    items = interleave(answered_call("call-a", agents[0], start=0),
                       queue_call_missed_then_answered("call-q", queue.pk, agents[1], agents[2]))  # fmt: skip

    with CaptureQueriesContext(connection) as queries:
        follow_ups = apply_batch(items=items, held=[], known={}, learned={})

    # Django logs its own BEGIN and COMMIT, which here send nothing; the missed offer's auto-pause reads its reason.
    sent = [query["sql"] for query in queries.captured_queries if query["sql"] not in ("BEGIN", "COMMIT")]
    first, *reads, last = sent
    assert first.startswith("BEGIN; SELECT") and "FOR NO KEY UPDATE SKIP LOCKED" in first and "calls_call" in first
    assert 'UPDATE "accounts_user"' in last and last.endswith("; COMMIT")
    assert all(sql.startswith('SELECT "companies_pausereason"') for sql in reads) and len(reads) == 1
    assert not connection.in_atomic_block and connection.connection.autocommit  # as Django left it
    assert snapshot()["agents"] == [("agent1001", "POST_PROCESSING", None), ("agent1002", "AWAY", "MISSED_OFFER"),
                                    ("agent1003", "ON_CALL", None)]  # fmt: skip
    assert Call.objects.get(caller_channel_id="call-a").state == "ENDED"
    assert follow_ups == [("wrapup", agents[0].pk, 5, "call-a")]


@pytest.mark.django_db(transaction=True)
def test_a_batch_whose_commit_fails_leaves_nothing_and_the_next_batch_is_written():
    """A write the database refuses only at COMMIT (a deferred foreign-key check: an offer to an agent deleted
    meanwhile) fails the batch whole; the connection is left as Django expects, and the next batch goes through."""
    from django.db import IntegrityError, connection

    _company, agents, _queue = make_call_center(extensions=["1001", "1002"])
    claimed(*agents)
    doomed = answered_call("call-a", agents[0], start=0)[:2]
    doomed[1] = _Item("call-a", core.RecordOffer(agent_id=987654, channel_id="call-a-leg", at=at(0)), 0.0)

    with pytest.raises(IntegrityError):
        apply_batch(items=doomed, held=[], known={}, learned={})

    assert not Call.objects.exists() and not connection.in_atomic_block
    apply_batch(items=answered_call("call-b", agents[1], start=0), held=[], known={}, learned={})
    assert Call.objects.get(caller_channel_id="call-b").state == "ENDED"

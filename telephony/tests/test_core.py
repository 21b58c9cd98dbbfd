"""The routing core on its own: recorded Asterisk 20 event shapes in, decisions out (no sockets, no database)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from calls.business_hours import OpeningHours
from telephony import core
from telephony.core import (
    AgentClaimed,
    AgentState,
    Answer,
    CallSession,
    Enqueue,
    Forget,
    Hangup,
    Incoming,
    Originate,
    OriginateFailed,
    Reconciled,
    RecordEnd,
    RecordOfferEnd,
    Ring,
    Route,
    RouteKind,
    TimerFired,
)

AT = datetime(2026, 11, 25, 7, 21, 18, tzinfo=UTC)
CALLER = "1795591278.2"
LEG = core.leg_channel_id(CALLER, 1)
AGENT_ROUTE = Route(kind=RouteKind.AGENT, company_id=1, agent_id=7, ring_timeout=15, wrapup_seconds=10)
QUEUE_ROUTE = Route(kind=RouteKind.QUEUE, company_id=1, queue_id=3, ring_timeout=15, wrapup_seconds=5, max_wait=60)


def channel(channel_id: str, state: str) -> dict:
    # The snapshot fields as a real Asterisk 20.20.1 sends them (shared/ari-recordings).
    return {
        "id": channel_id,
        "name": "PJSIP/1004-00000002",
        "state": state,
        "protocol_id": "1-11734@127.0.0.1",
        "caller": {"name": "Ext 1004", "number": "1004"},
        "connected": {"name": "", "number": ""},
        "accountcode": "",
        "dialplan": {
            "context": "from-internal",
            "exten": "1001",
            "priority": 2,
            "app_name": "Stasis",
            "app_data": "pbx_ari,1001",
        },  # fmt: skip
        "creationtime": "2026-11-25T07:21:18.312+0000",
        "language": "en",
    }


def event(kind: str, channel_id: str, state: str = "Up", **extra) -> dict:
    return {"type": kind, "timestamp": "2026-11-25T07:21:19.100+0000", "channel": channel(channel_id, state),
            "asterisk_id": "02:fc:00:00:00:01", "application": "pbx_ari", **extra}  # fmt: skip


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


def ringing_direct_call() -> CallSession:
    session = CallSession(key=CALLER)
    core.handle(session, Incoming(CALLER, "1001", "01012345678", "Kim", AGENT_ROUTE, AT), AT)
    core.handle(session, AgentClaimed(7, "PJSIP/1001", AT), AT)
    return session


def connected_direct_call() -> CallSession:
    session = ringing_direct_call()
    core.handle(session, event("StasisStart", LEG, "Up", args=["dialed"]), AT)
    return session


def test_direct_call_claims_exactly_the_dialed_agent():
    session = CallSession(key=CALLER)
    actions = core.handle(session, Incoming(CALLER, "1001", "010", "", AGENT_ROUTE, AT), AT)
    assert of(actions, core.ClaimAgent) == [core.ClaimAgent(agent_id=7)]
    assert not of(actions, Answer)  # the caller is answered only when the agent answers


def test_claimed_agent_is_rung_under_an_id_that_names_the_call():
    session = CallSession(key=CALLER)
    core.handle(session, Incoming(CALLER, "1001", "01012345678", "Kim", AGENT_ROUTE, AT), AT)
    actions = core.handle(session, AgentClaimed(7, "PJSIP/1001", AT), AT)
    [originate] = of(actions, Originate)
    assert originate.channel_id == LEG and originate.endpoint == "PJSIP/1001"
    assert originate.caller_number == "01012345678"
    assert core.call_key_of_leg(originate.channel_id) == CALLER
    assert of(actions, core.RecordOffer)[0].channel_id == LEG
    assert of(actions, core.StartTimer) == [core.StartTimer("ring", 15)]


def test_agent_phone_ringing_gives_the_caller_ringback_once():
    session = ringing_direct_call()
    first = core.handle(session, event("ChannelStateChange", LEG, "Ringing"), AT)
    again = core.handle(session, event("ChannelStateChange", LEG, "Ringing"), AT)
    assert of(first, Ring) == [Ring(CALLER)]
    assert of(again, Ring) == []


def test_agent_answer_answers_caller_bridges_both_and_puts_agent_on_call():
    session = ringing_direct_call()
    actions = core.handle(session, event("StasisStart", LEG, "Up", args=["dialed"]), AT)
    assert of(actions, Answer) == [Answer(CALLER)]
    [add] = of(actions, core.AddToBridge)
    assert set(add.channel_ids) == {CALLER, LEG}
    assert of(actions, AgentState) == [AgentState(7, "ON_CALL", only_from=("CALLING",), note="answered")]


def test_caller_hangup_of_answered_call_hangs_up_agent_and_starts_wrapup():
    # Recording a: the caller's BYE shows as ChannelHangupRequest with no cause.
    session = connected_direct_call()
    actions = core.handle(session, event("ChannelHangupRequest", CALLER, "Up"), AT)
    assert Hangup(LEG, "normal") in actions
    [end] = of(actions, RecordEnd)
    assert (end.disposition, end.hangup_by) == ("ANSWERED", "CALLER")
    assert of(actions, core.StartWrapUp) == [core.StartWrapUp(7, 10)]
    assert of(actions, AgentState)[0].to_state == "POST_PROCESSING"
    # The agent leg's ChannelDestroyed that follows only closes the session.
    late = core.handle(session, event("ChannelDestroyed", LEG, "Up", cause=16, cause_txt="Normal Clearing"), AT)
    assert of(late, Forget) and not of(late, RecordEnd)


def test_agent_hangup_of_answered_call_hangs_up_caller_with_the_real_cause():
    # Recording b: the callee's ChannelDestroyed carries cause 16.
    session = connected_direct_call()
    actions = core.handle(session, event("ChannelDestroyed", LEG, "Up", cause=16, cause_txt="Normal Clearing"), AT)
    assert Hangup(CALLER, "normal") in actions
    [end] = of(actions, RecordEnd)
    assert (end.disposition, end.hangup_by, end.cause) == ("ANSWERED", "AGENT", 16)
    assert of(actions, Forget)


def test_caller_cancel_while_ringing_withdraws_the_offer_and_frees_the_agent():
    # Recording c: CANCEL shows as cause 127 on the caller's ChannelHangupRequest.
    session = ringing_direct_call()
    actions = core.handle(session, event("ChannelHangupRequest", CALLER, "Ring", cause=127), AT)
    assert Hangup(LEG, "normal") in actions
    assert of(actions, RecordEnd)[0].disposition == "CANCELLED"
    late = core.handle(session, event("ChannelDestroyed", LEG, "Ringing", cause=16, cause_txt="Normal Clearing"), AT)
    assert of(late, RecordOfferEnd)[0].result == "WITHDRAWN"
    assert of(late, AgentState) == [AgentState(7, "READY", only_from=("CALLING",), note="caller left")]


def test_busy_agent_phone_gives_the_caller_busy():
    # Recording d: 486 → ChannelDestroyed cause 17 "User busy".
    session = ringing_direct_call()
    actions = core.handle(session, event("ChannelDestroyed", LEG, "Down", cause=17, cause_txt="User busy"), AT)
    assert of(actions, RecordOfferEnd)[0].result == "BUSY"
    assert Hangup(CALLER, "busy") in actions
    assert of(actions, RecordEnd)[0].disposition == "BUSY"


def test_unregistered_agent_phone_fails_at_once_and_is_marked_unreachable():
    # Recording e: originate → 500 {"error": "Allocation failed"}, no events.
    session = ringing_direct_call()
    actions = core.handle(session, OriginateFailed(LEG, 500, "Allocation failed", AT), AT)
    assert of(actions, core.EndpointUnreachable) == [core.EndpointUnreachable(7)]
    assert Hangup(CALLER, "congestion") in actions
    assert of(actions, RecordEnd)[0].disposition == "FAILED"
    assert of(actions, AgentState)[0].to_state == "READY"


def test_ring_timeout_hangs_up_the_agent_leg_then_tells_the_caller_no_answer():
    # Recording i: DELETE callee?reason=no_answer → ChannelDestroyed cause 19.
    session = ringing_direct_call()
    actions = core.handle(session, TimerFired("ring", AT), AT)
    assert actions[-1] == Hangup(LEG, "no_answer")
    after = core.handle(session, event("ChannelDestroyed", LEG, "Ringing", cause=19, cause_txt="no answer"), AT)
    assert of(after, RecordOfferEnd)[0].result == "NO_ANSWER"
    assert Hangup(CALLER, "no_answer") in after
    assert of(after, RecordEnd)[0].disposition == "NO_ANSWER"


def test_unknown_number_is_refused_as_unallocated():
    session = CallSession(key=CALLER)
    actions = core.handle(session, Incoming(CALLER, "9999", "010", "", Route(kind=RouteKind.UNKNOWN), AT), AT)
    assert Hangup(CALLER, "unallocated") in actions
    assert of(actions, RecordEnd)[0].disposition == "FAILED"


def waiting_queue_call() -> CallSession:
    session = CallSession(key=CALLER)
    core.handle(session, Incoming(CALLER, "5000", "01012345678", "", QUEUE_ROUTE, AT), AT)
    return session


def test_queue_call_is_answered_hears_ringing_and_waits_in_line():
    session = CallSession(key=CALLER)
    actions = core.handle(session, Incoming(CALLER, "5000", "010", "", QUEUE_ROUTE, AT), AT)
    commands = [action for action in actions if not isinstance(action, core.RecordEvent)]
    assert commands[1:4] == [Answer(CALLER), Ring(CALLER), Enqueue(queue_id=3, company_id=1, since=AT)]
    assert core.StartTimer("max_wait", 60) in actions
    assert [event.kind for event in of(actions, core.RecordEvent)] == ["caller_queued"], "on the call's timeline"


def test_missed_queue_offer_pauses_the_agent_and_the_caller_waits_for_the_next():
    session = waiting_queue_call()
    core.handle(session, AgentClaimed(7, "PJSIP/1001", AT), AT)
    core.handle(session, TimerFired("ring", AT), AT)
    actions = core.handle(session, event("ChannelDestroyed", LEG, "Ringing", cause=19, cause_txt="no answer"), AT)
    assert of(actions, AgentState)[0].to_state == "AWAY"
    assert of(actions, Enqueue)
    assert not of(actions, RecordEnd)
    second = core.handle(session, AgentClaimed(8, "PJSIP/1002", AT), AT)
    assert of(second, Originate)[0].channel_id == core.leg_channel_id(CALLER, 2)


def test_caller_leaving_the_queue_is_abandoned():
    session = waiting_queue_call()
    actions = core.handle(session, event("StasisEnd", CALLER, "Up"), AT)
    assert of(actions, core.Dequeue)
    assert of(actions, RecordEnd)[0].disposition == "ABANDONED"


def test_max_wait_ends_the_call_as_abandoned_by_the_system():
    session = waiting_queue_call()
    actions = core.handle(session, TimerFired("max_wait", AT), AT)
    assert Hangup(CALLER, "normal") in actions
    [end] = of(actions, RecordEnd)
    assert (end.disposition, end.hangup_by) == ("ABANDONED", "SYSTEM")


def test_max_wait_while_an_agent_rings_closes_the_offer_and_frees_the_agent_when_the_leg_is_gone():
    session = waiting_queue_call()
    core.handle(session, AgentClaimed(7, "PJSIP/1001", AT), AT)
    actions = core.handle(session, TimerFired("max_wait", AT), AT)
    assert Hangup(LEG, "normal") in actions and not of(actions, core.Forget)
    gone = core.handle(session, event("ChannelDestroyed", LEG, "Ringing", cause=16, cause_txt="Normal Clearing"), AT)
    assert AgentState(7, "READY", only_from=("CALLING",), note="caller left") in gone
    assert of(gone, core.RecordOfferEnd)[0].result == "WITHDRAWN" and of(gone, core.Forget)


OVERFLOW_ROUTE = Route(kind=RouteKind.QUEUE, company_id=1, queue_id=4, ring_timeout=15, wrapup_seconds=5, max_wait=90)
LAST_ROUTE = Route(kind=RouteKind.QUEUE, company_id=1, queue_id=5, max_wait=30)


def waiting_call_that_overflows(route=None) -> CallSession:
    session = CallSession(key=CALLER)
    route = route or replace(QUEUE_ROUTE, overflow=OVERFLOW_ROUTE)
    core.handle(session, Incoming(CALLER, "5000", "01012345678", "", route, AT), AT)
    return session


def test_max_wait_moves_a_waiting_caller_to_the_overflow_queue_keeping_their_place():
    session = waiting_call_that_overflows()
    later = AT + timedelta(seconds=60)
    actions = core.handle(session, TimerFired("max_wait", later), later)
    assert not of(actions, RecordEnd) and not of(actions, Hangup)
    assert of(actions, core.Dequeue)
    assert of(actions, Enqueue) == [Enqueue(queue_id=4, company_id=1, since=AT)]  # ahead of those who called later
    assert core.StartTimer("max_wait", 90) in actions
    assert of(actions, core.RecordOverflow) == [core.RecordOverflow(queue_id=4, from_queue_id=3, at=later)]
    [moved] = of(actions, core.RecordEvent)
    assert (moved.kind, moved.detail) == ("overflowed", {"from_queue": 3, "to_queue": 4, "reason": "max_wait"})
    assert session.route == OVERFLOW_ROUTE and session.phase == core.Phase.WAITING


def test_overflow_follows_the_chain_and_records_the_first_queue_then_ends_at_its_last_max_wait():
    session = waiting_call_that_overflows(replace(QUEUE_ROUTE, overflow=replace(OVERFLOW_ROUTE, overflow=LAST_ROUTE)))
    core.handle(session, TimerFired("max_wait", AT), AT)
    actions = core.handle(session, TimerFired("max_wait", AT), AT)
    assert of(actions, core.RecordOverflow) == [core.RecordOverflow(queue_id=5, from_queue_id=3, at=AT)]
    actions = core.handle(session, TimerFired("max_wait", AT), AT)
    [end] = of(actions, RecordEnd)
    assert (end.disposition, end.cause_text) == ("ABANDONED", "Maximum wait exceeded")


def test_a_ringing_agent_may_still_answer_and_the_caller_moves_on_only_if_they_do_not():
    session = waiting_call_that_overflows()
    core.handle(session, AgentClaimed(7, "PJSIP/1001", AT), AT)
    actions = core.handle(session, TimerFired("max_wait", AT), AT)
    assert not of(actions, Hangup) and not of(actions, core.RecordOverflow)  # the agent's phone keeps ringing
    core.handle(session, TimerFired("ring", AT), AT)
    missed = core.handle(session, event("ChannelDestroyed", LEG, "Ringing", cause=19, cause_txt="no answer"), AT)
    assert of(missed, AgentState)[0].to_state == "AWAY"
    assert of(missed, core.RecordOverflow) and of(missed, Enqueue) == [Enqueue(queue_id=4, company_id=1, since=AT)]

    answered = waiting_call_that_overflows()
    core.handle(answered, AgentClaimed(7, "PJSIP/1001", AT), AT)
    core.handle(answered, TimerFired("max_wait", AT), AT)
    actions = core.handle(answered, event("StasisStart", LEG, "Up"), AT)
    assert of(actions, core.RecordAnswer) and not of(actions, core.RecordOverflow)


def test_a_caller_in_a_queue_nobody_works_moves_on_at_once_unless_an_agent_rings_already():
    session = waiting_call_that_overflows()
    assert core.handle(session, core.QueueUnstaffed(queue_id=99, at=AT), AT) == []  # another queue's news
    actions = core.handle(session, core.QueueUnstaffed(queue_id=3, at=AT), AT)
    assert of(actions, core.RecordOverflow) == [core.RecordOverflow(queue_id=4, from_queue_id=3, at=AT)]
    assert of(actions, core.RecordEvent)[0].detail["reason"] == "unstaffed"
    assert core.handle(session, core.QueueUnstaffed(queue_id=3, at=AT), AT) == []  # moved on already

    ringing = waiting_call_that_overflows()
    core.handle(ringing, AgentClaimed(7, "PJSIP/1001", AT), AT)
    assert core.handle(ringing, core.QueueUnstaffed(queue_id=3, at=AT), AT) == []


def test_a_closed_overflow_queue_takes_no_one_and_the_call_ends_at_the_max_wait():
    closed = OpeningHours(zone="Asia/Seoul", weekly=((),) * 7)  # never open
    session = waiting_call_that_overflows(replace(QUEUE_ROUTE, overflow=replace(OVERFLOW_ROUTE, hours=closed)))
    actions = core.handle(session, TimerFired("max_wait", AT), AT)
    assert of(actions, RecordEnd)[0].disposition == "ABANDONED" and not of(actions, core.RecordOverflow)


def test_a_caller_whose_offer_was_missed_keeps_their_place_in_line():
    session = waiting_queue_call()
    core.handle(session, AgentClaimed(7, "PJSIP/1001", AT), AT)
    later = AT + timedelta(seconds=20)
    actions = core.handle(session, event("ChannelDestroyed", LEG, "Ringing", cause=19, cause_txt="no answer"), later)
    assert of(actions, Enqueue) == [Enqueue(queue_id=3, company_id=1, since=AT)]


def test_a_queue_call_rebuilt_after_a_restart_keeps_its_place_and_the_time_left_of_its_wait():
    # As directory.calls_in_progress rebuilds it from the record: no timers of its own.
    session = CallSession(key=CALLER, caller_channel_id=CALLER, route=QUEUE_ROUTE, phase=core.Phase.WAITING,
                          caller_answered=True, waiting_since=AT,
                          max_wait_until=AT + timedelta(seconds=60))  # fmt: skip
    later = AT + timedelta(seconds=20)
    actions = core.handle(session, Reconciled(frozenset({CALLER}), frozenset(), later), later)
    assert Enqueue(queue_id=3, company_id=1, since=AT) in actions
    assert core.StartTimer("max_wait", 40.0) in actions
    past = AT + timedelta(seconds=90)
    again = core.handle(session, Reconciled(frozenset({CALLER}), frozenset(), past), past)
    assert core.StartTimer("max_wait", 0.0) in again


def test_a_live_call_reconciled_after_its_move_was_due_says_so_once():
    session = waiting_call_that_overflows()
    core.handle(session, AgentClaimed(7, "PJSIP/1001", AT), AT)
    assert of(core.handle(session, TimerFired("max_wait", AT), AT), core.RecordEvent)
    assert core.handle(session, TimerFired("max_wait", AT), AT) == []


def test_claim_arriving_while_the_caller_leaves_gives_the_agent_back():
    session = waiting_queue_call()
    session.caller_gone = True  # the caller's StasisEnd is being handled while the claim is in flight
    actions = core.handle(session, AgentClaimed(7, "PJSIP/1001", AT), AT)
    assert actions == [AgentState(7, "READY", only_from=("CALLING",), note="caller left before ringing")]


def test_events_of_an_ended_call_change_nothing():
    session = connected_direct_call()
    core.handle(session, event("ChannelHangupRequest", CALLER, "Up"), AT)
    core.handle(session, event("ChannelDestroyed", LEG, "Up", cause=16), AT)
    assert core.handle(session, event("ChannelHangupRequest", CALLER, "Up"), AT) == []


@pytest.mark.parametrize(
    ("live", "disposition", "hangups"),
    [
        (frozenset(), "ANSWERED", []),
        (frozenset({CALLER}), "ANSWERED", [Hangup(CALLER, "normal")]),
        (frozenset({LEG}), "ANSWERED", [Hangup(LEG, "normal")]),
    ],
)
def test_reconcile_closes_a_connected_call_whose_side_vanished(live, disposition, hangups):
    session = connected_direct_call()
    actions = core.handle(session, Reconciled(live, frozenset(), AT), AT)
    [end] = of(actions, RecordEnd)
    assert end.reconciled and end.disposition == disposition
    assert of(actions, Hangup) == hangups
    assert of(actions, AgentState)[0].to_state == "POST_PROCESSING"


def test_reconcile_keeps_a_call_whose_channels_are_alive():
    session = connected_direct_call()
    bridge = core.bridge_id_for(CALLER)
    actions = core.handle(session, Reconciled(frozenset({CALLER, LEG}), frozenset({bridge}), AT), AT)
    assert actions == []


def test_reconcile_of_a_ringing_call_whose_caller_vanished_frees_the_agent():
    session = ringing_direct_call()
    actions = core.handle(session, Reconciled(frozenset({LEG}), frozenset(), AT), AT)
    assert Hangup(LEG, "normal") in actions
    assert of(actions, AgentState)[0].to_state == "READY"
    assert of(actions, RecordEnd)[0].reconciled


def test_leg_and_bridge_ids_map_back_to_their_call():
    assert core.call_key_of_leg("pbx-1795591278.2-3") == "1795591278.2"
    assert core.call_key_of_leg("pbx-callback-4f1e-9a-1") == "callback-4f1e-9a"
    assert core.call_key_of_leg("1795591278.2") is None
    assert core.call_key_of_bridge(core.bridge_id_for("1795591278.2")) == "1795591278.2"


def test_queue_call_outside_business_hours_goes_to_the_closed_message_and_ends_as_after_hours():
    from calls.business_hours import OpeningHours

    nine_to_six = OpeningHours(zone="Asia/Seoul", weekly=(((540, 1080),),) * 7)
    closed_route = Route(**{**QUEUE_ROUTE.__dict__, "hours": nine_to_six})
    session = CallSession(key=CALLER)
    # AT is 16:21 in Seoul: open. Five hours later it is 21:21: closed.
    assert of(core.handle(session, Incoming(CALLER, "5000", "010", "", closed_route, AT), AT), Enqueue)
    late = AT.replace(hour=12)
    session = CallSession(key=CALLER)
    actions = core.handle(session, Incoming(CALLER, "5000", "010", "", closed_route, late), late)
    assert of(actions, core.ContinueInDialplan) == [core.ContinueInDialplan(CALLER, core.CLOSED_CONTEXT, "5000")]
    assert not of(actions, Enqueue) and not of(actions, Answer) and not of(actions, Ring)
    [end] = of(actions, RecordEnd)
    assert (end.disposition, end.hangup_by) == ("CLOSED", "SYSTEM")
    assert [e.kind for e in of(actions, core.RecordEvent)] == ["closed"]
    assert of(actions, Forget) and session.ended
    # The StasisEnd that follows the continue changes nothing.
    assert core.handle(session, event("StasisEnd", CALLER, "Ring"), late) == []


def test_a_call_already_up_after_a_restart_is_not_turned_away_at_closing_time():
    from calls.business_hours import OpeningHours

    never_open = Route(**{**QUEUE_ROUTE.__dict__, "hours": OpeningHours(zone="Asia/Seoul", weekly=((),) * 7)})
    session = CallSession(key=CALLER)
    actions = core.handle(session, Incoming(CALLER, "5000", "010", "", never_open, AT, answered=True), AT)
    assert of(actions, Enqueue) and not of(actions, core.ContinueInDialplan)


@pytest.mark.parametrize("route", [AGENT_ROUTE, QUEUE_ROUTE], ids=["direct", "queue"])
def test_a_blocked_caller_is_refused_by_the_dialplan_and_no_agent_is_claimed(route):
    session = CallSession(key=CALLER)
    actions = core.handle(session, Incoming(CALLER, "5000", "010", "", route, AT, blocked=True), AT)
    assert of(actions, core.ContinueInDialplan) == [core.ContinueInDialplan(CALLER, core.BLOCKED_CONTEXT, "5000")]
    assert not of(actions, core.ClaimAgent) and not of(actions, Enqueue) and not of(actions, Answer)
    [end] = of(actions, RecordEnd)
    assert (end.disposition, end.hangup_by) == ("BLOCKED", "SYSTEM")
    assert [e.kind for e in of(actions, core.RecordEvent)] == ["blocked"]
    assert session.ended

"""The call-record writes the telephony writer uses, many calls at once: each call gets its own values, and a write
that comes late (the call moved on) changes nothing."""

from datetime import timedelta

from django.utils import timezone

from calls import services
from calls.models import Call, CallState, Offer, OfferResult


def answered_call(key: str, agent, *, start, talk: int) -> None:
    services.call_start(
        caller_channel_id=key,
        dialed_number=agent.extension,
        caller_number="01012345678",
        caller_name="",
        company_id=agent.company_id,
        queue_id=None,
        agent_id=agent.pk,
        at=start,
    )
    services.call_offer_start(caller_channel_id=key, agent_id=agent.pk, channel_id=f"{key}-leg", at=start)
    services.call_answer(
        caller_channel_id=key,
        agent_id=agent.pk,
        channel_id=f"{key}-leg",
        bridge_id=f"{key}-br",
        at=start + timedelta(seconds=1),
    )
    services.call_end(caller_channel_id=key, disposition="ANSWERED", hangup_by="CALLER", cause=16, cause_text="",
                      at=start + timedelta(seconds=1 + talk))  # fmt: skip


def test_wrap_up_times_of_many_agents_go_to_each_ones_last_answered_call(agent_a, agent_b):
    start = timezone.now() - timedelta(hours=1)
    answered_call("a-old", agent_a, start=start, talk=60)
    answered_call("a-last", agent_a, start=start + timedelta(minutes=5), talk=30)
    answered_call("b-last", agent_b, start=start, talk=45)

    services.calls_wrapup_record({agent_a.pk: 12.3456, agent_b.pk: 4.0})

    wrapups = dict(Call.objects.values_list("caller_channel_id", "wrapup_seconds"))
    assert wrapups == {"a-old": None, "a-last": 12.346, "b-last": 4.0}


def test_a_wrap_up_time_goes_to_the_call_the_engine_names_without_reading_the_last_calls(agent_a, agent_b):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    start = timezone.now() - timedelta(hours=1)
    answered_call("a-1", agent_a, start=start, talk=60)
    answered_call("a-2", agent_a, start=start + timedelta(minutes=5), talk=30)
    answered_call("b-1", agent_b, start=start, talk=45)

    with CaptureQueriesContext(connection) as queries:
        services.calls_wrapup_record({agent_a.pk: 7.0, agent_b.pk: 4.0}, calls={agent_a.pk: "a-1", agent_b.pk: ""})

    wrapups = dict(Call.objects.values_list("caller_channel_id", "wrapup_seconds"))
    assert wrapups == {"a-1": 7.0, "a-2": None, "b-1": 4.0}, "named: that call; not named: the last answered one"
    assert len(queries) == 2, "a read of the last call of the agent without a call, then both updates together"


def test_a_wrap_up_time_already_recorded_is_kept(agent_a):
    answered_call("a-1", agent_a, start=timezone.now(), talk=10)
    services.calls_wrapup_record({agent_a.pk: 5.0})

    services.calls_wrapup_record({agent_a.pk: 99.0})

    assert Call.objects.get().wrapup_seconds == 5.0


def test_ends_of_many_calls_each_keep_their_own_times(agent_a, agent_b):
    start = timezone.now()
    answered_call("a-1", agent_a, start=start, talk=30)
    services.call_start(caller_channel_id="b-1", dialed_number="2000", caller_number="0212345678", caller_name="",
                        company_id=agent_b.company_id, queue_id=None, agent_id=agent_b.pk, at=start)  # fmt: skip

    services.calls_end(
        [
            {"caller_channel_id": "a-1", "disposition": "NO_ANSWER", "hangup_by": "SYSTEM", "cause": 19,
             "cause_text": "late", "at": start + timedelta(minutes=9)},
            {"caller_channel_id": "b-1", "disposition": "ABANDONED", "hangup_by": "CALLER", "cause": 16,
             "cause_text": "Normal Clearing", "at": start + timedelta(seconds=7)},
        ]
    )  # fmt: skip

    first, second = Call.objects.get(caller_channel_id="a-1"), Call.objects.get(caller_channel_id="b-1")
    assert (first.disposition, first.talk_seconds, first.wait_seconds) == ("ANSWERED", 30.0, 1.0)
    assert (second.state, second.disposition, second.wait_seconds, second.talk_seconds) == (
        CallState.ENDED, "ABANDONED", 7.0, None
    )  # fmt: skip


def test_an_offer_end_after_the_answer_keeps_the_answer_and_a_missed_offer_puts_the_queue_call_back(agent_a, queue_a):
    start = timezone.now()
    answered_call("a-1", agent_a, start=start, talk=5)
    services.call_start(caller_channel_id="q-1", dialed_number="7000", caller_number="0212345678", caller_name="",
                        company_id=agent_a.company_id, queue_id=queue_a.pk, agent_id=None, at=start)  # fmt: skip
    services.call_offer_start(caller_channel_id="q-1", agent_id=agent_a.pk, channel_id="q-1-leg", at=start)

    services.offers_end(
        [
            {"channel_id": "a-1-leg", "result": OfferResult.NO_ANSWER, "cause": 16, "at": start},
            {"channel_id": "q-1-leg", "result": OfferResult.NO_ANSWER, "cause": 19, "at": start},
        ]
    )

    assert Offer.objects.get(channel_id="a-1-leg").result == OfferResult.ANSWERED
    missed = Offer.objects.get(channel_id="q-1-leg")
    assert (missed.result, missed.hangup_cause) == (OfferResult.NO_ANSWER, 19)
    assert Call.objects.get(caller_channel_id="q-1").state == CallState.WAITING
    assert Call.objects.get(caller_channel_id="a-1").state == CallState.ENDED


def test_a_missed_offer_seen_again_leaves_the_queue_call_ringing_its_next_agent(agent_a, queue_a):
    """After a reconnect an offer's end may come twice; by then the call rings the next agent (the same one, when
    they are the only one) and must stay ringing: a call goes back to waiting only when it rings nobody."""
    start = timezone.now()
    services.call_start(caller_channel_id="q-1", dialed_number="7000", caller_number="0212345678", caller_name="",
                        company_id=agent_a.company_id, queue_id=queue_a.pk, agent_id=None, at=start)  # fmt: skip
    services.call_offer_start(caller_channel_id="q-1", agent_id=agent_a.pk, channel_id="q-1-first", at=start)
    missed = {"channel_id": "q-1-first", "result": OfferResult.NO_ANSWER, "cause": 19, "at": start}
    services.offers_end([missed])
    assert Call.objects.get(caller_channel_id="q-1").state == CallState.WAITING
    services.call_offer_start(caller_channel_id="q-1", agent_id=agent_a.pk, channel_id="q-1-second", at=start)

    services.offers_end([missed])

    assert Call.objects.get(caller_channel_id="q-1").state == CallState.RINGING
    assert Offer.objects.get(channel_id="q-1-second").result == ""

"""Each routing rule end to end: the telephony task over a real socket to the fake Asterisk, real PostgreSQL."""

from __future__ import annotations

import pytest

from accounts.models import ActivityChange, User
from calls.models import Call, CallEvent, Offer, Queue
from companies.models import PauseReason
from telephony.fake_ari import Phone
from telephony.tests.support import (
    config_for,
    make_call_center,
    overflow_to_backup,
    running_telephony,
    wait_for_db,
)

pytestmark = pytest.mark.django_db(transaction=True)


def the_call() -> Call | None:
    return Call.objects.filter(state="ENDED").select_related("agent", "queue").first()


def state(extension: str) -> str:
    return User.objects.get(extension=extension).activity_state


@pytest.fixture
def center():
    return make_call_center(extensions=["1001", "1002"], queue_number="5000", wrapup=1, ring_timeout=5)


async def test_direct_call_answered_then_caller_hangs_up(fake, center):
    fake.add_endpoint("1001", Phone.answer_after(ms=100))
    fake.add_endpoint("1002", Phone.answer_after(ms=100))
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="1001", caller_number="01012345678")
        await wait_for_db(lambda: state("1001") == "ON_CALL", what="agent on call")
        await call.hangup()
        record = await wait_for_db(the_call, what="call record")
        assert (record.disposition, record.hangup_by, record.agent.extension) == ("ANSWERED", "CALLER", "1001")
        assert record.caller_number == "01012345678"
        assert await wait_for_db(lambda: state("1001") == "READY", what="wrap-up over")
        kinds = await wait_for_db(lambda: list(CallEvent.objects.values_list("kind", flat=True)))
        assert "caller_left" in kinds


async def test_agent_hangs_up_an_answered_call(fake, center):
    fake.add_endpoint("1001", Phone.answer_then_hangup(answer_ms=100, talk_ms=300))
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="1001", caller_number="0212345678")
        record = await wait_for_db(the_call, what="call record")
        assert (record.disposition, record.hangup_by, record.hangup_cause) == ("ANSWERED", "AGENT", 16)
        await wait_for_db(lambda: call.ended.is_set(), what="caller hung up by the product")


async def test_busy_agent_gives_the_caller_busy(fake, center):
    fake.add_endpoint("1001", Phone.busy(after_ms=100))
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="1001", caller_number="0212345678")
        record = await wait_for_db(the_call, what="call record")
        assert record.disposition == "BUSY"
        await wait_for_db(lambda: call.sip_final_response == 486, what="486 to the caller")
        assert await wait_for_db(lambda: state("1001") == "READY")


async def test_agent_who_is_not_ready_is_busy_for_direct_calls(fake, center):
    fake.add_endpoint("1001", Phone.answer_after(ms=100))
    await wait_for_db(lambda: User.objects.filter(extension="1001").update(activity_state="TRAINING"))
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="1001", caller_number="0212345678")
        record = await wait_for_db(the_call, what="call record")
        assert record.disposition == "BUSY"
        await wait_for_db(lambda: call.sip_final_response == 486)
        assert await wait_for_db(lambda: [Offer.objects.count()]) == [0]  # the phone was never rung


async def test_unregistered_agent_fails_and_is_offered_no_calls_until_it_registers(fake, center):
    fake.add_endpoint("1001", Phone.unregistered())
    fake.add_endpoint("1002", Phone.answer_after(ms=100))
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="1001", caller_number="0212345678")
        record = await wait_for_db(the_call, what="call record")
        assert record.disposition == "FAILED"
        await wait_for_db(lambda: call.sip_final_response == 503)
        assert await wait_for_db(lambda: not User.objects.get(extension="1001").endpoint_online)
        fake.set_phone("1001", Phone.answer_after(ms=100))
        fake.set_registered("1001", True)
        assert await wait_for_db(lambda: User.objects.get(extension="1001").endpoint_online, what="registered again")


async def test_no_answer_within_the_ring_timeout_tells_the_caller(fake, center, settings):
    settings.DIRECT_RING_TIMEOUT = 1
    fake.add_endpoint("1001", Phone.never_answer())
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="1001", caller_number="0212345678")
        record = await wait_for_db(the_call, 10, what="call record")
        assert record.disposition == "NO_ANSWER"
        await wait_for_db(lambda: call.sip_final_response == 480)


async def test_unknown_number_is_refused(fake, center):
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="7777", caller_number="0212345678")
        record = await wait_for_db(the_call, what="call record")
        assert record.disposition == "FAILED" and record.company is None
        await wait_for_db(lambda: call.ended.is_set())


async def test_queue_call_goes_to_the_longest_idle_agent(fake, center):
    fake.add_endpoint("1001", Phone.answer_after(ms=100))
    fake.add_endpoint("1002", Phone.answer_after(ms=100))
    # 1002 has been READY longer.
    await wait_for_db(lambda: User.objects.filter(extension="1001").update(activity_changed_at="2026-11-25T09:00Z"))
    await wait_for_db(lambda: User.objects.filter(extension="1002").update(activity_changed_at="2026-11-25T08:00Z"))
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="5000", caller_number="01099998888")
        await wait_for_db(lambda: state("1002") == "ON_CALL", what="1002 takes the call")
        await call.hangup()
        record = await wait_for_db(the_call)
        assert record.disposition == "ANSWERED" and record.queue.number == "5000"
        assert record.wait_seconds is not None and record.wait_seconds >= 0


async def test_max_wait_reached_while_an_agent_rings_frees_the_agent(fake, center):
    from calls.models import Offer, Queue

    fake.add_endpoint("1001", Phone.never_answer())
    await wait_for_db(lambda: Queue.objects.update(max_wait_seconds=1, ring_timeout_seconds=30))
    await wait_for_db(lambda: User.objects.filter(extension="1002").update(activity_state="TRAINING"))
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="5000", caller_number="01099998888")
        await wait_for_db(lambda: state("1001") == "CALLING", 5, what="1001 rings")
        record = await wait_for_db(the_call, 10)
        assert (record.disposition, record.hangup_by) == ("ABANDONED", "SYSTEM")
        assert await wait_for_db(lambda: state("1001") == "READY", 10, what="1001 freed")
        offer = await wait_for_db(lambda: Offer.objects.exclude(result="").first(), 10)
        assert offer.result == "WITHDRAWN" and offer.ended_at is not None
        await wait_for_db(lambda: call.ended.is_set())


async def test_missed_queue_offer_pauses_the_agent_and_the_next_agent_gets_the_call(fake, center):
    fake.add_endpoint("1001", Phone.never_answer())
    fake.add_endpoint("1002", Phone.answer_after(ms=100))
    await wait_for_db(lambda: User.objects.filter(extension="1001").update(activity_changed_at="2026-11-25T08:00Z"))
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="5000", caller_number="01099998888")
        await wait_for_db(lambda: state("1002") == "ON_CALL", 15, what="second agent answers")
        agent = await wait_for_db(lambda: User.objects.filter(extension="1001", activity_state="AWAY").first())
        assert await wait_for_db(
            lambda: PauseReason.objects.get(pk=agent.pause_reason_id).code == PauseReason.Code.MISSED_OFFER
        )
        missed = await wait_for_db(lambda: list(Offer.objects.missed().values_list("agent__extension", flat=True)))
        assert missed == ["1001"]
        await call.hangup()


async def test_caller_leaving_the_queue_is_abandoned(fake, center):
    await wait_for_db(lambda: User.objects.update(activity_state="AWAY"))
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="5000", caller_number="01099998888")
        await wait_for_db(lambda: Call.objects.filter(state="WAITING").exists(), what="waiting in queue")
        await call.hangup()
        record = await wait_for_db(the_call)
        assert (record.disposition, record.hangup_by) == ("ABANDONED", "CALLER")


async def test_agent_becoming_ready_takes_the_longest_waiting_caller_first(fake, center):
    fake.add_endpoint("1001", Phone.answer_after(ms=100))
    await wait_for_db(lambda: User.objects.update(activity_state="AWAY"))
    async with running_telephony(config_for(fake)):
        first = await fake.place_call(exten="5000", caller_number="01011111111")
        await wait_for_db(lambda: Call.objects.filter(state="WAITING").count() == 1)
        second = await fake.place_call(exten="5000", caller_number="01022222222")
        await wait_for_db(lambda: Call.objects.filter(state="WAITING").count() == 2)
        await wait_for_db(lambda: User.objects.filter(extension="1001").update(activity_state="READY"))
        connected = await wait_for_db(
            lambda: Call.objects.filter(state="CONNECTED").first(), what="one caller connected"
        )
        assert connected.caller_number == "01011111111"
        await first.hangup()
        await second.hangup()


async def test_after_this_call_choice_is_applied_when_wrapup_ends(fake, center):
    fake.add_endpoint("1001", Phone.answer_after(ms=100))
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="1001", caller_number="0212345678")
        await wait_for_db(lambda: state("1001") == "ON_CALL")

        def choose_lunch():
            from accounts.services import agent_choose_after_call

            agent = User.objects.get(extension="1001")
            lunch = PauseReason.objects.get(company=agent.company, code="LUNCH")
            return agent_choose_after_call(agent=agent, state="AWAY", pause_reason=lunch)

        await wait_for_db(choose_lunch)
        await call.hangup()
        agent = await wait_for_db(lambda: User.objects.filter(extension="1001", activity_state="AWAY").first(), 10)
        assert await wait_for_db(lambda: PauseReason.objects.get(pk=agent.pause_reason_id).code == "LUNCH")
        wrapup = await wait_for_db(lambda: Call.objects.filter(wrapup_seconds__isnull=False).first())
        assert wrapup.wrapup_seconds >= 0.9


async def test_every_state_change_of_a_call_is_in_the_audit_log(fake, center):
    fake.add_endpoint("1001", Phone.answer_after(ms=100))
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="1001", caller_number="0212345678")
        await wait_for_db(lambda: state("1001") == "ON_CALL")
        await call.hangup()
        await wait_for_db(lambda: state("1001") == "READY")
        moves = await wait_for_db(
            lambda: list(ActivityChange.objects.order_by("changed_at", "id").values_list("from_state", "to_state"))
        )
        assert moves == [("READY", "CALLING"), ("CALLING", "ON_CALL"), ("ON_CALL", "POST_PROCESSING"),
                         ("POST_PROCESSING", "READY")]  # fmt: skip


def _missed_call_and_callback_request():
    from django.utils import timezone

    from calls.services import call_end, call_start
    from calls.services_callbacks import callback_request

    agent = User.objects.get(extension="1001")
    call_start(
        caller_channel_id="missed.1", dialed_number="5000", caller_number="01055556666", caller_name="",
        company_id=agent.company_id, queue_id=None, agent_id=None, at=timezone.now(),
    )  # fmt: skip
    call_end(caller_channel_id="missed.1", disposition="ABANDONED", hangup_by="CALLER", cause=16, cause_text="",
             at=timezone.now())  # fmt: skip
    missed = Call.objects.get(caller_channel_id="missed.1")
    return callback_request(missed_call=missed, agent=agent, requested_by=agent)


async def test_callback_rings_the_agent_then_the_customer_and_is_linked_to_the_missed_call(fake, center):
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    fake.add_endpoint("01055556666", Phone.answer_after(ms=100))  # the customer's phone, dialed as PJSIP/<number>
    async with running_telephony(config_for(fake)):
        callback = await wait_for_db(_missed_call_and_callback_request)
        await wait_for_db(lambda: Call.objects.get(pk=callback.pk).state == "CONNECTED", 15, what="both on the line")
        assert await wait_for_db(lambda: state("1001") == "ON_CALL")
        await fake.endpoint_hangup("01055556666")
        ended = Call.objects.filter(pk=callback.pk, state="ENDED").select_related("callback_of")
        record = await wait_for_db(ended.first, 10)
        assert (record.direction, record.disposition, record.callback_of.caller_channel_id) == (
            "OUTBOUND", "ANSWERED", "missed.1",
        )  # fmt: skip
        assert await wait_for_db(lambda: state("1001") == "READY", 10)


async def test_callback_asked_for_while_no_leader_listened_is_placed_on_connect(fake, center):
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    fake.add_endpoint("01055556666", Phone.answer_after(ms=100))
    callback = await wait_for_db(_missed_call_and_callback_request)  # nobody is connected to hear the request
    async with running_telephony(config_for(fake)):
        await wait_for_db(lambda: Call.objects.get(pk=callback.pk).state == "CONNECTED", 15, what="placed on connect")
        await fake.endpoint_hangup("1001")
        assert await wait_for_db(lambda: Call.objects.filter(pk=callback.pk, disposition="ANSWERED").exists(), 10)


def test_the_directory_routes_every_number_as_a_single_lookup_does():
    from companies.services import company_create
    from telephony import directory

    company, agents, queue = make_call_center(extensions=["1001", "1002"], queue_number="5000")
    closed = company_create(name="Closed Center")
    closed_agent = User.objects.create(username="gone", role="AGENT", company=closed, extension="1003")
    closed.is_active = False
    closed.save()
    User.objects.filter(extension="1002").update(is_active=False)
    everything = directory.routes_all()
    for number in ["1001", "1002", "1003", "5000", "9999"]:
        single = directory.route_for_exten(exten=number)
        assert everything.get(number, single) == single, number
    assert everything["1001"].agent_id == agents[0].pk and everything["5000"].queue_id == queue.pk
    assert "1002" not in everything and closed_agent.extension not in everything


async def test_an_extension_given_after_the_directory_was_read_is_reached_at_once(fake, center):
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    fake.add_endpoint("1009", Phone.answer_after(ms=50))
    async with running_telephony(config_for(fake)):
        first = await fake.place_call(exten="1001", caller_number="0212345678")  # the directory is read now
        await wait_for_db(lambda: state("1001") == "ON_CALL", what="first call answered")
        await first.hangup()
        await wait_for_db(lambda: User.objects.filter(extension="1002").update(extension="1009"))
        second = await fake.place_call(exten="1009", caller_number="0212345679")
        await wait_for_db(lambda: state("1009") == "ON_CALL", what="the new extension rings and answers")
        await second.hangup()


async def test_phones_of_inactive_agents_are_followed_and_callers_endpoints_ignored(fake, center):
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    fake.add_endpoint("1002", Phone.answer_after(ms=50))
    await wait_for_db(lambda: User.objects.filter(extension="1002").update(is_active=False))
    async with running_telephony(config_for(fake)) as service:
        call = await fake.place_call(exten="1001", caller_number="0212345678")  # the directory is read now
        await wait_for_db(lambda: state("1001") == "ON_CALL", what="answered")
        await call.hangup()
        fake.set_registered("1002", False)
        assert await wait_for_db(lambda: not User.objects.get(extension="1002").endpoint_online, what="followed")
        assert service.engine._endpoint_states.get("0212345678") is not None, "the caller's endpoint was seen"


async def test_an_answer_is_recorded_while_a_busy_asterisk_has_not_yet_replied_to_the_bridge_command(fake, center):
    """An event's records go to the database before its commands are sent, so they never wait for Asterisk."""
    fake.add_endpoint("1001", Phone.answer_after(ms=100))
    fake.reply_delays["/addChannel"] = 3.0
    async with running_telephony(config_for(fake)):
        await fake.place_call(exten="1001", caller_number="0212345678")
        await wait_for_db(lambda: Call.objects.filter(state="CONNECTED").exists(), what="the answer recorded")
        assert not [request for request in fake.requests if request["path"].endswith("/addChannel")]


def _queue_hours(*, open_now: bool):
    """Business hours for queue 5000: open all week, or closed all week with today also a closed day."""
    from datetime import timedelta

    from django.utils import timezone

    from calls.models import BusinessHours, Queue

    queue = Queue.objects.get(number="5000")
    always = "00:00-24:00" if open_now else ""
    hours = BusinessHours.objects.create(company=queue.company, name="Weekdays", **dict.fromkeys(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), always))  # fmt: skip
    if not open_now:
        for offset in (-1, 0, 1):
            hours.closed_days.create(day=timezone.now().date() + timedelta(days=offset), name="Holiday")
    queue.business_hours = hours
    queue.save()


async def test_queue_call_outside_business_hours_hears_the_closed_message_and_is_recorded_as_after_hours(fake, center):
    fake.add_endpoint("1001", Phone.answer_after(ms=100))
    await wait_for_db(lambda: _queue_hours(open_now=False) or True)
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="5000", caller_number="0212345678")
        record = await wait_for_db(the_call, what="call record")
        assert (record.disposition, record.hangup_by, record.queue.number) == ("CLOSED", "SYSTEM", "5000")
        assert record.agent is None and record.answered_at is None
        await wait_for_db(lambda: call.ended.is_set(), what="the dialplan hung the caller up")
        assert call.continued_to == ("pbx-queue-closed", "5000", 1)
        assert not call.answered.is_set()  # the message is early media: not answered, not charged
        assert await wait_for_db(lambda: [state("1001"), Offer.objects.count()]) == ["READY", 0]
        assert await wait_for_db(lambda: list(CallEvent.objects.values_list("kind", flat=True))) == ["closed"]


async def test_queue_call_within_business_hours_reaches_an_agent(fake, center):
    fake.add_endpoint("1001", Phone.answer_after(ms=100))
    fake.add_endpoint("1002", Phone.answer_after(ms=100))
    await wait_for_db(lambda: _queue_hours(open_now=True) or True)
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="5000", caller_number="0212345678")
        await wait_for_db(lambda: "ON_CALL" in (state("1001"), state("1002")), what="answered by an agent")
        await call.hangup()
        record = await wait_for_db(the_call, what="call record")
        assert record.disposition == "ANSWERED" and call.continued_to is None


async def test_a_caller_the_dialplan_cannot_take_back_after_hours_is_hung_up_not_left_in_silence(fake, center):
    fake.refusals["/continue"] = (500, "Allocation failed")
    await wait_for_db(lambda: _queue_hours(open_now=False) or True)
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="5000", caller_number="0212345678")
        record = await wait_for_db(the_call, what="call record")
        assert record.disposition == "CLOSED"
        await wait_for_db(lambda: call.ended.is_set(), what="the caller hung up by the product")
        assert call.continued_to is None


@pytest.mark.parametrize("exten", ["1001", "5000"], ids=["direct", "queue"])
async def test_a_blocked_number_is_refused_without_ringing_anyone_and_recorded_as_blocked(fake, center, exten):
    from calls.services_blocking import caller_block

    fake.add_endpoint("1001", Phone.answer_after(ms=100))
    company = await wait_for_db(lambda: Queue.objects.get(number="5000").company)
    await wait_for_db(lambda: caller_block(company=company, number="+82 10-9999-0000", reason="욕설"))
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten=exten, caller_number="01099990000")  # the same number, as dialed at home
        record = await wait_for_db(the_call, what="call record")
        assert (record.disposition, record.hangup_by, record.answered_at) == ("BLOCKED", "SYSTEM", None)
        await wait_for_db(lambda: call.ended.is_set(), what="refused by the dialplan")
        assert call.continued_to == ("pbx-blocked", exten, 1)
        assert (call.sip_final_response, call.answered.is_set()) == (403, False)  # cause 21: call rejected
        assert await wait_for_db(lambda: [state("1001"), Offer.objects.count()]) == ["READY", 0]

        # Another number of the same caller's company is not touched.
        other = await fake.place_call(exten="1001", caller_number="01011112222")
        await wait_for_db(lambda: state("1001") == "ON_CALL", what="an ordinary caller reaches the agent")
        await other.hangup()


async def test_a_block_that_ended_no_longer_refuses(fake, center):
    from datetime import timedelta

    from django.utils import timezone

    from calls.services_blocking import caller_block

    fake.add_endpoint("1001", Phone.answer_after(ms=100))
    company = await wait_for_db(lambda: Queue.objects.get(number="5000").company)
    yesterday = timezone.now() - timedelta(days=1)
    await wait_for_db(lambda: caller_block(company=company, number="010-9999-0000", until=yesterday))
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="1001", caller_number="01099990000")
        await wait_for_db(lambda: state("1001") == "ON_CALL", what="the caller reaches the agent")
        await call.hangup()
        record = await wait_for_db(the_call, what="call record")
        assert record.disposition == "ANSWERED"


async def test_a_caller_past_the_max_wait_moves_to_the_overflow_queue_and_is_answered_there(fake, center):
    _company, _agents, first = center
    fake.add_endpoint("1002", Phone.answer_after(ms=100))
    backup = await wait_for_db(
        lambda: overflow_to_backup(first, number="5001", taken_by="1002", absent="1001", max_wait_seconds=1)
    )
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="5000", caller_number="01099998888")
        await wait_for_db(lambda: state("1002") == "ON_CALL", 10, what="the backup queue's agent answers")
        await call.hangup()
        record = await wait_for_db(lambda: Call.objects.filter(state="ENDED").first(), 10)
        assert (record.disposition, record.queue_id, record.overflowed_from_id) == ("ANSWERED", backup.pk, first.pk)
        assert record.wait_seconds >= 1
        kinds = await wait_for_db(lambda: list(CallEvent.objects.values_list("kind", flat=True)))
        assert "overflowed" in kinds and "max_wait_exceeded" not in kinds


async def test_a_caller_of_a_queue_nobody_works_moves_on_at_once(fake, center):
    _company, _agents, first = center
    fake.add_endpoint("1002", Phone.answer_after(ms=100))
    backup = await wait_for_db(  # the queue's only agent is away
        lambda: overflow_to_backup(
            first, number="5001", taken_by="1002", absent="1001", state="AWAY", overflow_when_unstaffed=True
        )  # fmt: skip
    )
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="5000", caller_number="01099998888")
        await wait_for_db(lambda: state("1002") == "ON_CALL", 5, what="the backup queue's agent answers")
        await call.hangup()
        record = await wait_for_db(lambda: Call.objects.filter(state="ENDED").first(), 10)
        assert (record.queue_id, record.overflowed_from_id) == (backup.pk, first.pk)
        assert record.wait_seconds < 5  # not the first queue's 120 s maximum wait
        moved = await wait_for_db(lambda: CallEvent.objects.filter(kind="overflowed").first())
        assert moved.detail["reason"] == "unstaffed"

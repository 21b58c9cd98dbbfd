"""Every scenario recorded on a real Asterisk 20 (shared/ari-recordings) played through the product: the same phones,
the same caller actions, and the outcome the recording shows (what the caller's phone heard, the causes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calls.models import Call
from telephony.fake_ari import Phone
from telephony.tests.support import config_for, make_call_center, running_telephony, wait_for_db

pytestmark = pytest.mark.django_db(transaction=True)
# The project's copy of shared/ari-recordings (the events and REST exchanges), which the fake is tested against too.
RECORDINGS = Path(__file__).resolve().parents[1] / "fake_ari" / "recordings"

# case → (the agent phone as recorded, what the caller does, disposition, hangup side, the SIP final response the
# recorded caller's phone got, from the recordings' SIPp logs: busy → 486, unregistered → 503, no answer → 480)
SCENARIOS = {
    "a_answered_caller_hangup": (Phone.answer_after(ms=100), "hangup_when_answered", "ANSWERED", "CALLER", None),
    "b_answered_callee_hangup": (
        Phone.answer_then_hangup(answer_ms=100, talk_ms=300), "wait", "ANSWERED", "AGENT", None,
    ),
    "c_caller_cancels_while_ringing": (Phone.never_answer(), "cancel_while_ringing", "CANCELLED", "CALLER", None),
    "d_callee_busy_486": (Phone.busy(after_ms=100), "wait", "BUSY", "SYSTEM", 486),
    "e_unregistered_target": (Phone.unregistered(), "wait", "FAILED", "SYSTEM", 503),
    "i_no_answer_timeout": (Phone.never_answer(), "wait", "NO_ANSWER", "SYSTEM", 480),
}  # fmt: skip
# No call reaches the app in these: h has no app connected (the dialplan's fallback, see the rendered-config
# tests), j is REST probes only (the fake's own tests replay it).
WITHOUT_A_CALL = {"h_no_app_connected", "j_rest_probes"}
# k–n are a, d, c and e again with the endpoint:PJSIP subscription, which the product always holds: the fake
# reproduces that behaviour, so the scenarios above already run the subscribed way.
SUBSCRIBED_REPEATS = {
    "k_subscribed_answered_caller_hangup", "l_subscribed_callee_busy", "m_subscribed_caller_cancels",
    "n_subscribed_unregistered_target",
}  # fmt: skip


def test_every_recorded_scenario_is_played_here():
    recorded = {path.name.removesuffix(".ws.jsonl") for path in RECORDINGS.glob("*.ws.jsonl")}
    assert recorded == set(SCENARIOS) | WITHOUT_A_CALL | SUBSCRIBED_REPEATS


@pytest.mark.parametrize("case", sorted(SCENARIOS))
async def test_recorded_scenario_through_the_product(case, fake, settings):
    phone, caller_action, disposition, hangup_by, heard = SCENARIOS[case]
    settings.DIRECT_RING_TIMEOUT = 2
    await wait_for_db(lambda: make_call_center(extensions=["1001"], wrapup=0))
    fake.add_endpoint("1001", phone)
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="1001", caller_number="1004")
        if caller_action == "hangup_when_answered":
            await wait_for_db(lambda: Call.objects.filter(state="CONNECTED").exists())
            await call.hangup()
        elif caller_action == "cancel_while_ringing":
            await wait_for_db(lambda: Call.objects.filter(state="RINGING").exists())
            await call.hangup()
        record = await wait_for_db(lambda: Call.objects.filter(state="ENDED").first(), 15)
        assert (record.disposition, record.hangup_by) == (disposition, hangup_by)
        if heard is not None:
            # What a real Asterisk made the caller's phone hear for the reason we gave.
            await wait_for_db(lambda: call.sip_final_response == heard, 5, what=f"caller hears {heard}")


def test_recorded_events_carry_the_timestamp_format_the_engine_reads():
    from telephony.engine import parse_ari_time

    first = (RECORDINGS / "a_answered_caller_hangup.ws.jsonl").read_text().splitlines()[0]
    event = json.loads(json.loads(first)["raw"])
    parsed = parse_ari_time(event["timestamp"])
    assert (parsed.year, parsed.microsecond, parsed.utcoffset().total_seconds()) == (2026, 312000, 0)

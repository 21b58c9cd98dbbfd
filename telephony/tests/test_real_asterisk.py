"""The product against a real Asterisk 20 with SIPp phones (shared/asterisk-lab). Skipped where none answers.

Start it with `LAB=/opt/asterisk-lab ../shared/asterisk-lab/start.sh`; its endpoints: 1001 rings SIPp on :5070,
1002 on :5071, 1003 is never registered, 1004 is the caller; `_10XX` goes to Stasis(pbx_ari,${EXTEN}).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import aiohttp
import pytest
from django.utils import timezone

from accounts.models import User
from calls.models import BusinessHours, Call, Queue
from telephony.ari import AriConfig, _basic_auth
from telephony.connection import EVENTS_READ
from telephony.core import CLOSED_CONTEXT
from telephony.tests.support import make_call_center, overflow_to_backup, running_telephony, wait_for_db, wait_until

LAB_CONFIG = AriConfig(host="127.0.0.1", port=8088, user="ari-user", password="ari-secret", app="pbx_ari")
# The lab's build (shared/asterisk-lab/README.md), for the tests that use its console.
LAB = Path(os.environ.get("ASTERISK_LAB", "/opt/asterisk-lab"))
SIPP_DIR = Path(__file__).resolve().parents[3] / "shared" / "asterisk-lab" / "sipp"
needs_the_lab_build = pytest.mark.skipif(
    not (LAB / "inst" / "sbin" / "asterisk").exists(), reason="the lab's build is elsewhere"
)


def _lab_answers() -> bool:
    request = urllib.request.Request("http://127.0.0.1:8088/ari/asterisk/info")
    request.add_header("Authorization", "Basic YXJpLXVzZXI6YXJpLXNlY3JldA==")  # ari-user:ari-secret
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.skipif(
        not _lab_answers() or shutil.which("sipp") is None or not SIPP_DIR.exists(),
        reason="no real Asterisk on 127.0.0.1:8088 (see shared/asterisk-lab)",
    ),
    pytest.mark.django_db(transaction=True),
]


async def sipp(scenario: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        "sipp", "-nostdin", "-i", "127.0.0.1", "-mi", "127.0.0.1", "-timeout", "60s", "-sf", str(SIPP_DIR / scenario),
        *args, cwd="/tmp", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


def phone(scenario: str, port: int, calls: int = 1, trace=None):
    """`trace`: a file that gets every SIP message the phone sent and received."""
    extra = ["-trace_msg", "-message_file", str(trace)] if trace else []
    return sipp(scenario, "-p", str(port), "-mp", str(port + 10000), "-m", str(calls), *extra)


def caller(exten: str, *, scenario="uac_generic.xml", talk_ms=2000, calls=1, rate: int | None = None, trace=None):
    """`trace`: a file that gets every SIP message the caller's phone sent and received."""
    extra = ["-r", str(rate), "-rp", "1000", "-l", str(calls)] if rate else []
    extra += ["-trace_msg", "-message_file", str(trace)] if trace else []
    return sipp(scenario, "-p", "5062", "-mp", "16000", "-s", exten, "-m", str(calls), "-d", str(talk_ms), *extra,
                "127.0.0.1:5060")  # fmt: skip


async def finish(*processes, timeout=60):
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()


def ended(n: int = 1):
    calls = list(Call.objects.filter(state="ENDED").select_related("agent", "queue").order_by("enqueued_at"))
    return calls if len(calls) >= n else None


def state_of(extension: str) -> str:
    return User.objects.get(extension=extension).activity_state


def asterisk_cli(command: str) -> str:
    """One command on the lab Asterisk's console (`asterisk -rx`)."""
    done = subprocess.run(
        [str(LAB / "inst" / "sbin" / "asterisk"), "-C", str(LAB / "etc" / "asterisk.conf"), "-rx", command],
        env={**os.environ, "LD_LIBRARY_PATH": str(LAB / "inst" / "lib")}, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    return done.stdout


def sip_responses(trace: Path) -> list[str]:
    """The status codes of the SIP responses in a SIPp message trace, in order."""
    return re.findall(r"^SIP/2\.0 (\d{3}) ", trace.read_text(errors="replace"), re.MULTILINE)


@pytest.fixture
def call_center():
    return make_call_center(extensions=["1001", "1002", "1003"], queue_number="1050", wrapup=1, ring_timeout=6)


@pytest.fixture
def closed_message_dialplan(settings):
    """[pbx-queue-closed] as asterisk/templates/extensions.conf renders it (less the branch for an empty prompt), added
    to the lab's running dialplan for one test: the lab's extensions.conf only sends _10XX to Stasis, and its
    modules.conf leaves out app_playback, which the product's loads. The lab has no sound files: Playback fails at
    once and Hangup(16) follows."""
    asterisk_cli("module load app_playback.so")
    for line in (
        "1,Log(NOTICE,PBX queue ${EXTEN} is closed: ${CALLERID(num)} hears the closed message)",
        "2,Progress()",
        f"3,Playback({settings.ASTERISK_CLOSED_PROMPT},noanswer)",
        "4,Hangup(16)",
    ):
        asterisk_cli(f'dialplan add extension "_[0-9].,{line}" into {CLOSED_CONTEXT}')
    yield
    asterisk_cli(f"dialplan remove context {CLOSED_CONTEXT}")
    asterisk_cli("module unload app_playback.so")


async def test_answered_call_hung_up_by_the_caller_is_recorded_and_the_agent_wraps_up(call_center):
    async with running_telephony(LAB_CONFIG):
        agent_phone = await phone("uas_answer.xml", 5070)
        customer = await caller("1001", talk_ms=1500)
        [call] = await wait_for_db(ended, 30, what="the call to end")
        await finish(agent_phone, customer)
        assert (call.disposition, call.hangup_by) == ("ANSWERED", "CALLER")
        assert call.talk_seconds >= 1.0 and call.agent.extension == "1001"
        assert await wait_for_db(lambda: state_of("1001") == "READY", 10, what="wrap-up to end")


async def test_answered_call_hung_up_by_the_agent(call_center):
    async with running_telephony(LAB_CONFIG):
        agent_phone = await phone("uas_answer_then_bye.xml", 5071)
        customer = await caller("1002", scenario="uac_wait_bye.xml")
        [call] = await wait_for_db(ended, 30, what="the call to end")
        await finish(agent_phone, customer)
        assert (call.disposition, call.hangup_by, call.hangup_cause) == ("ANSWERED", "AGENT", 16)


async def test_caller_cancelling_while_the_agent_rings_is_cancelled_and_frees_the_agent(call_center):
    async with running_telephony(LAB_CONFIG):
        agent_phone = await phone("uas_ring_forever.xml", 5070)
        customer = await caller("1001", scenario="uac_cancel.xml", talk_ms=1500)
        [call] = await wait_for_db(ended, 30, what="the call to end")
        await finish(agent_phone, customer)
        assert call.disposition == "CANCELLED" and call.hangup_by == "CALLER"
        assert await wait_for_db(lambda: state_of("1001") == "READY", 10)
        [offer] = await wait_for_db(lambda: list(call.offers.exclude(result="")), 10)
        assert offer.result == "WITHDRAWN"


async def test_busy_agent_phone_gives_the_caller_busy(call_center, tmp_path):
    async with running_telephony(LAB_CONFIG):
        agent_phone = await phone("uas_busy.xml", 5071)
        customer = await caller("1002", trace=tmp_path / "caller.log")
        [call] = await wait_for_db(ended, 30, what="the call to end")
        await finish(agent_phone, customer)
        assert call.disposition == "BUSY"
        assert "SIP/2.0 486 Busy Here" in (tmp_path / "caller.log").read_text(errors="replace")


async def test_unregistered_agent_fails_at_once_and_is_marked_offline(call_center, tmp_path):
    async with running_telephony(LAB_CONFIG):
        customer = await caller("1003", trace=tmp_path / "caller.log")
        [call] = await wait_for_db(ended, 30, what="the call to end")
        await finish(customer)
        assert call.disposition == "FAILED"
        assert "SIP/2.0 503 Service Unavailable" in (tmp_path / "caller.log").read_text(errors="replace")
        agent = await wait_for_db(lambda: User.objects.filter(extension="1003", endpoint_online=False).first(), 5)
        assert agent.activity_state == "READY"


async def test_queue_call_reaches_a_ready_agent(call_center):
    async with running_telephony(LAB_CONFIG):
        # 1003 is unregistered (offline after the endpoint sync), 1002's phone is not running: leave only 1001.
        await wait_for_db(lambda: User.objects.filter(extension="1002").update(activity_state="TRAINING"))
        agent_phone = await phone("uas_answer.xml", 5070)
        customer = await caller("1050", talk_ms=1500)
        [call] = await wait_for_db(ended, 40, what="the call to end")
        await finish(agent_phone, customer)
        assert call.disposition == "ANSWERED" and call.queue is not None
        assert call.agent.extension == "1001"


async def test_twenty_calls_at_once_each_reach_the_agent_phone_and_are_recorded_once(call_center):
    async with running_telephony(LAB_CONFIG):
        # Direct calls to 1001, whose SIPp answers many calls: one agent takes one at a time, the rest get busy.
        agent_phone = await phone("uas_answer.xml", 5070, calls=20)
        customer = await caller("1001", talk_ms=1000, calls=20, rate=20)
        calls = await wait_for_db(lambda: ended(20), 60, what="20 calls to end")
        agent_phone.kill()
        await finish(customer, agent_phone)
        assert len(calls) == 20 == len({c.caller_channel_id for c in calls})
        assert {c.disposition for c in calls} <= {"ANSWERED", "BUSY"}
        assert any(c.disposition == "ANSWERED" for c in calls)


async def test_events_socket_cut_mid_call_the_call_is_still_recorded_once(call_center):
    async with running_telephony(LAB_CONFIG) as service:
        agent_phone = await phone("uas_answer.xml", 5070)
        customer = await caller("1001", talk_ms=4000)
        await wait_for_db(lambda: Call.objects.filter(state="CONNECTED").exists(), 20, what="the call to connect")
        await service.connection.drop()
        [call] = await wait_for_db(ended, 30, what="the call to end")
        await finish(agent_phone, customer)
        assert call.disposition == "ANSWERED"
        assert await wait_for_db(Call.objects.count) == 1
        assert await wait_for_db(lambda: state_of("1001") == "READY", 10)


async def test_asterisk_sends_only_the_event_types_the_product_reads(call_center):
    async with running_telephony(LAB_CONFIG) as service:
        app = await service.connection.client.application()
        assert sorted(entry["type"] for entry in app["events_allowed"]) == sorted(EVENTS_READ)
        agent_phone = await phone("uas_answer.xml", 5070)
        customer = await caller("1001", talk_ms=1000)
        [call] = await wait_for_db(ended, 30, what="the call to end")
        await finish(agent_phone, customer)
        assert (call.disposition, call.hangup_by) == ("ANSWERED", "CALLER")
        counters = service.engine.stats.counters
        assert counters["events_received"] >= 6 and counters["events_ignored"] == 0, counters
        # endpoint:PJSIP doubles every channel event, as the same bytes: each copy was dropped unparsed
        assert counters["events_repeated"] > 0, counters


async def test_queue_offer_nobody_answers_pauses_that_agent_and_the_next_agent_takes_the_call(call_center):
    async with running_telephony(LAB_CONFIG):
        # 1001 (idle longest) rings until the queue's 6 s ring timeout; 1002 answers. The queue answers the caller at
        # once, so the caller's 10 s of "talk" include the wait.
        await wait_for_db(lambda: User.objects.filter(extension="1002").update(activity_changed_at=timezone.now()), 5)
        silent_phone = await phone("uas_ring_forever.xml", 5070)
        answering_phone = await phone("uas_answer.xml", 5071)
        customer = await caller("1050", talk_ms=10000)
        [call] = await wait_for_db(ended, 60, what="the call to end")
        await finish(answering_phone, customer, silent_phone)
        assert (call.disposition, call.agent.extension) == ("ANSWERED", "1002")
        offers = await wait_for_db(
            lambda: list(
                call.offers.exclude(result="").order_by("offered_at").values_list("agent__extension", "result")
            )
        )
        assert offers == [("1001", "NO_ANSWER"), ("1002", "ANSWERED")]
        missed = await wait_for_db(lambda: User.objects.select_related("pause_reason").get(extension="1001"))
        assert missed.activity_state == "AWAY" and missed.pause_reason is not None


async def test_queue_caller_who_gives_up_waiting_is_abandoned(call_center):
    async with running_telephony(LAB_CONFIG):
        await wait_for_db(lambda: User.objects.update(activity_state="TRAINING"), 5)
        # The queue answers the caller, who hangs up after waiting 3 s with nobody free.
        customer = await caller("1050", talk_ms=3000)
        [call] = await wait_for_db(ended, 30, what="the call to end")
        await finish(customer)
        assert (call.disposition, call.hangup_by, call.agent) == ("ABANDONED", "CALLER", None)
        assert 2.5 <= call.wait_seconds <= 6


async def test_direct_call_nobody_answers_the_caller_hears_480_and_it_is_recorded(call_center, settings, tmp_path):
    settings.DIRECT_RING_TIMEOUT = 3
    async with running_telephony(LAB_CONFIG):
        agent_phone = await phone("uas_ring_forever.xml", 5070)
        customer = await caller("1001", scenario="uac_wait_bye.xml", trace=tmp_path / "caller.log")
        [call] = await wait_for_db(ended, 30, what="the call to end")
        await finish(agent_phone, customer)
        assert (call.disposition, call.agent.extension) == ("NO_ANSWER", "1001")
        assert "SIP/2.0 480 Temporarily Unavailable" in (tmp_path / "caller.log").read_text(errors="replace")
        assert await wait_for_db(lambda: state_of("1001") == "READY", 10)


async def test_queue_caller_past_the_queues_max_wait_is_hung_up_by_the_system(call_center, tmp_path):
    _company, _agents, queue = call_center
    await wait_for_db(lambda: User.objects.update(activity_state="TRAINING"))
    await wait_for_db(lambda: type(queue).objects.filter(pk=queue.pk).update(max_wait_seconds=3))
    async with running_telephony(LAB_CONFIG):
        customer = await caller("1050", scenario="uac_wait_bye.xml", trace=tmp_path / "caller.log")
        [call] = await wait_for_db(ended, 30, what="the call to end")
        await finish(customer)
        assert (call.disposition, call.hangup_by, call.hangup_cause_text) == (
            "ABANDONED", "SYSTEM", "Maximum wait exceeded",
        )  # fmt: skip
        assert 2.5 <= call.wait_seconds <= 6
        assert "BYE sip:" in (tmp_path / "caller.log").read_text(errors="replace")  # the caller was hung up on


async def test_queue_max_wait_reached_while_an_agent_rings_frees_that_agent(call_center):
    _company, _agents, queue = call_center
    await wait_for_db(lambda: User.objects.exclude(extension="1001").update(activity_state="TRAINING"))
    await wait_for_db(lambda: type(queue).objects.filter(pk=queue.pk).update(max_wait_seconds=3))
    async with running_telephony(LAB_CONFIG):
        silent_phone = await phone("uas_ring_forever.xml", 5070)
        customer = await caller("1050", scenario="uac_wait_bye.xml")
        [call] = await wait_for_db(ended, 30, what="the call to end")
        await finish(customer, silent_phone)
        assert (call.disposition, call.hangup_by) == ("ABANDONED", "SYSTEM")
        assert await wait_for_db(lambda: state_of("1001") == "READY", 10, what="1001 freed")
        offers = await wait_for_db(lambda: list(call.offers.exclude(result="").values_list("result", flat=True)))
        assert offers == ["WITHDRAWN"]


async def test_queue_caller_past_the_max_wait_moves_to_the_overflow_queue_and_its_agent_answers(call_center):
    _company, _agents, queue = call_center
    backup = await wait_for_db(  # nobody in the dialed queue
        lambda: overflow_to_backup(queue, number="1051", taken_by="1001", absent="1002", max_wait_seconds=3)
    )
    async with running_telephony(LAB_CONFIG):
        agent_phone = await phone("uas_answer.xml", 5070)
        customer = await caller("1050", talk_ms=7000)  # answered on arrival: 3 s waiting, then the agent
        [call] = await wait_for_db(ended, 40, what="the call to end")
        await finish(agent_phone, customer)
        assert (call.disposition, call.agent.extension) == ("ANSWERED", "1001")
        assert (call.queue_id, call.overflowed_from_id) == (backup.pk, queue.pk)
        assert 2.5 <= call.wait_seconds <= 6


async def test_queue_nobody_works_passes_its_caller_straight_to_the_overflow_queue(call_center):
    _company, _agents, queue = call_center
    backup = await wait_for_db(
        lambda: overflow_to_backup(
            queue, number="1051", taken_by="1001", absent="1002", state="AWAY", overflow_when_unstaffed=True
        )  # fmt: skip
    )
    async with running_telephony(LAB_CONFIG):
        agent_phone = await phone("uas_answer.xml", 5070)
        customer = await caller("1050", talk_ms=4000)
        [call] = await wait_for_db(ended, 40, what="the call to end")
        await finish(agent_phone, customer)
        assert (call.disposition, call.agent.extension) == ("ANSWERED", "1001")
        assert (call.queue_id, call.overflowed_from_id) == (backup.pk, queue.pk)
        assert call.wait_seconds < 2.5  # not the dialed queue's 120 s maximum wait


def _closed_all_week(queue: Queue) -> BusinessHours:
    hours = BusinessHours.objects.create(company=queue.company, name="Never open")  # every weekday blank: closed
    Queue.objects.filter(pk=queue.pk).update(business_hours=hours)
    return hours


@needs_the_lab_build
async def test_queue_called_outside_its_business_hours_plays_early_media_then_603_and_rings_no_agent(
    call_center, closed_message_dialplan, tmp_path
):
    _company, _agents, queue = call_center
    await wait_for_db(lambda: _closed_all_week(queue))
    async with running_telephony(LAB_CONFIG):
        agent_phone = await phone("uas_answer.xml", 5070, trace=tmp_path / "agent.log")
        customer = await caller("1050", scenario="uac_wait_bye.xml", trace=tmp_path / "caller.log")
        [call] = await wait_for_db(ended, 30, what="the call to end")
        await finish(customer)
        agent_phone.kill()
        await finish(agent_phone)
        assert (call.disposition, call.hangup_by, call.agent) == ("CLOSED", "SYSTEM", None)
        assert await wait_for_db(lambda: [state_of("1001"), call.offers.count()]) == ["READY", 0]
        assert "INVITE sip:" not in (tmp_path / "agent.log").read_text(errors="replace")
        # As the fake has it: the message is early media (183, never answered), then Hangup(16): 603 with cause 16.
        assert sip_responses(tmp_path / "caller.log") == ["100", "183", "603"]
        assert "Reason: Q.850;cause=16" in (tmp_path / "caller.log").read_text(errors="replace")


def _missed_call_from_1002_and_a_callback_by_1001():
    from calls.services import call_end, call_start
    from calls.services_callbacks import callback_request

    agent = User.objects.get(extension="1001")
    call_start(
        caller_channel_id="missed.1", dialed_number="1050", caller_number="1002", caller_name="", at=timezone.now(),
        company_id=agent.company_id, queue_id=None, agent_id=None,
    )  # fmt: skip
    call_end(caller_channel_id="missed.1", disposition="ABANDONED", hangup_by="CALLER", cause=16, cause_text="",
             at=timezone.now())  # fmt: skip
    return callback_request(missed_call=Call.objects.get(caller_channel_id="missed.1"), agent=agent, requested_by=agent)


async def test_callback_rings_the_agents_phone_then_the_customers_and_is_recorded(call_center):
    # The customer who called from "1002" is dialed as PJSIP/1002 (CUSTOMER_ENDPOINT_TEMPLATE), SIPp on :5071.
    agent_phone = await phone("uas_answer.xml", 5070)
    customer_phone = await phone("uas_answer_then_bye.xml", 5071)
    callback = await wait_for_db(_missed_call_from_1002_and_a_callback_by_1001)
    async with running_telephony(LAB_CONFIG):  # placed when the task connects
        record = await wait_for_db(
            lambda: Call.objects.filter(pk=callback.pk, state="ENDED").select_related("callback_of").first(), 40,
            what="the callback to end",
        )  # fmt: skip
        await finish(agent_phone, customer_phone)
        assert (record.direction, record.disposition, record.callback_of.caller_channel_id) == (
            "OUTBOUND", "ANSWERED", "missed.1",
        )  # fmt: skip
        # The customer's SIPp hangs up 4 s after answering; the record's "caller" side is the customer.
        assert (record.hangup_by, record.hangup_cause) == ("CALLER", 16) and 3 <= record.talk_seconds <= 6
        assert await wait_for_db(lambda: state_of("1001") == "READY", 10)


@needs_the_lab_build
async def test_asterisk_restarted_the_product_reconnects_asks_for_its_events_again_and_takes_calls(call_center):
    async with running_telephony(LAB_CONFIG) as service:
        await asyncio.to_thread(asterisk_cli, "core restart now")
        await wait_until(lambda: not service.connection.connected.is_set(), 15, what="the socket to drop")
        await wait_until(lambda: service.engine.stats.counters["reconciles"] >= 2, 60, what="the reconnect")
        app = await service.connection.client.application()
        assert sorted(entry["type"] for entry in app["events_allowed"]) == sorted(EVENTS_READ)
        ignored = service.engine.stats.counters["events_ignored"]
        agent_phone = await phone("uas_answer.xml", 5070)
        customer = await caller("1001", talk_ms=1000)
        [call] = await wait_for_db(ended, 30, what="the call to end")
        await finish(agent_phone, customer)
        assert (call.disposition, call.hangup_by) == ("ANSWERED", "CALLER")
        assert service.engine.stats.counters["events_ignored"] == ignored
        assert await wait_for_db(lambda: state_of("1001") == "READY", 10)


FILTER_REQUESTS = [
    {"allowed": [{"type": "StasisStart"}, {"type": "StasisEnd"}], "disallowed": []},
    {"disallowed": [{"type": "StasisEnd"}]},
    None,
    {"allowed": [{"name": "x"}]},
    {"allowed": {"type": "Dial"}},
    {"allowed": None},
    {"allowed": ["StasisStart"]},
    "StasisStart",
    {"disallowed": [{"type": "Dial"}], "allowed": "all"},
    [{"type": "Dial"}],
    {"allowed": [{"type": "StasisStart", "extra": 1}]},
    {},
]


async def test_the_fakes_event_filter_answers_as_asterisk_does(fake):
    """Request by request, the same status, message and filter lists from the lab's Asterisk and the fake."""

    async def answers(base_url: str, user: str, password: str) -> list:
        headers = {"Authorization": _basic_auth(user, password)}
        got = []
        async with aiohttp.ClientSession(headers=headers) as http:
            socket = await http.ws_connect(base_url.replace("http", "ws") + "/ari/events?app=pbx_ari")
            for body in FILTER_REQUESTS:
                options = {} if body is None else {"json": body}
                async with http.put(f"{base_url}/ari/applications/pbx_ari/eventFilter", **options) as response:
                    answer = await response.json()
                    got.append((response.status, answer.get("message"), answer.get("events_allowed"),
                                answer.get("events_disallowed")))  # fmt: skip
            await socket.close()
        return got

    real = await answers("http://127.0.0.1:8088", "ari-user", "ari-secret")
    assert real == await answers(fake.base_url, "pbx", "secret")
    assert real[-1] == (200, None, [], []), "the lab's app is left with no filter"

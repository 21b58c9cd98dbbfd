"""The Asterisk configuration the product renders, loaded into a real Asterisk 20, with SIPp phones that register and
call with their digest secrets. Skipped where the lab build (shared/asterisk-lab) or sipp is missing, as in CI.

Each test starts its own Asterisk from `render_asterisk_config` plus asterisk/etc/, on ports of its own (SIP 5161,
ARI 8189), so the lab instance and test_real_asterisk.py (5060, 8088) are never in the way.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from calls.models import Call
from telephony.ari import AriClient, AriConfig
from telephony.core import BLOCKED_CONTEXT, CLOSED_CONTEXT
from telephony.tests.support import make_call_center, running_telephony, wait_for_db

# The lab's build (see shared/asterisk-lab/README.md); ASTERISK_LAB points at another build of the same layout.
LAB = Path(os.environ.get("ASTERISK_LAB", "/opt/asterisk-lab"))
INSTALL = LAB / "inst"
ASTERISK = INSTALL / "sbin" / "asterisk"
REPOSITORY = Path(__file__).resolve().parents[2]
SIPP_DIR = Path(__file__).resolve().parent / "sipp"

SIP_PORT, ARI_PORT = 5161, 8189
AGENT_PHONE_PORT, CALLER_PORT, REFUSED_PHONE_PORT = 5171, 5172, 5173

pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.skipif(
        not ASTERISK.exists() or shutil.which("sipp") is None,
        reason=f"no Asterisk build at {INSTALL} or no sipp (see shared/asterisk-lab)",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def sip_secrets():
    """Agents on 1001 and 1002 (each given a SIP secret by user_create) and a queue: extension → secret."""
    _, agents, _ = make_call_center(extensions=["1001", "1002"], queue_number="5000", wrapup=1)
    return {agent.extension: agent.sip_secret for agent in agents}


@pytest.fixture
def ari_config(asterisk_settings) -> AriConfig:
    """The project's defaults (see conftest) on ports of our own; the ARI credentials the renderer writes."""
    asterisk_settings.ARI_PORT = ARI_PORT
    asterisk_settings.ARI_PASS = "rendered-ari-secret"
    asterisk_settings.ASTERISK_SIP_BIND = f"127.0.0.1:{SIP_PORT}"
    return AriConfig.from_settings()


@pytest.fixture
def directory():
    # Not pytest's tmp_path: Asterisk's control socket lives here and a Unix socket path must stay under 108 bytes.
    path = Path(tempfile.mkdtemp(prefix="pbx-asterisk-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def asterisk(sip_secrets, ari_config, directory):
    """Asterisk running the rendered configuration: <directory>/etc/generated/ from the renderer, the static rest
    from asterisk/etc/, run, log, astdb and spool in <directory>. Stopped by PID at the end."""
    etc = directory / "etc"
    call_command("render_asterisk_config", "--output", str(etc / "generated"))
    for conf in (REPOSITORY / "asterisk" / "etc").glob("*.conf"):
        shutil.copy(conf, etc)
    for name in ("run", "log", "db", "spool"):
        (directory / name).mkdir()
    var = INSTALL / "var" / "lib" / "asterisk"
    config = etc / "asterisk.conf"
    config.write_text(
        "[directories]\n"
        f"astetcdir => {etc}\nastmoddir => {INSTALL}/lib/asterisk/modules\nastvarlibdir => {var}\n"
        f"astdbdir => {directory}/db\nastkeydir => {var}\nastdatadir => {var}\nastagidir => {var}/agi-bin\n"
        f"astspooldir => {directory}/spool\nastrundir => {directory}/run\nastlogdir => {directory}/log\n"
        f"astsbindir => {INSTALL}/sbin\n\n[options]\nverbose = 3\n"
    )
    env = {**os.environ, "LD_LIBRARY_PATH": str(INSTALL / "lib")}
    output = directory / "asterisk.out"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [str(ASTERISK), "-f", "-n", "-C", str(config)],
            cwd=directory, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            # `core waitfullybooted` returns once every module is loaded (ARI's HTTP port answers before that).
            booted = subprocess.run(
                [str(ASTERISK), "-C", str(config), "-rx", "core waitfullybooted"],
                env=env, capture_output=True, timeout=20, check=False,
            )  # fmt: skip
            if booted.returncode == 0 and b"fully booted" in booted.stdout:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"Asterisk did not start:\n{last_lines(output)}")
            time.sleep(0.1)
        yield directory
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        print(f"Asterisk's output, last lines:\n{last_lines(output)}")  # shown when the test fails


@pytest.fixture
def sipp(directory):
    """Start SIPp scenarios from telephony/tests/sipp against our Asterisk; whatever still runs is killed at the end."""
    processes: list[subprocess.Popen] = []

    def start(scenario: str, port: int, *args: str, **options) -> subprocess.Popen:
        command = ["sipp", "-nostdin", "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", str(port), "-mp", str(port + 10000),
                   "-sf", str(SIPP_DIR / scenario), "-m", "1", *args, f"127.0.0.1:{SIP_PORT}"]  # fmt: skip
        process = subprocess.Popen(
            command, cwd=directory, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def agent_phone(asterisk, sipp, sip_secrets):
    """1001's phone, registered with its secret; it answers Asterisk's qualify OPTIONS and one call."""
    return sipp("register.xml", AGENT_PHONE_PORT, "-oocsf", str(SIPP_DIR / "phone.xml"), "-s", "1001",
                "-au", "1001", "-ap", sip_secrets["1001"], "-d", "120000", "-timeout", "120s")  # fmt: skip


def call_from_1002(sipp, sip_secrets) -> subprocess.Popen:
    """1002's phone calls 1001, answers the digest challenge with 1002's secret, talks 1 s and hangs up."""
    return sipp("call.xml", CALLER_PORT, "-s", "1001", "-key", "caller", "1002", "-au", "1002",
                "-ap", sip_secrets["1002"], "-d", "1000", "-timeout", "30s")  # fmt: skip


async def exit_status(process: subprocess.Popen, timeout: float = 30) -> int:
    return await asyncio.to_thread(process.wait, timeout)


async def endpoint_state(config: AriConfig, extension: str) -> str:
    client = AriClient(config)
    try:
        return (await client.request("GET", f"/endpoints/PJSIP/{extension}"))["state"]
    finally:
        await client.close()


async def wait_for_endpoint_state(config: AriConfig, extension: str, state: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while (current := await endpoint_state(config, extension)) != state:
        if time.monotonic() > deadline:
            raise AssertionError(f"PJSIP/{extension} stayed {current!r}, expected {state!r}")
        await asyncio.sleep(0.05)


def refused_call_scenario(directory: Path, final: int = 603) -> Path:
    """call.xml up to the answer it waits for, then a final `final` instead, acknowledged: a call that must never be
    answered (a 200 is unexpected, and sipp exits with status 1)."""
    call, answer, _ = (SIPP_DIR / "call.xml").read_text().partition('<recv response="200" rrs="true"/>')
    assert answer, "call.xml no longer waits for the answer as this scenario expects"
    scenario = directory / f"call_refused_{final}.xml"
    scenario.write_text(
        call.replace('<scenario name="call">', '<scenario name="call refused">')
        + f"""<recv response="{final}"/>
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: <sip:[caller]@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
</scenario>
"""
    )
    return scenario


def sip_responses(trace: Path) -> list[str]:
    """The status lines of the SIP responses in a SIPp message trace, in order."""
    return re.findall(r"^SIP/2\.0 (\d{3}) ", trace.read_text(errors="replace"), re.MULTILINE)


async def next_event(events, kind: str, timeout: float = 10) -> dict:
    try:
        async with asyncio.timeout(timeout):
            async for message in events:
                if (event := message.json())["type"] == kind:
                    return event
    except TimeoutError:
        pass
    raise AssertionError(f"no {kind} on the events socket within {timeout} s")


def last_lines(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def ended_call() -> Call | None:
    return Call.objects.filter(state="ENDED").select_related("agent").first()


async def test_every_module_the_static_config_loads_is_running(ari_config, asterisk):
    modules_conf = (REPOSITORY / "asterisk" / "etc" / "modules.conf").read_text(encoding="utf-8")
    wanted = set(re.findall(r"^load\s*=>\s*(\S+)", modules_conf, re.MULTILINE))
    client = AriClient(ari_config)
    try:
        modules = await client.request("GET", "/asterisk/modules")
    finally:
        await client.close()
    running = {module["name"] for module in modules if module["status"] == "Running"}
    assert wanted - running == set()


def test_asterisk_starts_without_a_missing_config_file(asterisk):
    """Every file Asterisk's loaded modules read is shipped: an operator sees no config errors at each start."""
    output = (asterisk / "asterisk.out").read_text(errors="replace")
    complaint = r"(?:Unable to load config file|Could not find valid|Can't find \w+ config file) ?'?([\w.]*)"
    missing = re.findall(complaint, output)
    assert missing == [], missing


def test_asterisk_has_the_korean_call_progress_tones_queue_callers_hear(asterisk):
    """A queue caller is answered and hears ringback generated by Asterisk from the tone zone: without one, silence."""
    config = asterisk / "etc" / "asterisk.conf"
    env = {**os.environ, "LD_LIBRARY_PATH": str(INSTALL / "lib")}
    shown = subprocess.run([str(ASTERISK), "-C", str(config), "-rx", "indication show kr"], env=env,
                           capture_output=True, text=True, timeout=20, check=False)  # fmt: skip
    ring = [line.split() for line in shown.stdout.splitlines() if line.split()[:2] == ["kr", "ring"]]
    assert ring == [["kr", "ring", "440+480/1000,0/2000"]], shown.stdout
    assert "Can't find indications config file" not in (asterisk / "asterisk.out").read_text(errors="replace")


async def test_a_phone_registers_with_its_rendered_secret_and_asterisk_sees_it_online(ari_config, agent_phone):
    await wait_for_endpoint_state(ari_config, "1001", "online")
    assert agent_phone.poll() is None  # registered (a refused REGISTER ends the scenario at once)


async def test_a_phone_with_another_extensions_secret_is_refused(ari_config, asterisk, sipp, sip_secrets):
    # register_refused.xml exits 0 only when the digest answer gets a 401 or 403, not a 200.
    phone = sipp("register_refused.xml", REFUSED_PHONE_PORT, "-s", "1001", "-au", "1001",
                 "-ap", sip_secrets["1002"], "-timeout", "15s")  # fmt: skip
    assert await exit_status(phone) == 0
    assert await endpoint_state(ari_config, "1001") == "offline"


async def test_a_call_between_two_phones_goes_through_the_stasis_app_and_is_recorded(
    ari_config, agent_phone, sipp, sip_secrets
):
    await wait_for_endpoint_state(ari_config, "1001", "online")
    async with running_telephony(ari_config):
        caller = call_from_1002(sipp, sip_secrets)
        call = await wait_for_db(ended_call, 30, what="the call to end")
        assert await exit_status(caller) == 0  # challenged, authenticated, answered, hung up
    assert (call.disposition, call.agent.extension, call.hangup_by) == ("ANSWERED", "1001", "CALLER")


async def test_without_the_application_a_call_rings_the_agent_phone_directly(
    ari_config, asterisk, agent_phone, sipp, sip_secrets
):
    await wait_for_endpoint_state(ari_config, "1001", "online")
    caller = call_from_1002(sipp, sip_secrets)
    # Only 1001's phone answers: the fallback dialplan never answers a call itself.
    assert await exit_status(caller) == 0
    log = (asterisk / "log" / "messages").read_text()
    assert "STASISSTATUS=FAILED): dialing PJSIP/1001 directly" in log


@pytest.mark.parametrize(
    ("context", "responses", "cause", "logged"),
    [
        # Outside business hours: the closed message as early media (no sound files here: Playback fails at once),
        # then cause 16, which PJSIP sends as 603 Decline.
        (CLOSED_CONTEXT, ["401", "100", "183", "603"], 16, "PBX queue 5000 is closed: 1002 hears the closed message"),
        # A blocked number (no message by default): cause 21, call rejected, 403.
        (BLOCKED_CONTEXT, ["401", "100", "403"], 21, "PBX refused 1002 calling 5000: a blocked number"),
    ],
    ids=["closed", "blocked"],
)
async def test_a_caller_continued_into_a_refusing_context_is_told_and_never_answered(
    ari_config, asterisk, sipp, sip_secrets, context, responses, cause, logged
):
    """The test is the ARI app and sends the engine's continue, as for a queue outside its business hours or a
    blocked number; the rendered context logs, tells the caller and hangs up with its cause."""
    trace = asterisk / "caller.log"
    client = AriClient(ari_config)
    # AriClient returns a 204's empty body as None: the status itself is read off its connection pool.
    statuses: list[int] = []
    exchange = client.pool.exchange

    async def exchange_and_record(message: bytes, method: str):
        response = await exchange(message, method)
        statuses.append(response.status)
        return response

    client.pool.exchange = exchange_and_record
    events = await client.connect_events()
    final = int(responses[-1])
    try:
        # An absolute scenario path: the sipp fixture's SIPP_DIR / scenario is then that path.
        caller = sipp(str(refused_call_scenario(asterisk, final)), CALLER_PORT, "-s", "5000", "-key", "caller",
                      "1002", "-au", "1002", "-ap", sip_secrets["1002"], "-trace_msg", "-message_file", str(trace),
                      "-timeout", "30s")  # fmt: skip
        start = await next_event(events, "StasisStart")
        channel_id, [queue_number] = start["channel"]["id"], start["args"]
        assert await client.continue_in_dialplan(channel_id, context, queue_number) is None
        end = await next_event(events, "StasisEnd")
        caller_status = await exit_status(caller)
    finally:
        await events.close()
        await client.close()
    assert (queue_number, statuses, end["channel"]["id"]) == ("5000", [204], channel_id)
    # Challenged, then (early media and) the refusal with the dialplan's cause: never a 200, never answered.
    assert sip_responses(trace) == responses
    assert f"Reason: Q.850;cause={cause}" in trace.read_text(errors="replace").rpartition(f"SIP/2.0 {final} ")[2]
    assert caller_status == 0  # the refusal acknowledged
    log = (asterisk / "log" / "messages").read_text()
    assert logged in log

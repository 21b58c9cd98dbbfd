"""Every recorded real-Asterisk scenario replayed against the fake: same phones, same REST requests at the same points
(driven by the events, as the recorder's Stasis app did), and the fake's events and REST answers compared with the
recording field for field once ids, channel names, timestamps and SIP Call-IDs are normalised."""

from __future__ import annotations

import asyncio
import base64
import difflib
import json
import re
import time
import uuid
from pathlib import Path

import aiohttp
import pytest

from telephony.fake_ari import FakeAsterisk, Phone

RECORDINGS = Path(__file__).resolve().parent.parent / "fake_ari" / "recordings"
APP = "pbx_ari"
USER, PASSWORD = "ari-user", "ari-secret"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")


def load(case: str, kind: str) -> list[dict]:
    path = next(RECORDINGS.glob(f"{case}*.{kind}.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def recorded_events(case: str) -> list[dict]:
    return [json.loads(row["raw"]) for row in sorted(load(case, "ws"), key=lambda row: row["seq"])]


def recorded_rest(case: str) -> list[dict]:
    return sorted(load(case, "rest"), key=lambda row: row["seq"])


# ------------------------------------------------------------------------------------------------ normalising
class Normaliser:
    """Replaces what differs from run to run by stable placeholders, checking its format on the way."""

    def __init__(self):
        self.protocol_ids: dict[str, str] = {}
        self.caller_ids: dict[str, str] = {}
        self.problems: list[str] = []

    def learn(self, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "protocol_id" and item not in self.protocol_ids:
                    self.protocol_ids[item] = f"<call-id-{len(self.protocol_ids) + 1}>"
                elif key == "id" and isinstance(item, str) and re.fullmatch(r"\d+\.\d+", item):
                    self.caller_ids.setdefault(item, f"<uniqueid-{len(self.caller_ids) + 1}>")
                self.learn(item)
        elif isinstance(value, list):
            for item in value:
                self.learn(item)

    def text(self, value: str) -> str:
        if value in self.protocol_ids:
            return self.protocol_ids[value]
        if value in self.caller_ids:
            return self.caller_ids[value]
        value = re.sub(r"(callee|br)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", r"\1-<uuid>", value)
        value = re.sub(r"^(PJSIP/[^-]+)-[0-9a-f]{8}$", r"\1-<seq>", value)
        value = re.sub(r"ssrc=\d+;", "ssrc=<ssrc>;", value)
        for caller_id, placeholder in self.caller_ids.items():
            value = value.replace(caller_id, placeholder)
        return value

    def __call__(self, value, key: str = ""):
        if isinstance(value, dict):
            return {k: self(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self(item) for item in value]
        if key in ("timestamp", "creationtime", "startup_time", "last_reload_time"):
            if not (isinstance(value, str) and TIMESTAMP.match(value)):
                self.problems.append(f"{key} {value!r} is not like 2026-11-25T07:21:18.312+0000")
            return "<timestamp>"
        if isinstance(value, str):
            return self.text(value)
        return value


def normalised(events: list[dict]) -> list[dict]:
    normaliser = Normaliser()
    for event in events:
        normaliser.learn(event)
    result = [normaliser(event) for event in events]
    assert not normaliser.problems, normaliser.problems
    return canonical_races(result)


def canonical_races(events: list[dict]) -> list[dict]:
    """Orders that real Asterisk itself varies between runs (two threads racing), each seen in the recordings, are
    put in one canonical order on both sides; any other difference still fails.

    1. The dial thread's `Dial RINGING` and the channel's `ChannelStateChange Ringing` (i has Dial first, with the peer
       still Down; a, b and c the other way round).
    2. `BridgeDestroyed` and the hung-up caller's `StasisEnd` when the app deletes both at once (d vs e).
    3. The two `ChannelConnectedLine` events of the bridging burst, interleaved with the BRIDGEPEER rounds whose
       snapshots then carry the old or the new connected line (a vs b).
    """
    events = [dict(event) for event in events]
    index = 0
    while index < len(events) - 1:
        first, second = events[index], events[index + 1]
        if (
            first["type"] == "Dial"
            and first.get("dialstatus") == "RINGING"
            and first["peer"]["state"] == "Down"
            and second["type"] == "ChannelStateChange"
            and second["channel"]["id"] == first["peer"]["id"]
            and second["channel"]["state"] == "Ringing"
        ):
            events[index], events[index + 1] = second, {**first, "peer": {**first["peer"], "state": "Ringing"}}
        if first["type"] == "BridgeDestroyed" and second["type"] == "StasisEnd":
            events[index], events[index + 1] = second, first
            index = max(index - 1, 0)
            continue
        index += 1
    burst_types = ("ChannelVarset", "ChannelConnectedLine")
    index = 0
    while index < len(events):
        event = events[index]
        if event["type"] == "ChannelEnteredBridge" and len(event["bridge"]["channels"]) == 2:
            end = index + 1
            while end < len(events) and events[end]["type"] in burst_types and (
                events[end]["type"] == "ChannelConnectedLine" or events[end]["variable"].startswith("BRIDGEP")
            ):  # fmt: skip
                end += 1
            burst = events[index + 1 : end]
            varsets = [{**e, "channel": {k: v for k, v in e["channel"].items() if k != "connected"}}
                       for e in burst if e["type"] == "ChannelVarset"]  # fmt: skip
            lines = sorted((e for e in burst if e["type"] == "ChannelConnectedLine"), key=lambda e: e["channel"]["id"])
            events[index + 1 : end] = varsets + lines
            index = end
        else:
            index += 1
    return events


def assert_same(expected, actual, what: str) -> None:
    if expected == actual:
        return
    left = json.dumps(expected, indent=1, sort_keys=True).splitlines()
    right = json.dumps(actual, indent=1, sort_keys=True).splitlines()
    diff = "\n".join(difflib.unified_diff(left, right, "recorded (real Asterisk)", "fake", lineterm="", n=4))
    pytest.fail(f"{what} differ from the recording:\n{diff[:12000]}")


def event_summary(events: list[dict]) -> list[str]:
    lines = []
    for event in events:
        channel = event.get("channel") or event.get("peer") or {}
        detail = event.get("variable") or event.get("dialstatus") or event.get("cause") or ""
        lines.append(f"{event['type']} {channel.get('id', '')} {channel.get('state', '')} {detail}".strip())
    return lines


# ------------------------------------------------------------------------------------------------ the fake
def lab_asterisk(phones: dict[str, Phone]) -> FakeAsterisk:
    """The lab's pjsip.conf: 1001/1002 with contacts, 1003/1004 without (1004 is the calling phone)."""
    fake = FakeAsterisk(user=USER, password=PASSWORD)
    for resource in ("1001", "1002", "1003", "1004"):
        default = Phone.answer_after(0) if resource in ("1001", "1002") else Phone.unregistered()
        fake.add_endpoint(resource, phones.get(resource, default))
    return fake


@pytest.fixture
async def session():
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    async with aiohttp.ClientSession(headers={"Authorization": f"Basic {token}"}) as http:
        yield http


class RecorderApp:
    """The recorder's Stasis app (README, "The Stasis app logic used while recording"), against the fake."""

    def __init__(self, fake: FakeAsterisk, http: aiohttp.ClientSession, *, ring_timeout: float = 15.0):
        self.fake, self.http, self.ring_timeout = fake, http, ring_timeout
        self.events: list[dict] = []
        self.rest: list[dict] = []
        self.call: dict = {}
        self.milestones: dict[str, asyncio.Event] = {
            name: asyncio.Event() for name in ("ringing", "bridged", "finished")
        }  # fmt: skip
        self.marker = asyncio.Event()
        self.ws = None
        self._reader = None
        self._timer = None

    async def request(self, method: str, path: str, **query) -> dict:
        url = f"{self.fake.base_url}/ari{path}"
        async with self.http.request(method, url, params=query) as response:
            text = await response.text()
            body = json.loads(text) if text and response.content_type == "application/json" else (text or None)
            row = {"method": method, "path": "/ari" + path, "query": query, "status": response.status,
                   "content_type": None if response.status == 204 else response.content_type, "body": body}  # fmt: skip
            self.rest.append(row)
            return row

    async def connect(self) -> None:
        self.ws = await self.http.ws_connect(f"{self.fake.base_url.replace('http', 'ws')}/ari/events?app={APP}"
                                             "&subscribeAll=false")  # fmt: skip
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            event = json.loads(message.data)
            if event.get("type") == "__end_of_scenario__":
                self.marker.set()
                continue
            self.events.append(event)
            await self.handle(event)

    async def close(self) -> None:
        if self._timer:
            self._timer.cancel()
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await self._reader

    async def handle(self, event: dict) -> None:
        kind = event["type"]
        channel = event.get("channel") or {}
        call = self.call
        if kind == "StasisStart" and event["args"] != ["dialed"]:
            exten = event["args"][0]
            key = str(uuid.uuid4())
            call.update(caller=channel["id"], bridge=f"br-{key}", callee=f"callee-{key}")
            await self.request("POST", "/bridges", type="mixing", bridgeId=call["bridge"], name=f"call-{exten}")
            await self.request("POST", f"/bridges/{call['bridge']}/addChannel", channel=call["caller"])
            originate = await self.request("POST", "/channels", endpoint=f"PJSIP/{exten}", app=APP, appArgs="dialed",
                                           channelId=call["callee"])  # fmt: skip
            if originate["status"] >= 300:
                call["done"] = True
                await self.request("DELETE", f"/channels/{call['caller']}", reason="congestion")
                await self.request("DELETE", f"/bridges/{call['bridge']}")
                self.milestones["finished"].set()
            else:
                self._timer = asyncio.get_running_loop().call_later(self.ring_timeout, self._ring_timeout)
            return
        if call.get("done") or not call:
            return
        if kind == "ChannelStateChange" and channel["id"] == call["callee"] and channel["state"] == "Ringing":
            if not call.get("rang"):
                call["rang"] = True
                await self.request("POST", f"/channels/{call['caller']}/ring")
                self.milestones["ringing"].set()
            return
        if kind == "StasisStart" and channel["id"] == call["callee"]:
            call["answered"] = True
            self._timer.cancel()
            await self.request("POST", f"/channels/{call['caller']}/answer")
            await self.request("POST", f"/bridges/{call['bridge']}/addChannel", channel=call["callee"])
            self.milestones["bridged"].set()
            return
        if kind in ("ChannelHangupRequest", "StasisEnd", "ChannelDestroyed") and channel["id"] in (
            call["caller"],
            call["callee"],
        ):
            call["done"] = True
            self._timer.cancel()
            if channel["id"] == call["caller"]:
                await self.request("DELETE", f"/channels/{call['callee']}", reason="normal")
            else:
                await self.request("DELETE", f"/channels/{call['caller']}", reason=reason_for(event.get("cause")))
            await self.request("DELETE", f"/bridges/{call['bridge']}")
            self.milestones["finished"].set()

    def _ring_timeout(self) -> None:
        async def tear_down():
            self.call["done"] = True
            await self.request("DELETE", f"/channels/{self.call['callee']}", reason="no_answer")
            await self.request("DELETE", f"/channels/{self.call['caller']}", reason="no_answer")
            await self.request("DELETE", f"/bridges/{self.call['bridge']}")
            self.milestones["finished"].set()

        if not self.call.get("answered") and not self.call.get("done"):
            self.call["done"] = True
            asyncio.get_running_loop().create_task(tear_down())

    async def settle(self) -> None:
        """Wait until the call is gone from the fake, then until every event it caused has come through the socket
        (a marker frame queued last arrives last)."""
        await wait_for(self.milestones["finished"].wait())
        deadline = time.monotonic() + 10
        while self.fake.channels or self.fake.bridges or self.rest[-1]["path"] != f"/ari/bridges/{self.call['bridge']}":
            assert time.monotonic() < deadline, f"left over: {list(self.fake.channels)} {list(self.fake.bridges)}"
            await asyncio.sleep(0.01)
        await self.fake.send_raw(json.dumps({"type": "__end_of_scenario__"}))
        await wait_for(self.marker.wait())
        await self.request("GET", "/channels")
        await self.request("GET", "/bridges")


def reason_for(cause: int | None) -> str:
    if cause == 17:
        return "busy"
    if cause in (18, 19):
        return "no_answer"
    if cause == 21:
        return "rejected"
    if cause == 1:
        return "unallocated"
    if cause in (34, 38, 41, 42):
        return "congestion"
    return "normal"


async def wait_for(awaitable, timeout: float = 10.0):
    return await asyncio.wait_for(awaitable, timeout)


async def replay(
    case: str, phones: dict[str, Phone], exten: str, session, *, caller_action=None, ring_timeout=15.0,
    watch_endpoints: bool = False,
):  # fmt: skip
    fake = lab_asterisk(phones)
    await fake.start(host="127.0.0.1", port=0)
    app = RecorderApp(fake, session, ring_timeout=ring_timeout)
    try:
        await app.connect()
        if watch_endpoints:  # recordings k to n: the app subscribed to endpoint:PJSIP, as the product does
            # Before those recordings the lab's pbx_ari already held one endpoint:PJSIP subscription (left by an
            # earlier run; Asterisk counts each subscribe), which is why its final unsubscribe still lists PJSIP.
            async with session.post(f"{fake.base_url}/ari/applications/{APP}/subscription",
                                    params={"eventSource": "endpoint:PJSIP"}) as response:  # fmt: skip
                assert response.status == 200
            await app.request("POST", f"/applications/{APP}/subscription", eventSource="endpoint:PJSIP")
        call = await fake.place_call(exten=exten, caller_number="1004", caller_name="Ext 1004", endpoint="1004")
        if caller_action is not None:
            await caller_action(app, call, fake)
        await app.settle()
        if watch_endpoints:
            await app.request("DELETE", f"/applications/{APP}/subscription", eventSource="endpoint:PJSIP")
        return app, call
    finally:
        await app.close()
        await fake.stop()


def compare_with_recording(case: str, app: RecorderApp) -> None:
    expected_events = normalised(recorded_events(case))
    actual_events = normalised(app.events)
    assert_same(event_summary(expected_events), event_summary(actual_events), f"{case}: event types and order")
    assert_same(expected_events, actual_events, f"{case}: events")
    assert_same(normalised_rest(recorded_events(case), recorded_rest(case)), normalised_rest(app.events, app.rest),
                f"{case}: REST requests and answers")  # fmt: skip


def normalised_rest(events: list[dict], rows: list[dict]) -> list[dict]:
    normaliser = Normaliser()
    for item in [*events, *(row["body"] for row in rows)]:
        normaliser.learn(item)
    keys = ("method", "path", "query", "status", "content_type", "body")
    result = [{key: normaliser(row[key], key) for key in keys} for row in rows]
    assert not normaliser.problems, normaliser.problems
    return result


# ------------------------------------------------------------------------------------------------ scenarios
async def test_answered_call_hung_up_by_the_caller_matches_recording_a(session):
    async def caller_hangs_up_after_talking(app, call, fake):
        await wait_for(app.milestones["bridged"].wait())
        await call.hangup()

    app, call = await replay("a_", {"1001": Phone.answer_after(ms=20)}, "1001", session,
                             caller_action=caller_hangs_up_after_talking)  # fmt: skip
    compare_with_recording("a_", app)
    assert call.sip_final_response == 200 and call.answered.is_set() and call.ended.is_set()


async def test_answered_call_hung_up_by_the_agent_matches_recording_b(session):
    async def agent_hangs_up_after_talking(app, call, fake):
        await wait_for(app.milestones["bridged"].wait())
        assert await fake.endpoint_hangup("1002") == 1

    app, call = await replay("b_", {"1002": Phone.answer_after(ms=20)}, "1002", session,
                             caller_action=agent_hangs_up_after_talking)  # fmt: skip
    compare_with_recording("b_", app)
    assert call.sip_final_response == 200 and call.ended.is_set()


async def test_answer_then_hangup_phone_gives_the_same_stream_as_recording_b(session):
    async def nothing_to_do(app, call, fake):
        return None

    app, _call = await replay("b_", {"1002": Phone.answer_then_hangup(answer_ms=20, talk_ms=400)}, "1002", session,
                              caller_action=nothing_to_do)  # fmt: skip
    compare_with_recording("b_", app)


async def test_caller_cancelling_while_the_agent_rings_matches_recording_c(session):
    async def caller_cancels(app, call, fake):
        await wait_for(app.milestones["ringing"].wait())
        await call.hangup()

    app, call = await replay("c_", {"1001": Phone.never_answer()}, "1001", session, caller_action=caller_cancels)
    compare_with_recording("c_", app)
    assert call.sip_final_response == 487 and not call.answered.is_set()


async def test_busy_agent_matches_recording_d_and_the_caller_hears_486(session):
    app, call = await replay("d_", {"1002": Phone.busy(after_ms=20)}, "1002", session)
    compare_with_recording("d_", app)
    assert call.sip_final_response == 486


async def test_unregistered_agent_matches_recording_e_and_the_caller_hears_503(session):
    app, call = await replay("e_", {}, "1003", session)
    compare_with_recording("e_", app)
    assert call.sip_final_response == 503
    failed = next(row for row in app.rest if row["path"] == "/ari/channels" and row["status"] == 500)
    assert failed["body"] == {"error": "Allocation failed"}


async def test_no_answer_timeout_matches_recording_i_and_the_caller_hears_480(session):
    app, call = await replay("i_", {"1001": Phone.never_answer()}, "1001", session, ring_timeout=0.2)
    compare_with_recording("i_", app)
    assert call.sip_final_response == 480


async def test_call_with_no_app_connected_fails_stasis_like_recording_h(session):
    fake = lab_asterisk({"1001": Phone.answer_after(0)})
    await fake.start(host="127.0.0.1", port=0)
    try:
        recorded = recorded_rest("h_")
        async with session.get(f"{fake.base_url}/ari/applications") as response:
            assert (response.status, await response.json()) == (recorded[0]["status"], recorded[0]["body"])
        call = await fake.place_call(exten="1001", caller_number="1004", caller_name="Ext 1004", endpoint="1004")
        assert call.stasis_failed and call.ended.is_set()
        assert call.sip_final_response == 603, "Stasis FAILED, then Hangup() without a cause: 603 Decline"
        async with session.get(f"{fake.base_url}/ari/channels") as response:
            assert (response.status, await response.json()) == (recorded[1]["status"], recorded[1]["body"])
        assert fake.events_sent == 0
    finally:
        await fake.stop()


def _probe_auth(note: str | None) -> dict:
    """The credentials each probe of recording j used, from its note."""
    note = note or ""
    if "bad password" in note:
        return {"Authorization": "Basic " + base64.b64encode(f"{USER}:wrong".encode()).decode()}
    if "no auth" in note or note == "api_key query auth":
        return {}
    return {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}


async def test_every_rest_probe_of_recording_j_gets_the_recorded_status_and_body():
    fake = lab_asterisk({})
    await fake.start(host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as http:
            for row in recorded_rest("j_"):
                if row["method"] not in ("GET", "POST", "DELETE", "PUT"):
                    continue
                note = row["note"] or ""
                url = f"{fake.base_url}{row['path']}"
                async with http.request(row["method"], url, params=row["query"], headers=_probe_auth(note)) as response:
                    text = await response.text()
                    body = json.loads(text) if text else None
                    actual = {"status": response.status, "content_type": response.content_type if text else None,
                              "body": body}  # fmt: skip
                expected = {"status": row["status"], "content_type": row["content_type"], "body": row["body"]}
                what = f"{row['method']} {row['path']} {row['query']} ({note or 'no note'})"
                assert_same(Normaliser()(expected), Normaliser()(actual), what)
    finally:
        await fake.stop()


async def test_events_socket_refusals_and_upgrades_of_recording_j_match():
    fake = lab_asterisk({})
    await fake.start(host="127.0.0.1", port=0)
    compared = ("Server", "Cache-Control", "WWW-Authenticate", "Content-Type", "Content-Length")
    try:
        async with aiohttp.ClientSession() as http:
            for row in recorded_rest("j_"):
                if not row["method"].startswith("GET("):
                    continue
                url = fake.base_url.replace("http://", "ws://") + row["path"].split(":8088", 1)[1]
                headers = _probe_auth(row["note"])
                if row["method"] == "GET(raw upgrade request)":
                    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}  # fmt: skip
                    async with http.get(url.replace("ws://", "http://"), headers={**headers, **upgrade}) as response:
                        assert response.status == row["status"], row["note"]
                        assert await response.text() == row["body"], row["note"]
                        got = {name: response.headers.get(name) for name in compared if name in row["resp_headers"]}
                        want = {name: row["resp_headers"][name] for name in got}
                        assert got == want, row["note"]
                    continue
                if row["status"] == 101:
                    ws = await http.ws_connect(url, headers=headers)
                    await fake.send_raw('{"type":"__probe__"}')
                    first = await ws.receive(timeout=5)
                    assert json.loads(first.data) == {"type": "__probe__"}, "no greeting comes before anything else"
                    await ws.close()
                    continue
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(url, headers=headers)
                assert refused.value.status == row["status"], row["note"]
                got = {name: refused.value.headers.get(name) for name in compared if name in row["resp_headers"]}
                assert got == {name: row["resp_headers"][name] for name in got}, row["note"]
    finally:
        await fake.stop()


# ------------------------------------------------------------------------------------------------ endpoint:PJSIP
# Recorded for this fake on the lab's Asterisk 20.20.1 (same configuration, same recorder logic) with the app also
# subscribed to endpoint:PJSIP, as the product is: the channel topic then reaches the app twice (channel subscription
# and endpoint forward), and the inbound caller's dialplan and ChannelDestroyed arrive after its StasisEnd.
async def test_answered_call_with_endpoint_events_matches_recording_k(session):
    async def caller_hangs_up_after_talking(app, call, fake):
        await wait_for(app.milestones["bridged"].wait())
        await call.hangup()

    app, call = await replay("k_", {"1001": Phone.answer_after(ms=20)}, "1001", session, watch_endpoints=True,
                             caller_action=caller_hangs_up_after_talking)  # fmt: skip
    compare_with_recording("k_", app)
    assert call.sip_final_response == 200


async def test_busy_agent_with_endpoint_events_matches_recording_l(session):
    app, call = await replay("l_", {"1002": Phone.busy(after_ms=20)}, "1002", session, watch_endpoints=True)
    compare_with_recording("l_", app)
    assert call.sip_final_response == 486


async def test_caller_cancelling_with_endpoint_events_matches_recording_m(session):
    async def caller_cancels(app, call, fake):
        await wait_for(app.milestones["ringing"].wait())
        await call.hangup()

    app, call = await replay("m_", {"1001": Phone.never_answer()}, "1001", session, watch_endpoints=True,
                             caller_action=caller_cancels)  # fmt: skip
    compare_with_recording("m_", app)
    assert call.sip_final_response == 487


async def test_unregistered_agent_with_endpoint_events_matches_recording_n(session):
    app, call = await replay("n_", {}, "1003", session, watch_endpoints=True)
    compare_with_recording("n_", app)
    assert call.sip_final_response == 503

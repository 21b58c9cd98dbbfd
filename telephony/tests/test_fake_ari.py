"""The fake Asterisk beyond the recorded scenarios, each behaviour taken from the Asterisk 20.20.1 source: duplicate
channel ids, endpoint registration events, lost sockets, restarts, a second client taking the app, bad requests."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid

import aiohttp
import pytest

from telephony.fake_ari import FakeAsterisk, Phone

AUTH = {"Authorization": "Basic " + base64.b64encode(b"pbx:secret").decode()}


@pytest.fixture
async def http():
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


class Events:
    """One events socket; `until_quiet()` returns what came before a marker frame queued now (so: everything the
    fake had sent up to this moment, and nothing is waited for by sleeping)."""

    def __init__(self, fake: FakeAsterisk, ws):
        self.fake, self.ws = fake, ws
        self.seen: list[dict] = []

    @classmethod
    async def open(cls, fake: FakeAsterisk, http: aiohttp.ClientSession, app: str = "pbx_ari") -> Events:
        ws = await http.ws_connect(fake.base_url.replace("http", "ws") + f"/ari/events?app={app}")
        return cls(fake, ws)

    async def until_quiet(self) -> list[dict]:
        marker = {"type": "__marker__", "id": str(uuid.uuid4())}
        await self.fake.send_raw(json.dumps(marker))
        got = []
        while True:
            message = await self.ws.receive(timeout=5)
            assert message.type == aiohttp.WSMsgType.TEXT, message
            event = json.loads(message.data)
            if event == marker:
                break
            if event.get("type") != "__marker__":  # another socket's marker
                got.append(event)
        self.seen.extend(got)
        return got

    async def wait_for(self, kind: str, **where) -> dict:
        while True:
            message = await self.ws.receive(timeout=5)
            assert message.type == aiohttp.WSMsgType.TEXT, message
            event = json.loads(message.data)
            self.seen.append(event)
            channel = event.get("channel") or event.get("peer") or {}
            if event.get("type") == kind and all(channel.get(k) == v or event.get(k) == v for k, v in where.items()):
                return event


async def rest(http, fake, method: str, path: str, **query):
    async with http.request(method, f"{fake.base_url}/ari{path}", params=query) as response:
        text = await response.text()
        return response.status, (json.loads(text) if text and response.content_type == "application/json" else text)


def types(events: list[dict]) -> list[str]:
    return [event["type"] for event in events]


async def answered_call(fake, http, events, exten="1001"):
    """A caller bridged to the agent's phone, the way the product connects a call."""
    call = await fake.place_call(exten=exten, caller_number="01012345678")
    await events.wait_for("StasisStart")
    assert (await rest(http, fake, "POST", "/bridges", type="mixing", bridgeId="br-1"))[0] == 200
    assert (await rest(http, fake, "POST", "/bridges/br-1/addChannel", channel=call.channel_id))[0] == 204
    status, _ = await rest(http, fake, "POST", "/channels", endpoint=f"PJSIP/{exten}", app="pbx_ari",
                           appArgs="dialed", channelId="agent-leg")  # fmt: skip
    assert status == 200
    await events.wait_for("StasisStart", id="agent-leg")
    assert (await rest(http, fake, "POST", f"/channels/{call.channel_id}/answer"))[0] == 204
    assert (await rest(http, fake, "POST", "/bridges/br-1/addChannel", channel="agent-leg"))[0] == 204
    await events.until_quiet()
    return call


async def test_a_caller_is_connected_once_bridged_with_another_answered_leg(fake, http):
    fake.add_endpoint("1001", Phone.answer_after(ms=0))
    events = await Events.open(fake, http)
    call = await fake.place_call(exten="1001", caller_number="01012345678")
    await events.wait_for("StasisStart")
    await rest(http, fake, "POST", f"/channels/{call.channel_id}/answer")  # a queue's caller: answered, waiting
    await rest(http, fake, "POST", "/bridges", type="mixing", bridgeId="br-1")
    await rest(http, fake, "POST", "/bridges/br-1/addChannel", channel=call.channel_id)
    assert call.answered.is_set() and not call.connected.is_set()  # alone in the bridge: talking to nobody
    await rest(http, fake, "POST", "/channels", endpoint="PJSIP/1001", app="pbx_ari", channelId="agent-leg")
    await events.wait_for("StasisStart", id="agent-leg")
    await rest(http, fake, "POST", "/bridges/br-1/addChannel", channel="agent-leg")
    assert call.connected.is_set()


# ------------------------------------------------------------------------------------------------ originate
async def test_originate_with_a_channel_id_in_use_is_refused_409_and_the_first_leg_keeps_ringing(fake, http):
    fake.add_endpoint("1001", Phone.never_answer())
    events = await Events.open(fake, http)
    status, _ = await rest(http, fake, "POST", "/channels", endpoint="PJSIP/1001", app="pbx_ari", channelId="leg-1")
    assert status == 200
    status, body = await rest(http, fake, "POST", "/channels", endpoint="PJSIP/1001", app="pbx_ari", channelId="leg-1")
    assert (status, body) == (409, {"message": "Channel with given unique ID already exists"})
    assert list(fake.channels) == ["leg-1"]
    assert types(await events.until_quiet()) == ["Dial", "ChannelStateChange", "Dial"], "one phone rings, once"


async def test_a_channel_id_can_be_used_again_once_its_channel_is_gone(fake, http):
    fake.add_endpoint("1001", Phone.busy(after_ms=0))
    events = await Events.open(fake, http)
    await rest(http, fake, "POST", "/channels", endpoint="PJSIP/1001", app="pbx_ari", channelId="leg-1")
    await events.wait_for("ChannelDestroyed", id="leg-1")
    status, body = await rest(http, fake, "POST", "/channels", endpoint="PJSIP/1001", app="pbx_ari", channelId="leg-1")
    assert status == 200 and body["id"] == "leg-1"


async def test_duplicate_id_towards_an_unregistered_phone_fails_with_allocation_first(fake, http):
    """chan_pjsip builds the SIP session (and finds no contact) before the channel, whose id would clash."""
    fake.add_endpoint("1001", Phone.never_answer())
    fake.add_endpoint("1002", Phone.unregistered())
    listening = await Events.open(fake, http)  # held: a collected client socket closes
    await rest(http, fake, "POST", "/channels", endpoint="PJSIP/1001", app="pbx_ari", channelId="leg-1")
    status, body = await rest(http, fake, "POST", "/channels", endpoint="PJSIP/1002", app="pbx_ari", channelId="leg-1")
    assert (status, body) == (500, {"error": "Allocation failed"})
    assert types(await listening.until_quiet()) == ["Dial", "ChannelStateChange", "Dial"], "only leg-1 rings"


async def test_originate_refuses_what_asterisk_refuses(fake, http):
    fake.add_endpoint("1001", Phone.never_answer())
    cases = [
        ({"app": "pbx_ari"}, 400, {"message": "Endpoint must be specified"}),
        ({"endpoint": "PJSIP", "app": "pbx_ari"}, 400, {"message": "Invalid endpoint specified"}),
        ({"endpoint": "PJSIP/1001"}, 400, {"message": "Application or extension must be specified"}),
        ({"endpoint": "PJSIP/1001", "app": "pbx_ari", "channelId": "x" * 150}, 400,
         {"message": "Uniqueid length exceeds maximum of 149"}),
        ({"endpoint": "PJSIP/9999", "app": "pbx_ari"}, 500, {"error": "Allocation failed"}),
        ({"endpoint": "SIP/1001", "app": "pbx_ari"}, 500, {"error": "Allocation failed"}),
    ]  # fmt: skip
    for query, status, body in cases:
        assert await rest(http, fake, "POST", "/channels", **query) == (status, body), query
    assert not fake.channels


async def test_originate_parameters_in_a_json_body_and_caller_id_shown_on_the_leg(fake, http):
    fake.add_endpoint("1001", Phone.never_answer())
    async with http.post(f"{fake.base_url}/ari/channels", json={
        "endpoint": "PJSIP/1001", "app": "pbx_ari", "channelId": "leg-json", "callerId": '"Kim" <01012345678>',
        "variables": {"CALL_ID": "42"},
    }) as response:  # fmt: skip
        body = await response.json()
    assert response.status == 200
    assert body["id"] == "leg-json" and body["state"] == "Down"
    assert body["caller"] == {"name": "Kim", "number": "01012345678"} == body["connected"]
    assert fake.channels["leg-json"].variables["CALL_ID"] == "42"


async def test_dial_timeout_destroys_the_leg_with_cause_19_and_no_hangup_request(fake, http):
    """main/dial.c handle_timeout_trip sets cause 19 and calls ast_hangup: no ChannelHangupRequest, no Dial event."""
    fake.add_endpoint("1001", Phone.never_answer())
    events = await Events.open(fake, http)
    await rest(http, fake, "POST", "/channels", endpoint="PJSIP/1001", app="pbx_ari", channelId="leg-1", timeout="1")
    destroyed = await events.wait_for("ChannelDestroyed", id="leg-1")
    assert (destroyed["cause"], destroyed["cause_txt"], destroyed["tech_cause"]) == (
        19,
        "User alerting, no answer",
        480,
    )
    assert types(events.seen) == ["Dial", "ChannelStateChange", "Dial", "ChannelDestroyed"]


async def test_commands_on_a_leg_that_is_not_in_stasis_or_still_rings_are_refused(fake, http):
    fake.add_endpoint("1001", Phone.never_answer())
    listening = await Events.open(fake, http)  # held: a collected client socket closes
    await rest(http, fake, "POST", "/channels", endpoint="PJSIP/1001", app="pbx_ari", channelId="leg-1")
    expected = (409, {"message": "Channel not in Stasis application"})
    assert await rest(http, fake, "POST", "/channels/leg-1/answer") == expected
    status, body = await rest(http, fake, "POST", "/bridges", bridgeId="b1")
    assert status == 200
    assert await rest(http, fake, "POST", "/bridges/b1/addChannel", channel="leg-1") == (
        422, {"message": "Channel not in Stasis application"})  # fmt: skip
    assert await rest(http, fake, "POST", "/bridges/b1/addChannel", channel="nope") == (
        400, {"message": "Channel not found"})  # fmt: skip
    assert await rest(http, fake, "POST", "/bridges/b1/addChannel") == (400, {"message": "Missing parameter channel"})
    assert await rest(http, fake, "POST", "/bridges", bridgeId="b1") == (
        409, {"message": "Bridge with id 'b1' already exists"})  # fmt: skip
    assert types(await listening.until_quiet()) == ["Dial", "ChannelStateChange", "Dial"], "refusals change nothing"


# ------------------------------------------------------------------------------------------------ hangup reasons
@pytest.mark.parametrize(
    ("reason", "sip"),
    [("busy", 486), ("no_answer", 480), ("congestion", 503), ("normal", 603), ("rejected", 403)],
)
async def test_the_reason_given_to_delete_decides_what_the_waiting_caller_hears(fake, http, reason, sip):
    events = await Events.open(fake, http)
    call = await fake.place_call(exten="5000", caller_number="01012345678")
    await events.wait_for("StasisStart")
    assert (await rest(http, fake, "DELETE", f"/channels/{call.channel_id}", reason=reason))[0] == 204
    hangup = await events.wait_for("ChannelHangupRequest")
    assert (hangup["cause"], hangup["soft"]) == (32, True)
    await asyncio.wait_for(call.ended.wait(), 5)
    assert call.sip_final_response == sip
    assert types(await events.until_quiet()) == ["StasisEnd"], "the caller's ChannelDestroyed is never delivered"


async def test_bad_hangup_reasons_are_refused(fake, http):
    listening = await Events.open(fake, http)  # held: a collected client socket closes
    call = await fake.place_call(exten="5000", caller_number="0212345678")
    path = f"/channels/{call.channel_id}"
    assert await rest(http, fake, "DELETE", path, reason="grumpy") == (
        400, {"message": "Invalid reason for hangup reason provided"})  # fmt: skip
    assert await rest(http, fake, "DELETE", path, reason="busy", reason_code="17") == (
        400, {"message": "The reason and reason_code can't both be specified"})  # fmt: skip
    assert call.channel_id in fake.channels
    assert types(await listening.until_quiet()) == ["StasisStart"]


async def test_waiting_caller_can_hear_ringing_and_music_and_is_answered_only_by_answer(fake, http):
    events = await Events.open(fake, http)
    call = await fake.place_call(exten="5000", caller_number="0212345678")
    await events.wait_for("StasisStart")
    for method, verb in (("POST", "ring"), ("DELETE", "ring"), ("POST", "moh"), ("DELETE", "moh")):
        assert (await rest(http, fake, method, f"/channels/{call.channel_id}/{verb}"))[0] == 204
    await rest(http, fake, "POST", "/bridges", bridgeId="hold")
    await rest(http, fake, "POST", "/bridges/hold/addChannel", channel=call.channel_id)
    assert fake.channels[call.channel_id].state == "Ring", "adding a ringing caller to a bridge does not answer it"
    assert call.sip_provisional == [180] and not call.answered.is_set()
    await rest(http, fake, "POST", f"/channels/{call.channel_id}/answer")
    assert call.answered.is_set() and call.sip_final_response == 200
    assert types(await events.until_quiet()) == ["ChannelEnteredBridge", "ChannelStateChange"]


async def test_continue_hands_the_caller_back_to_the_dialplan_as_the_lab_asterisk_did(fake, http):
    # Asterisk 20.20.1, the closed-hours context (see telephony.core.CLOSED_CONTEXT): 204, StasisEnd, and nothing
    # more for the app unless it follows endpoint:PJSIP; the caller hears 183 and then 603, never answered.
    events = await Events.open(fake, http)
    call = await fake.place_call(exten="5000", caller_number="0212345678")
    await events.wait_for("StasisStart")
    path = f"/channels/{call.channel_id}/continue"
    assert await rest(http, fake, "POST", path, context="pbx-queue-closed", extension="5000", priority="1") == (204, "")
    # Out of Stasis at once, before its StasisEnd was even sent.
    assert await rest(http, fake, "POST", path, context="pbx-queue-closed") == (
        409, {"message": "Channel not in Stasis application"})  # fmt: skip
    await asyncio.wait_for(call.ended.wait(), 5)
    assert types(await events.until_quiet()) == ["StasisEnd"]
    assert call.continued_to == ("pbx-queue-closed", "5000", 1)
    assert (call.sip_provisional, call.sip_final_response, call.answered.is_set()) == ([183], 603, False)
    assert await rest(http, fake, "POST", path) == (404, {"message": "Channel not found"})


async def test_an_app_following_endpoints_sees_the_continued_caller_hung_up_with_cause_16(fake, http):
    events = await Events.open(fake, http)
    await rest(http, fake, "POST", "/applications/pbx_ari/subscription", eventSource="endpoint:PJSIP")
    call = await fake.place_call(exten="5000", caller_number="0212345678")
    await events.wait_for("StasisStart")
    # Asterisk reads the priority as C's atoi, and refuses none.
    assert (await rest(http, fake, "POST", f"/channels/{call.channel_id}/continue", context="pbx-queue-closed",
                       extension="5000", priority="abc"))[0] == 204  # fmt: skip
    destroyed = await events.wait_for("ChannelDestroyed", id=call.channel_id)
    assert (destroyed["cause"], destroyed["cause_txt"]) == (16, "Normal Clearing") and "tech_cause" not in destroyed
    request = next(e for e in events.seen if e["type"] == "ChannelHangupRequest")
    assert (request["cause"], request["soft"], request["channel"]["dialplan"]["app_name"]) == (16, True, "Hangup")
    assert call.continued_to == ("pbx-queue-closed", "5000", 1)


# ------------------------------------------------------------------------------------------------ endpoints
async def test_registration_changes_reach_apps_subscribed_to_pjsip_endpoints_only(fake, http):
    fake.add_endpoint("1001", Phone.answer_after(0))
    subscribed = await Events.open(fake, http, "pbx_ari")
    other = await Events.open(fake, http, "other_app")
    status, app = await rest(http, fake, "POST", "/applications/pbx_ari/subscription", eventSource="endpoint:PJSIP")
    assert status == 200 and app["endpoint_ids"] == ["PJSIP"]
    fake.set_registered("1001", False)
    change = await subscribed.wait_for("EndpointStateChange")
    assert change["endpoint"] == {"technology": "PJSIP", "resource": "1001", "state": "offline", "channel_ids": []}
    assert change["application"] == "pbx_ari"
    assert await rest(http, fake, "GET", "/endpoints/PJSIP/1001") == (200, change["endpoint"])
    assert await rest(http, fake, "POST", "/channels", endpoint="PJSIP/1001", app="pbx_ari") == (
        500, {"error": "Allocation failed"})  # fmt: skip
    fake.set_registered("1001", True)
    assert (await subscribed.wait_for("EndpointStateChange"))["endpoint"]["state"] == "online"
    assert await other.until_quiet() == []
    status, _ = await rest(http, fake, "DELETE", "/applications/pbx_ari/subscription", eventSource="endpoint:PJSIP")
    assert status == 200
    fake.set_registered("1001", False)
    assert await subscribed.until_quiet() == []


async def test_subscription_requests_are_checked_like_asterisk(fake, http):
    listening = await Events.open(fake, http)  # held: a collected client socket closes
    sub = "/applications/pbx_ari/subscription"
    assert await rest(http, fake, "POST", sub) == (400, {"message": "Missing parameter eventSource"})
    assert await rest(http, fake, "POST", sub, eventSource="nonsense") == (
        400, {"message": "Invalid event source URI scheme"})  # fmt: skip
    assert await rest(http, fake, "POST", sub, eventSource="channel:nope") == (
        422, {"message": "Event source does not exist"})  # fmt: skip
    assert await rest(http, fake, "DELETE", sub, eventSource="endpoint:PJSIP") == (
        422, {"message": "Event source was not subscribed to"})  # fmt: skip
    assert await rest(http, fake, "POST", "/applications/nobody/subscription", eventSource="endpoint:PJSIP") == (
        404, {"message": "Application not found"})  # fmt: skip
    assert await listening.until_quiet() == []


# ------------------------------------------------------------------------------------------------ sockets
async def test_events_while_the_socket_is_down_are_dropped_and_subscriptions_survive(fake, http):
    fake.add_endpoint("1001", Phone.answer_after(0))
    events = await Events.open(fake, http)
    await rest(http, fake, "POST", "/applications/pbx_ari/subscription", eventSource="endpoint:PJSIP")
    call = await answered_call(fake, http, events)
    await fake.drop_websockets()
    assert (await events.ws.receive(timeout=5)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert events.ws.close_code == 1006, "cut like a network failure: no close frame"
    assert await fake.endpoint_hangup("1001") == 1  # the agent hangs up while nobody listens
    assert "agent-leg" not in fake.channels
    status, app = await rest(http, fake, "GET", "/applications/pbx_ari")
    assert status == 200 and app["endpoint_ids"] == ["PJSIP"] and app["channel_ids"] == [call.channel_id], app
    again = await Events.open(fake, http)
    assert await again.until_quiet() == [], "nothing is replayed"
    assert call.channel_id in fake.channels and fake.channels[call.channel_id].stasis_app == "pbx_ari"
    fake.set_registered("1001", False)
    assert (await again.wait_for("EndpointStateChange"))["endpoint"]["state"] == "offline"
    await call.hangup()
    after = types(await again.until_quiet())
    assert after[after.index("ChannelLeftBridge") :] == [
        "ChannelLeftBridge", "StasisEnd",  # the caller was still ours
        # and, through endpoint:PJSIP only, the dialplan ending it (recording k)
        "ChannelVarset", "ChannelHangupRequest", "ChannelDestroyed", "EndpointStateChange",
    ]  # fmt: skip


async def test_a_call_arriving_while_no_socket_holds_the_app_fails_stasis(fake, http):
    events = await Events.open(fake, http)
    await events.ws.close()
    await asyncio.wait_for(_until(lambda: not fake.sockets), 5)
    call = await fake.place_call(exten="5000", caller_number="0212345678")
    assert call.stasis_failed and call.sip_final_response == 603 and call.ended.is_set()


async def test_restart_closes_the_sockets_and_forgets_every_channel_and_bridge(fake, http):
    fake.add_endpoint("1001", Phone.answer_after(0))
    events = await Events.open(fake, http)
    await rest(http, fake, "POST", "/applications/pbx_ari/subscription", eventSource="endpoint:PJSIP")
    call = await answered_call(fake, http, events)
    await fake.restart()
    assert (await events.ws.receive(timeout=5)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert call.ended.is_set()
    assert await rest(http, fake, "GET", "/channels") == (200, [])
    assert await rest(http, fake, "GET", "/bridges") == (200, [])
    assert await rest(http, fake, "GET", "/applications/pbx_ari") == (404, {"message": "Application not found"})
    listening = await Events.open(fake, http)  # held: a collected client socket closes
    status, app = await rest(http, fake, "GET", "/applications/pbx_ari")
    assert status == 200 and app["endpoint_ids"] == [], "subscriptions died with the old Asterisk"
    assert await listening.until_quiet() == []


async def test_a_second_socket_for_the_app_replaces_the_first_which_hears_application_replaced(fake, http):
    first = await Events.open(fake, http)
    second = await Events.open(fake, http)
    replaced = await first.wait_for("ApplicationReplaced")
    assert set(replaced) == {"type", "timestamp", "application", "asterisk_id"} and replaced["application"] == "pbx_ari"
    assert not first.ws.closed, "Asterisk leaves the old socket open"
    await fake.place_call(exten="5000", caller_number="0212345678")
    assert types(await second.until_quiet()) == ["StasisStart"]
    assert await first.until_quiet() == []
    await first.ws.close()
    await asyncio.wait_for(_until(lambda: len(fake.sockets) == 1), 5)
    assert (await rest(http, fake, "GET", "/applications/pbx_ari"))[0] == 200, "closing the old one changes nothing"
    await fake.place_call(exten="5001", caller_number="0212345678")
    assert types(await second.until_quiet()) == ["StasisStart"]


async def test_one_socket_can_hold_two_apps_and_events_name_their_app(fake, http):
    both = await Events.open(fake, http, "pbx_ari,other_app")
    await fake.place_call(exten="5000", caller_number="0212345678", app="other_app")
    await fake.place_call(exten="5001", caller_number="0212345679", app="pbx_ari")
    assert [(e["type"], e["application"]) for e in await both.until_quiet()] == [
        ("StasisStart", "other_app"), ("StasisStart", "pbx_ari")]  # fmt: skip


# ------------------------------------------------------------------------------------------------ event filter
async def put_filter(http, fake, body, app="pbx_ari"):
    """PUT /applications/{app}/eventFilter with `body` as its JSON body (no body for None)."""
    url = f"{fake.base_url}/ari/applications/{app}/eventFilter"
    async with http.put(url, **({} if body is None else {"json": body})) as response:
        return response.status, await response.json()


def allowed(*kinds):
    return [{"type": kind} for kind in kinds]


async def test_an_event_filter_keeps_back_the_types_the_app_did_not_ask_for(fake, http):
    fake.add_endpoint("1001", Phone.answer_after(0))
    events = await Events.open(fake, http)
    status, app = await put_filter(http, fake, {"allowed": allowed("StasisStart", "StasisEnd")})
    assert status == 200 and app["name"] == "pbx_ari"
    assert (app["events_allowed"], app["events_disallowed"]) == (allowed("StasisStart", "StasisEnd"), [])
    call = await answered_call(fake, http, events)
    await call.hangup()
    assert types(await events.until_quiet()) == ["StasisEnd"], "the caller left (the agent's leg stays in the bridge)"
    assert set(types(events.seen)) == {"StasisStart", "StasisEnd"}, "no variables, dial steps or bridge entries"

    # A list the body does not name stays as it is; a type in both lists is kept back.
    status, app = await put_filter(http, fake, {"disallowed": allowed("StasisEnd")})
    assert (app["events_allowed"], app["events_disallowed"]) == (
        allowed("StasisStart", "StasisEnd"),
        allowed("StasisEnd"),
    )
    second = await fake.place_call(exten="5000", caller_number="0212345678")
    await second.hangup()
    assert types(await events.until_quiet()) == ["StasisStart"]

    # No body: both lists cleared, every event flows again.
    status, app = await put_filter(http, fake, None)
    assert status == 200 and (app["events_allowed"], app["events_disallowed"]) == ([], [])
    third = await fake.place_call(exten="5001", caller_number="0212345678")
    await third.hangup()
    assert types(await events.until_quiet()) == ["StasisStart", "ChannelHangupRequest", "StasisEnd"]


async def test_event_filter_requests_are_checked_like_asterisk(fake, http):
    """Each answer as Asterisk 20.20.1 gave it in the lab (the filter is not in the recordings)."""
    listening = await Events.open(fake, http)  # held: a collected client socket closes
    assert await put_filter(http, fake, {"allowed": []}, app="nobody") == (404, {"message": "Application not found"})
    invalid = (400, {"message": "Invalid format definition"})
    for body in ({"allowed": [{"name": "StasisStart"}]}, {"allowed": [{"type": ""}]}, {"allowed": {"type": "Dial"}},
                 {"allowed": None}, {"allowed": ["StasisStart"]}):  # fmt: skip
        assert await put_filter(http, fake, body) == invalid, body
    for body in ("StasisStart", 5):  # not even parsed: a request body is an object or an array
        assert await put_filter(http, fake, body) == (400, {"message": "Error parsing request body"}), body
    # res/stasis/app.c sets the disallowed list first and stops at the first bad list: what it set stays.
    assert await put_filter(http, fake, {"disallowed": allowed("Dial"), "allowed": "all"}) == invalid
    status, app = await rest(http, fake, "GET", "/applications/pbx_ari")
    assert (app["events_allowed"], app["events_disallowed"]) == ([], allowed("Dial"))
    # A bare array is taken for both lists; {} clears both, like no body.
    status, app = await put_filter(http, fake, allowed("Dial"))
    assert (app["events_allowed"], app["events_disallowed"]) == (allowed("Dial"), allowed("Dial"))
    status, app = await put_filter(http, fake, {})
    assert (app["events_allowed"], app["events_disallowed"]) == ([], [])
    assert await listening.until_quiet() == []


async def test_the_filter_belongs_to_the_app_and_lives_as_long_as_asterisk_keeps_it(fake, http):
    events = await Events.open(fake, http)
    await rest(http, fake, "POST", "/applications/pbx_ari/subscription", eventSource="endpoint:PJSIP")
    await put_filter(http, fake, {"allowed": allowed("StasisStart")})
    await events.ws.close()
    await asyncio.wait_for(_until(lambda: not fake.sockets), 5)
    again = await Events.open(fake, http)  # the subscription kept the app: the next client inherits its filter
    status, app = await rest(http, fake, "GET", "/applications/pbx_ari")
    assert app["events_allowed"] == allowed("StasisStart")
    await rest(http, fake, "DELETE", "/applications/pbx_ari/subscription", eventSource="endpoint:PJSIP")
    await again.ws.close()
    await asyncio.wait_for(_until(lambda: not fake.sockets), 5)
    listening = await Events.open(fake, http)  # nothing kept the app this time: a new one, with no filter
    status, app = await rest(http, fake, "GET", "/applications/pbx_ari")
    assert (app["events_allowed"], app["events_disallowed"]) == ([], [])
    assert await listening.until_quiet() == []


# ------------------------------------------------------------------------------------------------ malformed input
async def test_malformed_requests_get_asterisks_errors(fake, http):
    base = f"{fake.base_url}/ari"
    async with http.post(f"{base}/channels", data=b"{not json", headers={"Content-Type": "application/json"}) as r:
        assert (r.status, await r.json()) == (400, {"message": "Error parsing request body"})
    assert await rest(http, fake, "GET", "/channels/") == (
        404, {"message": "ARI URLs do not end with a slash. Try /ari/channels"})  # fmt: skip
    async with http.patch(f"{base}/channels") as r:
        assert (r.status, await r.json()) == (405, {"message": "Invalid method"})
        assert r.headers["Allow"] == "OPTIONS,GET,POST"
    assert await rest(http, fake, "PUT", "/channels") == (405, {"message": "Invalid method"})
    assert await rest(http, fake, "GET", "/channels/x/variable") == (400, {"message": "Variable name is required"})
    async with (
        aiohttp.ClientSession(headers={"Authorization": "Basic !!!notbase64"}) as other,
        other.get(f"{base}/channels") as r,
    ):
        assert (r.status, await r.json()) == (401, {"message": "Authentication required"})
        assert r.headers["WWW-Authenticate"] == 'Basic realm="Asterisk REST Interface"'


async def test_asterisk_resources_the_product_reads(fake, http):
    status, info = await rest(http, fake, "GET", "/asterisk/info")
    assert status == 200 and info["system"] == {"version": "20.20.1", "entity_id": "02:fc:00:00:00:01"}
    status, ping = await rest(http, fake, "GET", "/asterisk/ping")
    assert status == 200 and ping["ping"] == "pong"
    status, modules = await rest(http, fake, "GET", "/asterisk/modules")
    assert status == 200 and "res_pjsip.so" in [module["name"] for module in modules]
    assert await rest(http, fake, "PUT", "/asterisk/modules/res_pjsip.so") == (204, "")
    assert await rest(http, fake, "PUT", "/asterisk/modules/res_nothing.so") == (
        404, {"message": "Module not found in running modules"})  # fmt: skip
    async with (
        aiohttp.ClientSession() as anonymous,
        anonymous.get(f"{fake.base_url}/ari/asterisk/info", params={"api_key": "pbx:secret"}) as r,
    ):
        assert r.status == 200


async def _until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(0.01)


async def test_originate_with_caller_id_as_a_lab_queue_call_showed_it_to_an_endpoint_watcher(fake, http):
    """Seen on the lab Asterisk 20.20.1 (app subscribed to endpoint:PJSIP, callerId on the originate): the new leg is
    created with the endpoint's own caller id, then takes the given one (ChannelCallerId, ChannelConnectedLine),
    all before the originate subscribes the app to it; from the Dial on, each event comes twice."""
    fake.add_endpoint("1001", Phone.never_answer())
    events = await Events.open(fake, http)
    await rest(http, fake, "POST", "/applications/pbx_ari/subscription", eventSource="endpoint:PJSIP")
    status, leg = await rest(http, fake, "POST", "/channels", endpoint="PJSIP/1001", app="pbx_ari", channelId="leg-1",
                             callerId='"Ext 1004" <1004>', timeout="20")  # fmt: skip
    assert status == 200
    assert leg["caller"] == leg["connected"] == {"name": "Ext 1004", "number": "1004"}
    got = await events.until_quiet()
    assert types(got) == [
        "EndpointStateChange", "ChannelCreated", "ChannelDialplan", "ChannelCallerId", "ChannelConnectedLine",
        "Dial", "Dial", "ChannelStateChange", "ChannelStateChange", "Dial", "Dial",
    ]  # fmt: skip
    assert got[0]["endpoint"]["channel_ids"] == ["leg-1"]
    created = got[1]["channel"]
    assert created["protocol_id"] == "" and created["caller"] == {"name": "Ext 1001", "number": "1001"}
    assert created["dialplan"] == {"context": "from-internal", "exten": "s", "priority": 1, "app_name": "",
                                   "app_data": ""}  # fmt: skip
    assert got[3]["caller_presentation_txt"] == "Presentation Allowed, Not Screened"
    assert got[4]["channel"]["connected"] == {"name": "Ext 1004", "number": "1004"}


async def test_an_endpoints_channel_ids_list_its_live_channels_oldest_first(fake, http):
    """Every EndpointStateChange and GET /endpoints carries the endpoint's channels: a second leg joins the list
    after the first, and a leg that is gone leaves it."""
    fake.add_endpoint("1001", Phone.never_answer())
    fake.add_endpoint("1002", Phone.never_answer())
    events = await Events.open(fake, http)
    await rest(http, fake, "POST", "/applications/pbx_ari/subscription", eventSource="endpoint:PJSIP")
    for leg, endpoint in (("leg-1", "PJSIP/1001"), ("other", "PJSIP/1002"), ("leg-2", "PJSIP/1001")):
        status, _ = await rest(http, fake, "POST", "/channels", endpoint=endpoint, app="pbx_ari", channelId=leg)
        assert status == 200
    changes = [e["endpoint"] for e in await events.until_quiet() if e["type"] == "EndpointStateChange"]
    assert [c["channel_ids"] for c in changes if c["resource"] == "1001"] == [["leg-1"], ["leg-1", "leg-2"]]

    assert (await rest(http, fake, "DELETE", "/channels/leg-1"))[0] == 204
    changes = [e["endpoint"] for e in await events.until_quiet() if e["type"] == "EndpointStateChange"]
    assert [c["channel_ids"] for c in changes] == [["leg-2"]]
    status, endpoint = await rest(http, fake, "GET", "/endpoints/PJSIP/1001")
    assert status == 200 and endpoint["channel_ids"] == ["leg-2"]
    assert (await rest(http, fake, "GET", "/endpoints/PJSIP/1002"))[1]["channel_ids"] == ["other"]


async def test_clean_drop_closes_the_socket_with_a_close_frame(fake, http):
    events = await Events.open(fake, http)
    await fake.drop_websockets(clean=True)
    assert (await events.ws.receive(timeout=5)).type == aiohttp.WSMsgType.CLOSE
    assert not fake.sockets and fake.active_app("pbx_ari") is None


async def test_korean_caller_names_travel_as_utf8_like_asterisks_json(fake, http):
    events = await Events.open(fake, http)
    await fake.place_call(exten="5000", caller_number="01012345678", caller_name="김민지")
    message = await events.ws.receive(timeout=5)
    assert '"caller":{"name":"김민지","number":"01012345678"}' in message.data
    status, channels = await rest(http, fake, "GET", "/channels")
    assert status == 200 and channels[0]["caller"]["name"] == "김민지"

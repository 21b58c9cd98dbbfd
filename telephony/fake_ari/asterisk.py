"""The fake Asterisk's call engine: channels, bridges, Stasis apps and the events they send, as Asterisk 20.20.1 does.

Every state change happens on the event loop, synchronously, and the events it causes are queued on the app's
WebSocket in the order they were made, so a test sees one deterministic stream. The order and the fields follow the
recordings in recordings/ (a-j from ../shared/ari-recordings, k-n recorded for this module with the app also
subscribed to endpoint:PJSIP, see recordings/SUBSCRIBED.md); where no recording exists, the 20.20.1 source.

Who gets a channel's events: the app it is in Stasis with, apps that originated it (until it is destroyed), and, once
more, apps subscribed to its PJSIP endpoint; so a Stasis app that also follows endpoint:PJSIP gets them twice, and
sees the caller's ChannelDestroyed that it otherwise never gets.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass, field

from telephony.fake_ari.apps import AppSocket, StasisApp
from telephony.fake_ari.model import (
    ASTERISK_ID,
    BRIDGE_TECHNOLOGY,
    HANGUP_REASONS,
    QOS_VALUES,
    Bridge,
    Channel,
    cause_text,
    cause_to_sip,
    dial_status_for_cause,
    parse_caller_id,
    timestamp,
)
from telephony.fake_ari.phones import Phone

logger = logging.getLogger(__name__)

CONTEXT = "from-internal"
EXPLICIT_SOFTHANGUP = 32  # AST_SOFTHANGUP_EXPLICIT: what ChannelHangupRequest.cause says after an ARI DELETE


class AriProblem(Exception):
    """A REST command refused the way Asterisk refuses it: status and JSON body."""

    def __init__(self, status: int, message: str, *, key: str = "message"):
        super().__init__(message)
        self.status, self.body = status, {key: message}


def allocation_failed() -> AriProblem:
    return AriProblem(500, "Allocation failed", key="error")


@dataclass
class Endpoint:
    resource: str
    phone: Phone
    callerid_name: str
    registered: bool

    def snapshot(self, channel_ids: list[str]) -> dict:
        return {
            "technology": "PJSIP",
            "resource": self.resource,
            "state": "online" if self.registered else "offline",
            "channel_ids": channel_ids,
        }


@dataclass
class InboundCall:
    """A caller's phone: what it heard from Asterisk, and its own hangup."""

    asterisk: FakeAsterisk
    channel_id: str
    exten: str
    caller_number: str
    caller_name: str
    app: str
    stasis_failed: bool = False
    sip_final_response: int | None = None
    sip_provisional: list[int] = field(default_factory=list)
    # Where POST /channels/{id}/continue sent it back in the dialplan: (context, extension, priority).
    continued_to: tuple[str, str, int] | None = None
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    # Set once the caller is bridged with another answered leg: talking to someone (a queue's caller is answered
    # first and waits; this is when an agent takes the call).
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def channel(self) -> Channel | None:
        return self.asterisk.channels.get(self.channel_id)

    async def hangup(self) -> None:
        """The caller hangs up: BYE once answered, CANCEL while it still rings."""
        self.asterisk.caller_hangup(self)


class FakeAsterisk:
    """An Asterisk 20 with PJSIP endpoints driven by scripted phones, spoken to over ARI (see server.py)."""

    def __init__(self, user: str = "asterisk", password: str = "asterisk", *, context: str = CONTEXT):
        self.user, self.password, self.context = user, password, context
        self.endpoints: dict[str, Endpoint] = {}
        self.channels: dict[str, Channel] = {}
        # endpoint resource -> ids of its channels, oldest first (an endpoint's channel_ids): every channel event
        # reports them, and scanning every channel for them cost the bench's PBX a tenth of its CPU.
        self.channels_of_endpoint: dict[str, dict[str, None]] = {}
        self.bridges: dict[str, Bridge] = {}
        self.apps: dict[str, StasisApp] = {}
        self.sockets: list[AppSocket] = []
        self.requests: list[dict] = []
        # A busy Asterisk: REST requests whose path ends with a key get their reply that many seconds late.
        self.reply_delays: dict[str, float] = {}
        # A failing Asterisk: REST requests whose path ends with a key get that status and message, and do nothing.
        self.refusals: dict[str, tuple[int, str]] = {}
        self.calls: list[InboundCall] = []
        # How long the message a caller hears back in the dialplan (after POST /continue) plays before Hangup().
        self.dialplan_message_ms = 200
        # The cause the dialplan a continued caller goes on in hangs up with (Hangup(N)), by context; others: 16.
        self.dialplan_hangup_causes: dict[str, int] = {"pbx-blocked": 21}
        self.events_sent = 0
        self.started_at = time.time()
        self.reloaded_at = self.started_at
        self._sequence = itertools.count(1)
        self.random = random.Random()
        self._site = None
        self._runner = None
        self.base_url = ""

    # ----------------------------------------------------------------------------------------------- server
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        from telephony.fake_ari.server import start_server

        return await start_server(self, host, port)

    async def stop(self) -> None:
        await self.drop_websockets()
        for channel in list(self.channels.values()):
            self._cancel_timers(channel)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def drop_websockets(self, *, clean: bool = False) -> None:
        """Cut every events socket as a network failure or a crash does (the client sees no close frame: 1006), or
        close it properly with clean=True. Apps are deactivated; events while nobody listens are dropped."""
        sockets, self.sockets = self.sockets, []
        for socket in sockets:
            self._detach_socket(socket)
            socket.queue.put_nowait(None)
            if clean:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await socket.ws.close()
            elif socket.transport is not None:
                socket.transport.abort()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await asyncio.gather(*(s.closed.wait() for s in sockets))

    async def restart(self) -> None:
        """Asterisk restarts: sockets closed, every channel, bridge and app subscription gone."""
        await self.drop_websockets()
        for channel in list(self.channels.values()):
            self._cancel_timers(channel)
            channel.gone = True
            if channel.call is not None:
                channel.call.ended.set()
        self.channels.clear()
        self.channels_of_endpoint.clear()
        self.bridges.clear()
        self.apps.clear()
        self.started_at = self.reloaded_at = time.time()

    async def send_raw(self, frame: str) -> None:
        """Send any text frame to every events socket (tests: garbage on the wire)."""
        for socket in self.sockets:
            socket.send(frame)

    # ----------------------------------------------------------------------------------------------- endpoints
    def add_endpoint(self, resource: str, phone: Phone | None = None, *, callerid_name: str | None = None) -> None:
        phone = phone or Phone.answer_after(0)
        name = f"Ext {resource}" if callerid_name is None else callerid_name
        self.endpoints[resource] = Endpoint(resource, phone, name, registered=phone.registered)

    def set_phone(self, resource: str, phone: Phone) -> None:
        endpoint = self.endpoints[resource]
        endpoint.phone = phone
        if phone.registered != endpoint.registered:
            self.set_registered(resource, phone.registered)

    def set_registered(self, resource: str, registered: bool) -> None:
        """The phone registers or its contact expires: EndpointStateChange to apps subscribed to the endpoint."""
        endpoint = self.endpoints[resource]
        if endpoint.registered == registered:
            return
        endpoint.registered = registered
        if not registered and endpoint.phone.registered:
            endpoint.phone = Phone.unregistered()
        elif registered and not endpoint.phone.registered:
            endpoint.phone = Phone.never_answer()
        self._endpoint_changed(resource)

    def endpoint_json(self, endpoint: Endpoint) -> dict:
        return endpoint.snapshot(list(self.channels_of_endpoint.get(endpoint.resource, ())))

    # ----------------------------------------------------------------------------------------------- events
    def _send_to_app(self, app_name: str, event: dict, copies: int = 1) -> None:
        app = self.apps.get(app_name)
        if app is None or app.socket is None:
            return  # "Inactive Stasis app missed message": dropped, never replayed
        if not app.sends(event):
            return  # the app's event filter keeps it back (res/ari/ari_websockets.c)
        # jansson with JSON_COMPACT and no JSON_ENSURE_ASCII: raw UTF-8, e.g. Korean caller names unescaped
        event = {**event, "asterisk_id": ASTERISK_ID, "application": app_name}
        frame = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
        for _ in range(copies):
            app.socket.send(frame)
        self.events_sent += copies

    def _emit(self, apps: set[str], event: dict) -> None:
        for app in sorted(apps):
            self._send_to_app(app, event)

    def _channel_event(self, channel: Channel, kind: str, before: dict | None = None, **after) -> None:
        """A message on the channel's own topic (state, variables, dialplan, hangup, destroy)."""
        event = dict(before or {})
        event.update({"type": kind, "timestamp": timestamp()})
        event.update(after)
        event["channel"] = channel.snapshot()
        self._emit_channel_topic(channel, event)

    def _stasis_event(self, channel: Channel, kind: str, **after) -> None:
        """StasisStart/StasisEnd go to the app itself, not through the channel's topic: never doubled."""
        event = {"type": kind, "timestamp": timestamp(), **after, "channel": channel.snapshot()}
        self._emit(channel.apps, event)

    def _emit_channel_topic(self, channel: Channel, event: dict) -> None:
        """The channel's topic reaches an app through its channel subscription and, separately, through an
        endpoint:PJSIP subscription (the channel topic is forwarded to its endpoint's, and that to the technology's).
        An app with both gets the event twice, as Asterisk 20.20.1 does (recordings k to n)."""
        subscribed = channel.apps
        for name, app in sorted(self.apps.items()):
            copies = (name in subscribed) + app.watches(channel.endpoint)
            if copies:
                self._send_to_app(name, event, copies)

    def _endpoint_changed(self, resource: str) -> None:
        """EndpointStateChange to apps watching this endpoint (channel_ids changed, or its registration)."""
        watchers = [name for name, app in sorted(self.apps.items()) if app.watches(resource)]
        if not watchers:
            return
        endpoint = self.endpoints.get(resource)
        snapshot = self.endpoint_json(endpoint) if endpoint else self._trunk_json(resource)
        event = {"type": "EndpointStateChange", "timestamp": timestamp(), "endpoint": snapshot}
        for name in watchers:
            self._send_to_app(name, event)

    def _trunk_json(self, resource: str) -> dict:
        channel_ids = list(self.channels_of_endpoint.get(resource, ()))
        return {"technology": "PJSIP", "resource": resource, "state": "online", "channel_ids": channel_ids}

    def _varset(self, channel: Channel, variable: str, value: str) -> None:
        channel.variables[variable] = value
        self._channel_event(channel, "ChannelVarset", {"variable": variable, "value": value})

    def _state(self, channel: Channel, state: str) -> None:
        if channel.state != state:
            channel.state = state
            self._channel_event(channel, "ChannelStateChange")

    def _dial(self, channel: Channel, status: str) -> None:
        event = {"type": "Dial", "timestamp": timestamp(), "dialstatus": status, "forward": "",
                 "dialstring": channel.endpoint, "peer": channel.snapshot()}  # fmt: skip
        self._emit_channel_topic(channel, event)

    def _bridge_event(self, kind: str, bridge: Bridge, channel: Channel | None = None) -> None:
        event = {"type": kind, "timestamp": timestamp(), "bridge": bridge.snapshot()}
        apps = set(bridge.apps)
        if channel is not None:
            event["channel"] = channel.snapshot()
            apps |= channel.apps
        self._emit(apps, event)

    # ----------------------------------------------------------------------------------------------- sockets
    def attach_socket(self, socket: AppSocket) -> None:
        for name in socket.apps:
            app = self.apps.setdefault(name, StasisApp(name))
            old = app.socket
            if old is not None and old is not socket:
                # res/stasis/app.c app_update: the old socket is told and loses this app's events; it stays open.
                self._send_to_app(name, {"type": "ApplicationReplaced", "timestamp": timestamp()})
                if name in old.apps:
                    old.apps.remove(name)
            app.socket = socket
        self.sockets.append(socket)

    def _detach_socket(self, socket: AppSocket) -> None:
        for name in socket.apps:
            app = self.apps.get(name)
            if app is not None and app.socket is socket:
                app.socket = None
                self._forget_app_if_unused(name)
        if socket in self.sockets:
            self.sockets.remove(socket)

    def socket_closed(self, socket: AppSocket) -> None:
        self._detach_socket(socket)
        socket.queue.put_nowait(None)

    def _forget_app_if_unused(self, name: str) -> None:
        app = self.apps.get(name)
        if app is None or app.socket is not None or app.endpoint_subscriptions:
            return
        if any(name in ch.apps for ch in self.channels.values()):
            return
        if any(name in br.apps for br in self.bridges.values()):
            return
        del self.apps[name]

    def active_app(self, name: str) -> StasisApp | None:
        app = self.apps.get(name)
        return app if app is not None and app.socket is not None else None

    # ----------------------------------------------------------------------------------------------- channels
    def _next_sequence(self) -> int:
        return next(self._sequence)

    def _cancel_timers(self, channel: Channel) -> None:
        for handle in channel.timers:
            handle.cancel()
        channel.timers.clear()

    def _later(self, channel: Channel, ms: int, callback, *args) -> None:
        loop = asyncio.get_running_loop()
        channel.timers.append(loop.call_later(ms / 1000, self._guarded, channel, callback, *args))

    def _soon(self, channel: Channel, callback, *args) -> None:
        channel.timers.append(asyncio.get_running_loop().call_soon(self._guarded, channel, callback, *args))

    def _guarded(self, channel: Channel, callback, *args) -> None:
        if not channel.gone:
            callback(channel, *args)

    async def place_call(
        self, *, exten: str, caller_number: str, caller_name: str = "", app: str | None = None,
        endpoint: str | None = None,
    ) -> InboundCall:  # fmt: skip
        """A call enters `Stasis(app, exten)` from the dialplan, as `[from-internal] exten => _X.,n,Stasis(...)`."""
        app_name = app or self._default_app()
        sequence = self._next_sequence()
        now = time.time()
        channel = Channel(
            id=f"{int(now)}.{sequence}",
            name=f"PJSIP/{endpoint or caller_number}-{sequence:08x}",
            state="Ring",
            protocol_id=f"{sequence}-{random.randint(10000, 99999)}@127.0.0.1",
            caller={"name": caller_name, "number": caller_number},
            connected={"name": "", "number": ""},
            dialplan={"context": self.context, "exten": exten, "priority": 1, "app_name": "", "app_data": ""},
            creationtime=timestamp(now),
            endpoint=endpoint or caller_number,
            originated=False,
            app_args=[exten],
            ssrc=random.randint(1, 2**31),
        )
        call = InboundCall(self, channel.id, exten, caller_number, caller_name, app_name)
        channel.call = call
        self.calls.append(call)
        if self.active_app(app_name) is None:
            # app_stasis: "Stasis app doesn't exist" -> STASISSTATUS=FAILED, then Hangup() without a cause: 603.
            call.stasis_failed = True
            call.sip_final_response = 603
            call.ended.set()
            return call
        self._created(channel, exten=exten, app_data="")
        self._varset(channel, "SIPDOMAIN", "127.0.0.1")
        channel.dialplan = {"context": self.context, "exten": exten, "priority": 1, "app_name": "NoOp",
                            "app_data": f"Inbound call to {exten} from {caller_number}"}  # fmt: skip
        self._dialplan_event(channel)
        channel.dialplan = {"context": self.context, "exten": exten, "priority": 2, "app_name": "Stasis",
                            "app_data": f"{app_name},{exten}"}  # fmt: skip
        self._dialplan_event(channel)
        self._varset(channel, "STASISSTATUS", "")
        channel.stasis_app = app_name
        self._stasis_event(channel, "StasisStart", args=[exten])
        return call

    def _created(self, channel: Channel, *, exten: str, app_data: str) -> None:
        """The channel exists: its endpoint lists it, and ChannelCreated (no Call-ID yet, no application)."""
        self.channels[channel.id] = channel
        self.channels_of_endpoint.setdefault(channel.endpoint, {})[channel.id] = None
        self._endpoint_changed(channel.endpoint)
        snapshot = channel.snapshot()
        snapshot["protocol_id"] = ""
        snapshot["dialplan"] = {"context": self.context, "exten": exten, "priority": 1, "app_name": "",
                                "app_data": app_data}  # fmt: skip
        self._emit_channel_topic(channel, {"type": "ChannelCreated", "timestamp": timestamp(), "channel": snapshot})

    def _dialplan_event(self, channel: Channel) -> None:
        self._channel_event(channel, "ChannelDialplan", dialplan_app=channel.dialplan["app_name"],
                            dialplan_app_data=channel.dialplan["app_data"])  # fmt: skip

    def _default_app(self) -> str:
        active = [name for name, app in self.apps.items() if app.socket is not None]
        if len(active) == 1:
            return active[0]
        return "pbx_ari"

    def originate(self, params: dict[str, str], variables: dict | None = None) -> Channel:
        """POST /channels (res/ari/resource_channels.c ari_channels_handle_originate_with_id)."""
        channel_id, other_id = params.get("channelId") or "", params.get("otherChannelId") or ""
        if len(channel_id) > 149 or len(other_id) > 149:
            raise AriProblem(400, "Uniqueid length exceeds maximum of 149")
        endpoint = params.get("endpoint") or ""
        if not endpoint:
            raise AriProblem(400, "Endpoint must be specified")
        if params.get("originator") and params.get("formats"):
            raise AriProblem(400, "Originator and formats can't both be specified")
        tech, _, resource = endpoint.partition("/")
        if not tech or not resource:
            raise AriProblem(400, "Invalid endpoint specified")
        app_name = params.get("app") or ""
        if not app_name:
            if params.get("extension"):
                raise AriProblem(501, "The fake Asterisk does not run originated channels in the dialplan")
            raise AriProblem(400, "Application or extension must be specified")
        if params.get("originator") and params["originator"] not in self.channels:
            raise AriProblem(400, "Provided originator channel was not found")
        target = self.endpoints.get(resource)
        # chan_pjsip creates the SIP session before the channel: an unknown or unreachable endpoint fails first.
        if tech.upper() != "PJSIP" or target is None or not target.registered:
            raise allocation_failed()
        if (channel_id and channel_id in self.channels) or (other_id and other_id in self.channels):
            raise AriProblem(409, "Channel with given unique ID already exists")
        timeout = _atoi(params.get("timeout", ""))
        sequence = self._next_sequence()
        now = time.time()
        caller = {"name": target.callerid_name, "number": resource}
        connected = {"name": "", "number": ""}
        chosen = None
        if params.get("callerId"):
            name, number = parse_caller_id(params["callerId"])
            if name or number:
                chosen = {"name": name, "number": number}
        channel = Channel(
            id=channel_id or f"{int(now)}.{sequence}",
            name=f"PJSIP/{resource}-{sequence:08x}",
            state="Down",
            protocol_id=str(uuid.uuid4()),
            caller=caller,
            connected=connected,
            dialplan=_dialing_dialplan(self.context),
            creationtime=timestamp(now),
            endpoint=resource,
            originated=True,
            app_args=params["appArgs"].split(",") if params.get("appArgs") else [],
            dialing=True,
            ssrc=random.randint(1, 2**31),
        )
        if variables:
            channel.variables.update({k: str(v) for k, v in variables.items()})
        self.apps.setdefault(app_name, StasisApp(app_name))
        channel.target_app = app_name
        self._created(channel, exten="s", app_data="")
        self._dialplan_event(channel)  # AppDial2 (Outgoing Line)
        if chosen is not None:
            # ast_set_callerid, then the connected line, on the new leg (seen in a lab recording of a queue flow)
            if channel.caller != chosen:
                channel.caller = dict(chosen)
                self._channel_event(channel, "ChannelCallerId", caller_presentation=0,
                                    caller_presentation_txt="Presentation Allowed, Not Screened")  # fmt: skip
            if channel.connected != chosen:
                channel.connected = dict(chosen)
                self._channel_event(channel, "ChannelConnectedLine")
        # stasis_app_subscribe_channel comes after the channel is made: ChannelCreated reached endpoint watchers only.
        channel.subscribed.add(app_name)
        self._soon(channel, self._dial_begins, target.phone, 30000 if timeout == 0 else timeout * 1000)
        return channel

    def _dial_begins(self, channel: Channel, phone: Phone, timeout_ms: int) -> None:
        self._dial(channel, "")
        if phone.ring:
            self._state(channel, "Ringing")
            self._dial(channel, "RINGING")
        answer_ms = phone.answer_delay_ms(self.random)
        if answer_ms is not None:
            self._later(channel, answer_ms, self._callee_answers, phone)
        if phone.busy_ms is not None:
            self._later(channel, phone.busy_ms, self._callee_busy)
        if timeout_ms > 0:
            self._later(channel, timeout_ms, self._dial_times_out)

    def _callee_answers(self, channel: Channel, phone: Phone) -> None:
        if not channel.dialing or channel.hanging_up:
            return
        channel.dialing = False
        self._state(channel, "Up")
        self._dial(channel, "ANSWER")
        app_name = channel.target_app or ""
        data = ",".join([app_name, *channel.app_args])
        channel.dialplan = {"context": self.context, "exten": "s", "priority": 1, "app_name": "Stasis",
                            "app_data": data}  # fmt: skip
        self._varset(channel, "STASISSTATUS", "")
        if self.active_app(app_name) is None:
            # Stasis() fails at once for an inactive app; the answered leg is hung up by the dial thread.
            self._varset(channel, "STASISSTATUS", "FAILED")
            channel.dialplan = _dialing_dialplan(self.context)
            channel.hangupcause = 16
            self._destroy(channel)
            return
        channel.stasis_app = app_name
        self._stasis_event(channel, "StasisStart", args=list(channel.app_args))
        if phone.talk_ms is not None:
            self._later(channel, phone.talk_ms, self._remote_bye)

    def _callee_busy(self, channel: Channel) -> None:
        if not channel.dialing or channel.hanging_up:
            return
        channel.hanging_up = True
        channel.hangupcause, channel.tech_cause = 17, 486
        self._channel_event(channel, "ChannelHangupRequest", {"cause": 17, "tech_cause": 486})
        self._dial(channel, "BUSY")
        self._destroy(channel)

    def _dial_times_out(self, channel: Channel) -> None:
        """main/dial.c handle_timeout_trip: cause 19 and ast_hangup; no HangupRequest and no Dial event."""
        if not channel.dialing or channel.hanging_up:
            return
        channel.hanging_up = True
        channel.hangupcause = 19
        self._destroy(channel)

    # ----------------------------------------------------------------------------------------------- hangups
    def _bridge_peer(self, channel: Channel) -> Channel | None:
        bridge = self.bridges.get(channel.bridge_id or "")
        if bridge is None:
            return None
        others = [self.channels[c] for c in bridge.channels if c != channel.id and c in self.channels]
        return others[0] if len(others) == 1 else None

    def _rtp_stats(self, channel: Channel) -> None:
        """ast_rtp_instance_set_stats_vars: on an answered leg, its RTP figures, and the peer's *BRIDGED copies."""
        if channel.state != "Up":
            return
        peer = self._bridge_peer(channel)
        for variable, template in QOS_VALUES:
            value = template.format(ssrc=channel.ssrc)
            self._varset(channel, variable, value)
            if peer is not None:
                self._varset(peer, variable + "BRIDGED", value)

    def hangup_by_request(self, channel: Channel, cause: int) -> None:
        """DELETE /channels/{id}: ChannelHangupRequest cause 32 soft now, the channel leaves right after."""
        channel.hangupcause = cause
        self._rtp_stats(channel)
        before = {"cause": EXPLICIT_SOFTHANGUP, "soft": True}
        if channel.tech_cause:
            before["tech_cause"] = channel.tech_cause
        if not channel.hanging_up:
            channel.hanging_up = True
            self._channel_event(channel, "ChannelHangupRequest", before)
            self._soon(channel, self._hangup_proceeds)

    def _remote_bye(self, channel: Channel) -> None:
        """The phone on this leg sent BYE: ChannelHangupRequest without a cause (recordings a, b)."""
        if channel.hanging_up:
            return
        channel.hanging_up = True
        self._rtp_stats(channel)
        self._channel_event(channel, "ChannelHangupRequest")
        channel.hangupcause = 16
        self._hangup_proceeds(channel)

    async def endpoint_hangup(self, resource: str) -> int:
        """The phone on this endpoint hangs up: BYE on its answered calls, a 486-less reject is not modelled.
        Returns how many legs it hung up."""
        legs = [ch for ch in self.channels.values() if ch.originated and ch.endpoint == resource and not ch.hanging_up]
        for channel in legs:
            if channel.state == "Up":
                self._remote_bye(channel)
            else:
                # declining a ringing call: 603 from the phone, cause 21 (call rejected)
                channel.hanging_up = True
                channel.hangupcause, channel.tech_cause = 21, 603
                self._channel_event(channel, "ChannelHangupRequest", {"cause": 21, "tech_cause": 603})
                self._hangup_proceeds(channel)
        return len(legs)

    def caller_hangup(self, call: InboundCall) -> None:
        channel = self.channels.get(call.channel_id)
        if channel is None or channel.hanging_up:
            return
        if channel.state == "Up":
            self._remote_bye(channel)
            return
        # CANCEL while ringing: pjsip maps the 487 of the INVITE transaction to cause 127 (recording c).
        channel.hanging_up = True
        channel.hangupcause, channel.tech_cause = 127, 487
        call.sip_final_response = 487
        self._channel_event(channel, "ChannelHangupRequest", {"cause": 127, "tech_cause": 487})
        self._hangup_proceeds(channel)

    def _hangup_proceeds(self, channel: Channel) -> None:
        if channel.gone:
            return
        if channel.dialing:
            channel.dialing = False
            self._dial(channel, dial_status_for_cause(channel.hangupcause))
            self._destroy(channel)
            return
        if channel.bridge_id in self.bridges:
            self._leave_bridge(channel, self.bridges[channel.bridge_id])
        was_in_stasis = channel.stasis_app is not None
        if was_in_stasis:
            self._stasis_event(channel, "StasisEnd")
            channel.stasis_app = None
        if channel.originated and was_in_stasis:
            self._varset(channel, "STASISSTATUS", "SUCCESS")
            channel.dialplan = _dialing_dialplan(self.context)
        elif was_in_stasis:
            # Back in the dialplan, already hung up: Stasis() sets its status, the PBX ends the channel. Only apps
            # watching PJSIP endpoints still see this (recordings k to n); the Stasis app has let the caller go.
            self._varset(channel, "STASISSTATUS", "SUCCESS")
            before = {"cause": 16, "soft": True}
            if channel.tech_cause:
                before["tech_cause"] = channel.tech_cause
            self._channel_event(channel, "ChannelHangupRequest", before)
            channel.dialplan = {**channel.dialplan, "app_name": "", "app_data": ""}
        self._destroy(channel)

    def _destroy(self, channel: Channel) -> None:
        self._cancel_timers(channel)
        if channel.bridge_id in self.bridges:
            self._leave_bridge(channel, self.bridges[channel.bridge_id])
        if not channel.tech_cause:
            channel.tech_cause = cause_to_sip(channel.hangupcause)
        event = {"type": "ChannelDestroyed", "timestamp": timestamp(), "cause": channel.hangupcause,
                 "cause_txt": cause_text(channel.hangupcause)}  # fmt: skip
        if channel.tech_cause:
            event["tech_cause"] = channel.tech_cause
        event["channel"] = channel.snapshot()
        # The inbound caller has left Stasis: only an endpoint:PJSIP subscription still brings its ChannelDestroyed.
        self._emit_channel_topic(channel, event)
        channel.gone = True
        self.channels.pop(channel.id, None)
        listed = self.channels_of_endpoint.get(channel.endpoint)
        if listed is not None:
            listed.pop(channel.id, None)
            if not listed:
                del self.channels_of_endpoint[channel.endpoint]
        self._endpoint_changed(channel.endpoint)
        call = channel.call
        if isinstance(call, InboundCall):
            if call.sip_final_response is None:
                call.sip_final_response = cause_to_sip(channel.hangupcause) or 603
            call.ended.set()
        for name in channel.apps:
            self._forget_app_if_unused(name)

    # ----------------------------------------------------------------------------------------------- REST verbs
    def channel(self, channel_id: str) -> Channel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise AriProblem(404, "Channel not found")
        return channel

    def control(self, channel_id: str) -> Channel:
        """find_control + channel_state_invalid: the checks before answer, ring, moh."""
        channel = self.channel(channel_id)
        if channel.stasis_app is None:
            raise AriProblem(409, "Channel not in Stasis application")
        if channel.state in ("Down", "Reserved", "Ringing"):
            raise AriProblem(412, "Channel in invalid state")
        return channel

    def hangup(self, channel_id: str, reason: str | None, reason_code: str | None) -> None:
        channel = self.channel(channel_id)
        if reason and reason_code:
            raise AriProblem(400, "The reason and reason_code can't both be specified")
        if reason_code:
            try:
                cause = int(reason_code.strip().split()[0])
            except (ValueError, IndexError):
                raise AriProblem(400, "Invalid reason for hangup reason code provided") from None
        elif reason:
            if reason not in HANGUP_REASONS:
                raise AriProblem(400, "Invalid reason for hangup reason provided")
            cause = HANGUP_REASONS[reason]
        else:
            cause = 16
        self.hangup_by_request(channel, cause)

    def continue_in_dialplan(self, channel_id: str, params: dict[str, str]) -> None:
        """POST /channels/{id}/continue: 204, and the channel leaves Stasis at once (a second continue gets 409 even
        before StasisEnd is sent). It goes on in the dialplan, which the fake runs as the context the product sends
        callers to does (checked on the lab's Asterisk 20.20.1): Progress(), a message, Hangup(16); the caller hears
        183, then 603 (never answered). Asterisk reads the priority as C's atoi and refuses nothing here."""
        channel = self.control(channel_id)
        context = params.get("context") or ""
        if context:
            extension = params.get("extension") or "s"
        else:
            context, extension = channel.dialplan["context"], params.get("extension") or channel.dialplan["exten"]
        priority = max(1, _atoi(params.get("priority") or "1"))
        app, channel.stasis_app = channel.stasis_app, None
        self._soon(channel, self._continued, app, context, extension, priority)

    def _continued(self, channel: Channel, app: str, context: str, extension: str, priority: int) -> None:
        self._emit({app, *channel.subscribed}, {"type": "StasisEnd", "timestamp": timestamp(),
                                                "channel": channel.snapshot()})  # fmt: skip
        self._varset(channel, "STASISSTATUS", "SUCCESS")
        channel.dialplan = {"context": context, "exten": extension, "priority": priority, "app_name": "Playback",
                            "app_data": ""}  # fmt: skip
        call = channel.call
        if isinstance(call, InboundCall):
            call.continued_to = (context, extension, priority)
            if channel.state != "Up" and 183 not in call.sip_provisional:
                call.sip_provisional.append(183)  # Progress(): the message is early media
        cause = self.dialplan_hangup_causes.get(context, 16)
        self._later(channel, self.dialplan_message_ms, self._dialplan_hangup, cause)

    def _dialplan_hangup(self, channel: Channel, cause: int) -> None:
        if channel.hanging_up:
            return
        channel.hanging_up = True
        channel.hangupcause = cause
        channel.dialplan = {**channel.dialplan, "app_name": "Hangup", "app_data": str(cause)}
        self._channel_event(channel, "ChannelHangupRequest", {"cause": cause, "soft": True})
        if isinstance(channel.call, InboundCall) and channel.state != "Up":
            # Hangup(16) before an answer is a Decline (603, Reason cause=16); other causes map as chan_pjsip does.
            channel.call.sip_final_response = cause_to_sip(cause) or 603
        self._soon(channel, self._dialplan_ends)

    def _dialplan_ends(self, channel: Channel) -> None:
        channel.dialplan = {**channel.dialplan, "app_name": "", "app_data": ""}
        self._destroy(channel)

    def answer(self, channel_id: str) -> None:
        channel = self.control(channel_id)
        if channel.state != "Up":
            self._state(channel, "Up")
        call = channel.call
        if isinstance(call, InboundCall) and not call.answered.is_set():
            call.sip_final_response = 200
            call.answered.set()

    def ring(self, channel_id: str, *, stop: bool = False) -> None:
        channel = self.control(channel_id)
        call = channel.call
        if not stop and isinstance(call, InboundCall) and channel.state != "Up" and 180 not in call.sip_provisional:
            call.sip_provisional.append(180)

    def moh(self, channel_id: str, moh_class: str | None, *, stop: bool = False) -> None:
        channel = self.control(channel_id)
        channel.moh_class = None if stop else (moh_class or "default")

    def bridge(self, bridge_id: str) -> Bridge:
        bridge = self.bridges.get(bridge_id)
        if bridge is None:
            raise AriProblem(404, "Bridge not found")
        return bridge

    def bridge_create(self, params: dict[str, str]) -> Bridge:
        bridge_id = params.get("bridgeId") or str(uuid.uuid4())
        if bridge_id in self.bridges:
            raise AriProblem(409, f"Bridge with id '{bridge_id}' already exists")
        kinds = [kind.strip() for kind in (params.get("type") or "mixing").split(",") if kind.strip()]
        if not kinds or any(kind not in BRIDGE_TECHNOLOGY and kind not in ("video_sfu", "video_single", "sdp_label")
                            for kind in kinds):  # fmt: skip
            wanted = params.get("bridgeId") or ""
            raise AriProblem(500, f"Unable to create bridge. Possible duplicate bridge id '{wanted}'")
        bridge_type = "holding" if "holding" in kinds else "mixing"
        bridge = Bridge(id=bridge_id, bridge_type=bridge_type, name=params.get("name") or "", creationtime=timestamp(),
                        technology=BRIDGE_TECHNOLOGY.get(bridge_type, "simple_bridge"))  # fmt: skip
        self.bridges[bridge_id] = bridge
        return bridge

    def _stasis_channels(self, channel_param: str | None) -> list[Channel]:
        ids = [part for part in (channel_param or "").split(",") if part]
        if not ids:
            raise AriProblem(400, "Missing parameter channel")
        found = []
        for channel_id in ids:
            channel = self.channels.get(channel_id)
            if channel is None:
                raise AriProblem(400, "Channel not found")
            if channel.stasis_app is None:
                raise AriProblem(422, "Channel not in Stasis application")
            found.append(channel)
        return found

    def bridge_add(self, bridge_id: str, channel_param: str | None) -> None:
        bridge = self.bridge(bridge_id)
        for channel in self._stasis_channels(channel_param):
            if channel.bridge_id == bridge.id:
                continue
            if channel.bridge_id in self.bridges:
                self._leave_bridge(channel, self.bridges[channel.bridge_id])
            bridge.apps |= channel.apps
            others = [self.channels[c] for c in bridge.channels if c in self.channels]
            bridge.channels.append(channel.id)
            channel.bridge_id = bridge.id
            self._bridge_event("ChannelEnteredBridge", bridge, channel)
            if len(others) == 1 and bridge.bridge_type == "mixing":
                self._two_party_bridged(bridge, channel, others[0])

    def _two_party_bridged(self, bridge: Bridge, joined: Channel, other: Channel) -> None:
        """What recording a shows once the second leg is in: BRIDGEPEER/BRIDGEPVTCALLID rounds, the connected
        lines exchanged, and the bridge going native RTP when both legs are answered."""

        def peer_round() -> None:
            self._varset(joined, "BRIDGEPEER", other.name)
            self._varset(joined, "BRIDGEPVTCALLID", other.protocol_id)
            self._varset(other, "BRIDGEPEER", joined.name)
            self._varset(other, "BRIDGEPVTCALLID", joined.protocol_id)

        peer_round()
        peer_round()
        if joined.connected != other.caller:
            joined.connected = dict(other.caller)
            self._channel_event(joined, "ChannelConnectedLine")
        peer_round()
        if other.connected != joined.caller:
            other.connected = dict(joined.caller)
            self._channel_event(other, "ChannelConnectedLine")
        if joined.state == "Up" and other.state == "Up":
            bridge.technology = "native_rtp"
            for channel in (joined, other):
                if isinstance(channel.call, InboundCall):
                    channel.call.connected.set()

    def _leave_bridge(self, channel: Channel, bridge: Bridge) -> None:
        if channel.variables.get("BRIDGEPEER"):
            self._varset(channel, "BRIDGEPEER", "")
            self._varset(channel, "BRIDGEPVTCALLID", "")
        if channel.id in bridge.channels:
            bridge.channels.remove(channel.id)
        channel.bridge_id = None
        self._bridge_event("ChannelLeftBridge", bridge, channel)
        if len(bridge.channels) < 2 and bridge.technology == "native_rtp":
            bridge.technology = "simple_bridge"

    def bridge_remove(self, bridge_id: str, channel_param: str | None) -> None:
        bridge = self.bridge(bridge_id)
        channels = self._stasis_channels(channel_param)
        for channel in channels:
            if channel.bridge_id != bridge.id:
                raise AriProblem(422, "Channel not in this bridge")
        for channel in channels:
            self._leave_bridge(channel, bridge)

    def bridge_destroy(self, bridge_id: str) -> None:
        bridge = self.bridge(bridge_id)
        for channel_id in list(bridge.channels):
            channel = self.channels.get(channel_id)
            if channel is not None:
                self._leave_bridge(channel, bridge)
        del self.bridges[bridge.id]
        self._bridge_event("BridgeDestroyed", bridge)
        for name in bridge.apps:
            self._forget_app_if_unused(name)

    # ----------------------------------------------------------------------------------------------- subscriptions
    def app_or_404(self, name: str) -> StasisApp:
        app = self.apps.get(name)
        if app is None:
            raise AriProblem(404, "Application not found")
        return app

    def subscribe(self, app_name: str, sources: list[str], *, unsubscribe: bool = False) -> dict:
        if not sources:
            raise AriProblem(400, "Missing parameter eventSource")
        app = self.app_or_404(app_name)
        for source in sources:
            scheme, sep, target = source.partition(":")
            if not sep or scheme not in ("channel", "bridge", "endpoint", "deviceState"):
                raise AriProblem(400, "Invalid event source URI scheme")
            if unsubscribe:
                self._unsubscribe_one(app, scheme, target)
            else:
                self._subscribe_one(app, scheme, target)
        return app.to_json(self)

    def event_filter(self, app_name: str, body) -> dict:
        """PUT /applications/{app}/eventFilter (res/stasis/app.c stasis_app_event_filter_set): the disallowed list
        is set first, then the allowed one; a list the body does not name is left as it is, an empty body clears both.
        """
        app = self.app_or_404(app_name)
        for attribute, key in (("events_disallowed", "disallowed"), ("events_allowed", "allowed")):
            entries = None if body is None or body == {} else body  # no body, or {}: both lists cleared
            if isinstance(body, dict) and body:
                if key not in body:
                    continue
                entries = body[key]
                if entries is None:
                    raise AriProblem(400, "Invalid format definition")  # a JSON null is not an array
            if entries is not None and not (
                isinstance(entries, list)
                and all(isinstance(entry, dict) and isinstance(entry.get("type"), str) and entry["type"]
                        for entry in entries)
            ):  # fmt: skip
                raise AriProblem(400, "Invalid format definition")
            setattr(app, attribute, list(entries or []))
        return app.to_json(self)

    def _subscribe_one(self, app: StasisApp, scheme: str, target: str) -> None:
        if scheme == "endpoint":
            tech, _, resource = target.partition("/")
            known = target == "" or (tech == "PJSIP" and (not resource or resource in self.endpoints))
            if not known:
                raise AriProblem(422, "Event source does not exist")
            app.endpoint_interest[target] = app.endpoint_interest.get(target, 0) + 1
        elif scheme == "channel":
            if target not in self.channels:
                raise AriProblem(422, "Event source does not exist")
            self.channels[target].subscribed.add(app.name)
        elif scheme == "bridge":
            if target not in self.bridges:
                raise AriProblem(422, "Event source does not exist")
            self.bridges[target].apps.add(app.name)
        else:
            raise AriProblem(422, "Event source does not exist")

    def _unsubscribe_one(self, app: StasisApp, scheme: str, target: str) -> None:
        if scheme == "endpoint" and target in app.endpoint_interest:
            app.endpoint_interest[target] -= 1
            if app.endpoint_interest[target] <= 0:
                del app.endpoint_interest[target]
        elif scheme == "channel" and target in self.channels and app.name in self.channels[target].subscribed:
            self.channels[target].subscribed.discard(app.name)
        elif scheme == "bridge" and target in self.bridges and app.name in self.bridges[target].apps:
            self.bridges[target].apps.discard(app.name)
        else:
            raise AriProblem(422, "Event source was not subscribed to")


def _dialing_dialplan(context: str) -> dict:
    return {"context": context, "exten": "s", "priority": 1, "app_name": "AppDial2", "app_data": "(Outgoing Line)"}


def _atoi(text: str) -> int:
    """C atoi: leading integer, 0 when there is none."""
    text = (text or "").strip()
    digits = ""
    for index, ch in enumerate(text):
        if ch.isdigit() or (index == 0 and ch in "+-"):
            digits += ch
        else:
            break
    try:
        return int(digits)
    except ValueError:
        return 0

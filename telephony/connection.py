"""Holds the ARI events socket: connects, reconnects with capped backoff and jitter, settles calls after each connect.

Each state change (connected, lost, refused, replaced) is logged once, not once per retry.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable

import aiohttp

from telephony import core
from telephony.ari import AriClient, AriError, AriUnreachable
from telephony.engine import Engine

logger = logging.getLogger(__name__)


# Only the types below are read; the rest (four in five of a call's events: variables, dial steps, bridge entries)
# change no routing decision. After each connect Asterisk is asked to send only these (ARI's eventFilter), which spares
# it and this process the other frames. Until then, and with an Asterisk that has no filter, the rest are skipped here,
# told by their first bytes: Asterisk (`pretty = no`) writes the type among the first keys, `{"type":"Dial",...`, or
# after a few scalars, as in `{"variable":"STASISSTATUS","value":"","type":"ChannelVarset",...`.
TYPE_KEY = '"type":"'
TYPE_WITHIN = 400  # characters; a type further in (a long variable value first) is found by parsing
EVENTS_READ = core.EVENTS_READ | {"EndpointStateChange", "ApplicationReplaced"}
# An app that also follows endpoint:PJSIP gets every channel event twice, byte for byte the same frame a few frames
# apart (recordings k to n; about a quarter of all frames at 200 calls/s). Handling an event twice changes nothing,
# but parsing and routing the copy cost as much as the event: a frame seen among the last REPEAT_WINDOW is dropped
# unparsed. Equal bytes mean the same event (the timestamp is to the millisecond), so nothing read is lost.
REPEAT_WINDOW = 256


class Backoff:
    """First retry within a second, doubling up to a cap, with jitter so many processes do not retry in step."""

    def __init__(self, first: float = 0.5, cap: float = 30.0):
        self.first, self.cap = first, cap
        self.attempt = 0

    def next_delay(self) -> float:
        delay = min(self.cap, self.first * (2**self.attempt))
        self.attempt += 1
        return random.uniform(delay / 2, delay)

    def reset(self) -> None:
        self.attempt = 0


class AriConnection:
    def __init__(self, client: AriClient, engine: Engine, *, on_state: Callable[[str], None] | None = None):
        self.client, self.engine = client, engine
        self.on_state = on_state or (lambda state: None)
        self.state = "DISCONNECTED"
        self._last_problem = ""
        self.replaced = False
        self.events_filtered: bool | None = None  # whether Asterisk sends only EVENTS_READ (None: not asked yet)
        self.connected = asyncio.Event()
        self._socket: aiohttp.ClientWebSocketResponse | None = None

    def _set_state(self, state: str, message: str = "") -> None:
        if state != self.state or (message and message != self._last_problem):
            if state == "CONNECTED":
                logger.info("ARI connected: %s", self.client.config.events_url.split("?")[0])
            elif message:
                logger.warning("ARI %s: %s", state.lower(), message)
            self._last_problem = message
        self.state = state
        self.on_state(state)

    async def run(self) -> None:
        backoff = Backoff()
        while True:
            self._set_state("CONNECTING" if self.state != "DISCONNECTED" else self.state)
            try:
                socket = await self.client.connect_events()
            except AriError as error:
                self._set_state("DISCONNECTED", f"refused ({error.status}): check ARI_USER/ARI_PASS and ARI_APP")
                await asyncio.sleep(backoff.next_delay())
                continue
            except AriUnreachable as error:
                self._set_state("DISCONNECTED", f"unreachable ({error})")
                await asyncio.sleep(backoff.next_delay())
                continue
            self._socket = socket
            self.replaced = False
            self._set_state("CONNECTED")
            self.connected.set()
            connected_at = time.monotonic()
            settle = asyncio.create_task(self._settle())
            try:
                await self._read(socket)
            finally:
                settle.cancel()
                self.connected.clear()
                if not socket.closed:
                    await socket.close()
                self._socket = None
            if time.monotonic() - connected_at > 10:
                backoff.reset()  # a connection that lasted: the next loss starts the backoff afresh
            if self.replaced:
                # Another client owns the app now; taking it straight back would start a tug of war.
                self._set_state("DISCONNECTED", "another client took over the ARI app; retrying in 30 s")
                await asyncio.sleep(30)
                continue
            self._set_state("DISCONNECTED", "events socket closed; reconnecting")
            await asyncio.sleep(backoff.next_delay())

    async def _settle(self) -> None:
        started = time.monotonic()
        await self._filter_events()
        try:
            await self.engine.sync_endpoints()
            await self.engine.reconcile()
            logger.info("ARI reconciled: %d calls in progress", len(self.engine.workers))
        except (AriError, AriUnreachable) as error:
            logger.warning("reconcile after connect failed: %s", error)
        except Exception:
            logger.exception("reconcile after connect failed")
        self.engine.stats.counters["reconciles"] += 1
        self.engine.stats.counters["last_reconcile_ms"] = int((time.monotonic() - started) * 1000)

    async def _filter_events(self) -> None:
        """Ask Asterisk for the event types the product reads only; without it nothing is lost, just more is sent."""
        try:
            await self.client.event_filter(EVENTS_READ)
        except (AriError, AriUnreachable) as error:
            filtered, problem = False, str(error)
        else:
            filtered, problem = True, ""
        if filtered != self.events_filtered:
            if filtered:
                logger.info("ARI event filter set: Asterisk sends only %s", ", ".join(sorted(EVENTS_READ)))
            else:
                logger.warning("ARI event filter not set (%s): all events are sent, unread ones skipped", problem)
        self.events_filtered = filtered

    async def _read(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        repeats = RepeatedFrames()  # per socket: after a reconnect every frame is new
        async for message in socket:
            if message.type == aiohttp.WSMsgType.TEXT:
                received = time.monotonic()
                self.engine.stats.counters["events_received"] += 1
                if _unread_type(message.data):
                    self.engine.stats.counters["events_ignored"] += 1
                    continue
                if repeats.seen(message.data):
                    self.engine.stats.counters["events_repeated"] += 1
                    continue
                try:
                    event = json.loads(message.data)
                except ValueError:
                    self.engine._skip("not JSON", message.data)
                    continue
                if not isinstance(event, dict):
                    self.engine._skip("not an object", event)
                    continue
                if event.get("type") == "ApplicationReplaced":
                    self.replaced = True
                    await socket.close()
                    return
                self.engine.dispatch(event, received)
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                return

    async def drop(self) -> None:
        """Close the socket (tests: the connection is lost and comes back by itself)."""
        if self._socket is not None:
            await self._socket.close()


class RepeatedFrames:
    """The last REPEAT_WINDOW frames of one socket, oldest first."""

    def __init__(self):
        self.recent: dict[str, None] = {}

    def seen(self, frame: str) -> bool:
        """True for a frame among the last ones; else it is remembered."""
        if frame in self.recent:
            return True
        self.recent[frame] = None
        if len(self.recent) > REPEAT_WINDOW:
            del self.recent[next(iter(self.recent))]
        return False


def _unread_type(data: str) -> bool:
    """An event of a type nobody reads, told from its first bytes without parsing it (anything odd is parsed).

    Inside a JSON string every quote is escaped, so an unescaped `"type":"` is a key, and the keys Asterisk puts before
    the event's own type are plain values, never objects with a type of their own.
    """
    start = data.find(TYPE_KEY, 0, TYPE_WITHIN)
    if start < 0 or not data.startswith("{"):
        return False
    start += len(TYPE_KEY)
    end = data.find('"', start, start + 60)
    return end > 0 and data[start:end] not in EVENTS_READ

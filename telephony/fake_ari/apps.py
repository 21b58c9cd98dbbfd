"""Stasis apps and the events WebSockets that hold them (res/stasis/app.c, res/ari/ari_websockets.c)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telephony.fake_ari.asterisk import FakeAsterisk


class AppSocket:
    """One events WebSocket and the apps it holds; a writer task sends queued frames in order."""

    def __init__(self, ws, apps: list[str]):
        self.ws, self.apps = ws, list(apps)
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.transport = None  # set by the server: lets a test cut the TCP connection

    def send(self, frame: str) -> None:
        if not self.closed.is_set():
            self.queue.put_nowait(frame)

    async def write_forever(self) -> None:
        """Frames queued together go out in one write: a call makes dozens of events in one burst, and one
        system call per frame was most of the fake's CPU under load."""
        try:
            while True:
                frames = [await self.queue.get()]
                while not self.queue.empty():
                    frames.append(self.queue.get_nowait())
                stop = None in frames
                frames = frames[: frames.index(None)] if stop else frames
                if frames:
                    await self._write(frames)
                if stop:
                    return
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            return
        finally:
            self.closed.set()

    async def _write(self, frames: list[str]) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            for frame in frames:
                await self.ws.send_str(frame)
            return
        transport.write(b"".join(text_frame(frame.encode()) for frame in frames))
        while transport.get_write_buffer_size() > 1 << 20 and not transport.is_closing():
            await asyncio.sleep(0.005)  # a slow reader: let its socket drain (Asterisk would queue too)


def text_frame(payload: bytes) -> bytes:
    """One unmasked, uncompressed WebSocket text frame, as a server sends it (RFC 6455 section 5.2)."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 1 << 16:
        return bytes((0x81, 126)) + size.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + size.to_bytes(8, "big") + payload


class StasisApp:
    def __init__(self, name: str):
        self.name = name
        self.socket: AppSocket | None = None
        # "PJSIP", "PJSIP/1001" or "" (all) -> how many times subscribed: Asterisk counts interest, so each
        # subscribe needs its own unsubscribe (res/stasis/app.c `interested`)
        self.endpoint_interest: dict[str, int] = {}
        # PUT /applications/{app}/eventFilter: lists of {"type": …} objects, kept as given; empty allows everything
        self._allowed: list[dict] = []
        self._disallowed: list[dict] = []
        self._verdicts: dict = {}  # event type -> sends(); asked for every event, so decided once per filter

    @property
    def events_allowed(self) -> list[dict]:
        return self._allowed

    @events_allowed.setter
    def events_allowed(self, entries: list[dict]) -> None:
        self._allowed, self._verdicts = entries, {}

    @property
    def events_disallowed(self) -> list[dict]:
        return self._disallowed

    @events_disallowed.setter
    def events_disallowed(self, entries: list[dict]) -> None:
        self._disallowed, self._verdicts = entries, {}

    def sends(self, event: dict) -> bool:
        """stasis_app_event_allowed: not disallowed, and allowed (an empty allowed list allows every type)."""
        kind = event.get("type")
        verdict = self._verdicts.get(kind)
        if verdict is None:
            verdict = not any(entry.get("type") == kind for entry in self._disallowed) and (
                not self._allowed or any(entry.get("type") == kind for entry in self._allowed)
            )
            self._verdicts[kind] = verdict
        return verdict

    @property
    def endpoint_subscriptions(self) -> list[str]:
        return list(self.endpoint_interest)

    def watches(self, resource: str) -> bool:
        """Subscribed to this PJSIP endpoint, to all PJSIP endpoints, or to every endpoint."""
        if self.socket is None:
            return False
        interest = self.endpoint_interest  # asked for every channel event: no list built, no scan
        return "" in interest or "PJSIP" in interest or f"PJSIP/{resource}" in interest

    def to_json(self, asterisk: FakeAsterisk) -> dict:
        return {
            "name": self.name,
            "channel_ids": [ch.id for ch in asterisk.channels.values() if self.name in ch.apps],
            "bridge_ids": [br.id for br in asterisk.bridges.values() if self.name in br.apps],
            "endpoint_ids": list(self.endpoint_subscriptions),
            "device_names": [],
            "events_allowed": list(self.events_allowed),
            "events_disallowed": list(self.events_disallowed),
        }

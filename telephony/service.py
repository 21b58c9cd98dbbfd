"""The telephony task's lifecycle: wait to be leader, hold the ARI connection, report this process's state.

One of these runs in each application process (started by telephony.server); the advisory lock makes exactly one
of them the leader that holds the Stasis app, the others wait as standbys and take over when it dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
import time
from datetime import timedelta

from channels.layers import get_channel_layer
from django.utils import timezone

from telephony.ari import AriClient, AriConfig
from telephony.connection import AriConnection
from telephony.database import Database, DatabaseUnavailable
from telephony.engine import Engine
from telephony.leader import LeaderLock
from telephony.models import TelephonyNode

logger = logging.getLogger(__name__)

COMMANDS_GROUP = "telephony"
GIL_SWITCH_SECONDS = 0.001
NODE_RETENTION = timedelta(days=1)
PRUNE_EVERY_SECONDS = 3600


def _node_save(*, name: str, role: str, connection: str, ari_url: str, counters: dict, prune: bool = False) -> None:
    if prune:
        # Processes that stopped reporting a day ago are gone (restarts, scaled-down pods): keep the status readable.
        TelephonyNode.objects.filter(heartbeat_at__lt=timezone.now() - NODE_RETENTION).delete()
    TelephonyNode.objects.update_or_create(
        name=name,
        defaults={
            "role": role,
            "connection": connection,
            "ari_url": ari_url,
            "heartbeat_at": timezone.now(),
            "counters": counters,
        },
    )


class TelephonyService:
    def __init__(self, config: AriConfig | None = None, *, lock_retry_seconds: float = 2.0, heartbeat: float = 2.0):
        self.config = config or AriConfig.from_settings()
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self) & 0xFFFF:x}"
        self.lock = LeaderLock(self.config.app, retry_seconds=lock_retry_seconds)
        self.heartbeat_seconds = heartbeat
        self.role = TelephonyNode.Role.STANDBY
        self.connection_state = TelephonyNode.Connection.DISCONNECTED
        self.engine: Engine | None = None
        self.connection: AriConnection | None = None
        self.is_leader = asyncio.Event()
        self._db = Database(1)
        self._pruned_at: float | None = None  # monotonic time of the last prune; None: not yet (prune at once)

    async def run(self) -> None:
        # The event loop shares the GIL with the engine's database threads; with Python's default 5 ms switch
        # interval a burst of ORM work holds every socket read back that long (measured: p99 event-to-commit at
        # 20 calls/s 57 ms → 24 ms with 1 ms).
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while True:
                self.role = TelephonyNode.Role.STANDBY
                await self._report()
                await self.lock.acquire()
                logger.info("telephony leader: this process holds ARI app %r", self.config.app)
                self.role = TelephonyNode.Role.LEADER
                await self._lead()
                logger.error("telephony: another process took the leader lock; standing by")
        finally:
            heartbeat.cancel()
            self.role = TelephonyNode.Role.STOPPED
            self.connection_state = TelephonyNode.Connection.DISCONNECTED
            with contextlib.suppress(Exception):
                async with asyncio.timeout(3):
                    await self._report()
            await self.lock.release()
            await self._db.close()

    async def _lead(self) -> None:
        client = AriClient(self.config)
        self.engine = Engine(client)
        self.connection = AriConnection(client, self.engine, on_state=self._connection_changed)
        self.is_leader.set()
        tasks = [asyncio.create_task(self.connection.run()), asyncio.create_task(self._listen_for_commands())]
        try:
            while await self.lock.keep():
                await asyncio.sleep(self.heartbeat_seconds)
        finally:
            self.is_leader.clear()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            try:
                await self.engine.close()
            finally:
                await client.close()
            self.connection_state = TelephonyNode.Connection.DISCONNECTED

    def _connection_changed(self, state: str) -> None:
        self.connection_state = state

    async def _listen_for_commands(self) -> None:
        """Requests from the console (a callback to place) arrive over the channel layer, from any process."""
        layer = get_channel_layer()
        if layer is None:
            return
        channel = await layer.new_channel()
        await layer.group_add(COMMANDS_GROUP, channel)
        try:
            while True:
                message = await layer.receive(channel)
                if message.get("type") == "callback.place" and isinstance(message.get("call_id"), int):
                    await self.engine.place_callback(message["call_id"])
                else:
                    logger.warning("unknown telephony command skipped: %.200r", message)
        finally:
            with contextlib.suppress(Exception):
                await layer.group_discard(COMMANDS_GROUP, channel)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            with contextlib.suppress(DatabaseUnavailable):
                await self._report()

    async def _report(self) -> None:
        counters = dict(self.engine.stats.counters) if self.engine else {}
        if self.engine:
            counters["calls_in_progress"] = len(self.engine.workers)
            counters["pending_writes"] = self.engine.pending_writes
        if self.connection is not None and self.connection.events_filtered is not None:
            # 0: the Asterisk sends every event type (no eventFilter there), still read correctly but at more cost
            counters["events_filtered"] = int(self.connection.events_filtered)
        prune = self.role == TelephonyNode.Role.LEADER and (
            self._pruned_at is None or time.monotonic() - self._pruned_at > PRUNE_EVERY_SECONDS
        )
        with contextlib.suppress(DatabaseUnavailable):
            await self._db.run(
                _node_save,
                prune=prune,
                name=self.name,
                role=self.role,
                connection=self.connection_state,
                ari_url=self.config.base_url,
                counters=counters,
            )
            if prune:
                self._pruned_at = time.monotonic()

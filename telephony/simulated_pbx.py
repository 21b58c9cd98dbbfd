"""The newcomer's simulated PBX: a fake Asterisk in the server's own loop, with a phone for every agent and callers
ringing the queues, so `scripts/run` shows calls flowing with no Asterisk installed (SIMULATED_PBX=1)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from django.conf import settings
from django.db import connections

from telephony.ari import AriConfig
from telephony.fake_ari import FakeAsterisk, Phone
from telephony.fake_ari.demo import DemoTraffic

logger = logging.getLogger(__name__)


def _numbers() -> tuple[list[str], list[str]]:
    """(agent extensions, queue numbers) as the database has them now."""
    from accounts.models import User
    from calls.models import Queue

    try:
        extensions = list(User.objects.exclude(extension=None).values_list("extension", flat=True))
        queues = list(Queue.objects.filter(is_active=True).values_list("number", flat=True))
        return extensions, queues
    finally:
        connections.close_all()


class SimulatedPbx:
    def __init__(self):
        self.fake = FakeAsterisk(user=settings.ARI_USER, password=settings.ARI_PASS)
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> AriConfig:
        port = await self.fake.start(host="127.0.0.1", port=0)
        extensions, queues = await asyncio.to_thread(_numbers)
        self._add_phones(extensions)
        # Mostly queue calls, now and then a call straight to an agent, as a contact center sees them.
        numbers = queues * 4 + extensions[:2] or extensions
        if numbers:
            traffic = DemoTraffic(self.fake, numbers, calls_per_minute=settings.SIMULATED_PBX_CALLS_PER_MINUTE)
            self._tasks.append(asyncio.create_task(traffic.run()))
        self._tasks.append(asyncio.create_task(self._follow_new_agents()))
        logger.info("simulated PBX on 127.0.0.1:%d: %d phones, calling %s", port, len(extensions), queues or numbers)
        return AriConfig(host="127.0.0.1", port=port, user=settings.ARI_USER, password=settings.ARI_PASS,
                         app=settings.ARI_APP)  # fmt: skip

    def _add_phones(self, extensions: list[str]) -> None:
        for extension in extensions:
            if extension not in self.fake.endpoints:
                # Agents pick up after a few rings, like people do.
                self.fake.add_endpoint(extension, Phone.answer_between(1500, 6000))

    async def _follow_new_agents(self) -> None:
        while True:
            await asyncio.sleep(30)
            extensions, _queues = await asyncio.to_thread(_numbers)
            self._add_phones(extensions)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.fake.stop()

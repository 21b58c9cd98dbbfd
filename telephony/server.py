"""daphne runs no ASGI lifespan events, so the telephony task starts and stops with daphne's reactor here.

Used by `manage.py runserver` (daphne's runserver takes a server class) and by `manage.py serve` in production.
With SIMULATED_PBX on, a fake Asterisk with demo phones and callers runs in the same loop (the newcomer's demo).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from daphne.server import Server
from django.conf import settings
from twisted.internet import defer, reactor

logger = logging.getLogger(__name__)


class TelephonyServer(Server):
    def run(self):
        self._telephony_task: asyncio.Task | None = None
        if settings.TELEPHONY_ENABLED:
            reactor.callWhenRunning(self._start_telephony)
            reactor.addSystemEventTrigger("before", "shutdown", self._stop_telephony)
        super().run()

    def _start_telephony(self):
        self._telephony_task = asyncio.ensure_future(_run_telephony())

    def _stop_telephony(self):
        task = self._telephony_task
        if task is None or task.done():
            return None
        task.cancel()
        return defer.Deferred.fromFuture(asyncio.ensure_future(_wait_quietly(task)))


async def _wait_quietly(task: asyncio.Task) -> None:
    with contextlib.suppress(asyncio.CancelledError, TimeoutError, Exception):
        async with asyncio.timeout(10):
            await task


async def _run_telephony() -> None:
    from telephony.service import TelephonyService

    simulator = None
    if settings.SIMULATED_PBX:
        from telephony.simulated_pbx import SimulatedPbx

        simulator = SimulatedPbx()
        config = await simulator.start()
        service = TelephonyService(config)
    else:
        service = TelephonyService()
    try:
        await service.run()
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("the telephony task stopped with an error")
    finally:
        if simulator is not None:
            await simulator.stop()

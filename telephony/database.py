"""The telephony engine's database threads: ORM work runs there, off the event loop, each thread keeping its connection.

A broken connection is dropped and reported as DatabaseUnavailable, so callers can hold their work and retry.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from django.db import InterfaceError, OperationalError, connections

from pbx.live_push import bind_event_loop, one_burst


class DatabaseUnavailable(Exception):
    pass


def _bind_event_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Live-push messages sent on commit from these threads are handed to the server's own event loop."""
    bind_event_loop(loop)


def _run_db(fn, kwargs, opened: set):
    connection = connections["default"]
    if connection not in opened:
        # Closed from the event loop's thread when the engine stops (see Database.shutdown).
        connection.inc_thread_sharing()
        opened.add(connection)
    try:
        with one_burst():  # a job's live pushes reach the loop together, each distinct one sent once
            return fn(**kwargs)
    except (OperationalError, InterfaceError) as error:
        # The connection is broken; drop it so the next job in this thread opens a fresh one.
        connections["default"].close()
        raise DatabaseUnavailable(str(error).strip().splitlines()[0] if str(error) else "database error") from error


class Database:
    """Runs ORM work in the engine's own threads, each keeping its connection between jobs."""

    def __init__(self, threads: int, *, name: str = "telephony-db"):
        self.threads, self.name = threads, name
        self.executor: ThreadPoolExecutor | None = None
        self.opened: set = set()

    async def run(self, fn, **kwargs):
        loop = asyncio.get_running_loop()
        if self.executor is None:
            self.executor = ThreadPoolExecutor(
                max_workers=self.threads, thread_name_prefix=self.name, initializer=_bind_event_loop,
                initargs=(loop,),
            )  # fmt: skip
        return await loop.run_in_executor(self.executor, partial(_run_db, fn, kwargs, self.opened))

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
        for connection in self.opened:
            connection.close()
        self.opened.clear()

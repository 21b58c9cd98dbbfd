"""Only one process of a deployment may hold the Stasis app: a PostgreSQL advisory lock decides which.

The lock lives on a dedicated connection: if the process dies, PostgreSQL drops the connection and the lock with it,
and a standby's next try wins. On SQLite (the single-process default) this process is always the leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging

import psycopg
from django.db import connections

logger = logging.getLogger(__name__)


def lock_key(app: str) -> int:
    """A stable signed 64-bit key per ARI app name, as pg_advisory_lock takes."""
    return int.from_bytes(hashlib.sha256(f"pbx-ari-leader:{app}".encode()).digest()[:8], "big", signed=True)


def _conninfo() -> str | None:
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return None
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if isinstance(v, str | int)})


class LeaderLock:
    def __init__(self, app: str, *, retry_seconds: float = 2.0):
        self.key = lock_key(app)
        self.retry_seconds = retry_seconds
        self._connection: psycopg.AsyncConnection | None = None

    async def acquire(self) -> None:
        """Wait until this process is the leader (standby meanwhile)."""
        conninfo = _conninfo()
        if conninfo is None:
            return
        said_standby = False
        while True:
            try:
                if self._connection is None or self._connection.closed:
                    self._connection = await psycopg.AsyncConnection.connect(
                        conninfo, autocommit=True, application_name="pbx-telephony-leader"
                    )
                row = await (await self._connection.execute("SELECT pg_try_advisory_lock(%s)", [self.key])).fetchone()
                if row and row[0]:
                    return
                if not said_standby:
                    logger.info("telephony standby: another process holds the ARI app")
                    said_standby = True
            except psycopg.Error as error:
                logger.warning("leader lock: database not reachable (%s)", str(error).strip().splitlines()[0])
                await self._drop()
            await asyncio.sleep(self.retry_seconds)

    async def keep(self) -> bool:
        """After the lock's connection broke: take the lock again on a new connection, unless another process has.

        While the database is unreachable no other process can take the lock either, so this one keeps leading.
        """
        if await self.still_held():
            return True
        while True:
            try:
                self._connection = await psycopg.AsyncConnection.connect(
                    _conninfo(), autocommit=True, application_name="pbx-telephony-leader"
                )
                row = await (await self._connection.execute("SELECT pg_try_advisory_lock(%s)", [self.key])).fetchone()
                return bool(row and row[0])
            except psycopg.Error:
                await self._drop()
                await asyncio.sleep(self.retry_seconds)

    async def still_held(self) -> bool:
        """False once the lock's connection is gone (then another process may already lead)."""
        if _conninfo() is None:
            return True
        if self._connection is None or self._connection.closed:
            return False
        try:
            async with asyncio.timeout(5):
                await self._connection.execute("SELECT 1")
        except (psycopg.Error, TimeoutError):
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        if self._connection is not None and not self._connection.closed:
            with contextlib.suppress(psycopg.Error):
                await self._connection.execute("SELECT pg_advisory_unlock(%s)", [self.key])
        await self._drop()

    async def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error):
                await self._connection.close()
            self._connection = None

"""What the end-to-end telephony tests share: a call center in the database, the telephony task running, polling."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import psycopg
from asgiref.sync import sync_to_async
from django.db import connection, connections

from accounts.models import Role, User
from accounts.services import user_create
from calls.models import Call, Queue
from companies.services import company_create
from telephony.ari import AriConfig
from telephony.service import TelephonyService


def config_for(fake) -> AriConfig:
    """How the telephony task reaches the `fake` fixture's Asterisk."""
    return AriConfig(host="127.0.0.1", port=int(fake.base_url.rsplit(":", 1)[1]), user="pbx", password="secret",
                     app="pbx_ari")  # fmt: skip


def make_call_center(*, extensions: list[str], queue_number: str | None = None, wrapup: int = 1, ring_timeout=15):
    """A company with agents on these extensions (READY) and optionally a queue with all of them."""
    company = company_create(name="Lab Contact Center", wrapup_seconds=wrapup)
    agents = [
        user_create(
            username=f"agent{ext}",
            password="lab-password-123",
            role=Role.AGENT,
            company=company,
            extension=ext,
            validate=False,
        )
        for ext in extensions
    ]
    queue = None
    if queue_number:
        queue = Queue.objects.create(
            company=company, name="Support", number=queue_number, ring_timeout_seconds=ring_timeout,
            wrapup_seconds=wrapup, max_wait_seconds=120,
        )  # fmt: skip
    return company, agents, queue


def overflow_to_backup(
    queue: Queue, *, number: str, taken_by: str, absent: str, state: str = "TRAINING", **queue_fields
) -> Queue:
    """A queue "Backup" (`number`) whose only agent is on extension `taken_by`, that `queue` overflows to; `queue`'s
    only agent (on `absent`) is put in `state`, so nobody there takes the call; `queue_fields` change `queue` too."""
    backup = Queue.objects.create(company=queue.company, name="Backup", number=number, max_wait_seconds=60)
    backup.members.set(User.objects.filter(extension=taken_by))
    queue.members.set(User.objects.filter(extension=absent))
    User.objects.filter(extension=absent).update(activity_state=state)
    Queue.objects.filter(pk=queue.pk).update(overflow_queue=backup, **queue_fields)
    return backup


@contextlib.asynccontextmanager
async def running_telephony(config: AriConfig, *, timeout: float = 15.0):
    """The telephony task as the server runs it, connected and reconciled."""
    service = TelephonyService(config, lock_retry_seconds=0.2, heartbeat=0.5)
    task = asyncio.create_task(service.run())
    try:
        await wait_until(lambda: service.connection is not None and service.connection.connected.is_set(), timeout)
        await wait_until(lambda: service.engine.stats.counters["reconciles"] >= 1, timeout)
        yield service
    finally:
        task.cancel()
        async with asyncio.timeout(30):  # a shutdown that hangs fails here, not at the suite's 300 s timeout
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, *, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.02)


async def wait_for_db(query: Callable[[], object], timeout: float = 10.0, *, what: str = ""):
    """Poll a database read (run in a thread) until it returns something truthy; return it."""
    deadline = time.monotonic() + timeout

    def query_and_close():
        try:
            return query()
        finally:
            connections.close_all()  # no connection left behind in the helper thread (the test DB must drop)

    read = sync_to_async(query_and_close, thread_sensitive=False)
    while True:
        value = await read()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or query}")
        await asyncio.sleep(0.05)


def ended_calls() -> list[Call]:
    return list(Call.objects.filter(state="ENDED").order_by("enqueued_at"))


def agent_state(username: str) -> str:
    return User.objects.get(username=username).activity_state


@contextlib.contextmanager
def another_session():
    """A second connection to the test database, in a transaction left open until the block ends."""
    settings = connection.settings_dict
    with (
        psycopg.connect(
            host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname=settings["NAME"]
        ) as other,
        other.transaction(),
    ):
        yield other


@contextlib.contextmanager
def row_locked(extension: str):
    """Another session updates the agent's row in a transaction left open until the block ends (as a long import of
    users, or a session stuck half-way, does)."""
    with another_session() as other:
        other.execute("UPDATE accounts_user SET first_name = first_name WHERE extension = %s", [extension])
        yield

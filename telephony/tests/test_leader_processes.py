"""Two application processes (`manage.py serve`) against one fake Asterisk: one leads, the other stands by and takes
over within seconds when the leader is killed, and no call record is lost across the switch."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import pytest
from django.db import connection

from calls.models import Call
from telephony.fake_ari import Phone
from telephony.models import TelephonyNode
from telephony.tests.support import make_call_center, wait_for_db

pytestmark = pytest.mark.django_db(transaction=True)
PROJECT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database_url() -> str:
    """The test database, for processes started by the test."""
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


async def start_server(fake, database_url: str) -> asyncio.subprocess.Process:
    port = int(fake.base_url.rsplit(":", 1)[1])
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ARI_HOST": "127.0.0.1",
        "ARI_PORT": str(port),
        "ARI_USER": "pbx",
        "ARI_PASS": "secret",
        "TELEPHONY_ENABLED": "true",
        "LOG_LEVEL": "WARNING",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "manage.py", "serve", "--bind", "127.0.0.1", "--port", str(free_port()),
        cwd=PROJECT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


def node_of(process) -> TelephonyNode | None:
    return TelephonyNode.objects.filter(name__contains=f":{process.pid}:").first()


async def test_standby_process_takes_over_when_the_leader_is_killed(fake, database_url):
    await wait_for_db(lambda: make_call_center(extensions=["1001", "1002"], wrapup=0))
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    fake.add_endpoint("1002", Phone.answer_after(ms=50))
    first = await start_server(fake, database_url)
    second = None
    try:
        await wait_for_db(lambda: (node_of(first) or TelephonyNode()).role == "LEADER", 30, what="first leads")
        await wait_for_db(lambda: (node_of(first) or TelephonyNode()).connection == "CONNECTED", 15)
        second = await start_server(fake, database_url)
        await wait_for_db(lambda: (node_of(second) or TelephonyNode()).role == "STANDBY", 30, what="second waits")

        talking = await fake.place_call(exten="1001", caller_number="0212345678")
        await wait_for_db(lambda: Call.objects.filter(state="CONNECTED").exists(), 15, what="call connected")

        first.send_signal(signal.SIGKILL)  # no goodbye: its advisory lock goes with its database connection
        await first.wait()
        await wait_for_db(lambda: (node_of(second) or TelephonyNode()).role == "LEADER", 15, what="standby leads")
        await wait_for_db(lambda: (node_of(second) or TelephonyNode()).connection == "CONNECTED", 15)

        await talking.hangup()  # the call the dead leader connected is finished by the new one
        after = await fake.place_call(exten="1002", caller_number="0212345679")
        await wait_for_db(lambda: Call.objects.filter(state="CONNECTED", dialed_number="1002").exists(), 15)
        await after.hangup()
        records = await wait_for_db(
            lambda: (calls := list(Call.objects.order_by("dialed_number"))) and all(c.state == "ENDED" for c in calls)
            and calls, 15, what="both calls recorded",
        )  # fmt: skip
        assert [(c.dialed_number, c.disposition) for c in records] == [("1001", "ANSWERED"), ("1002", "ANSWERED")]
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    process.kill()
                    await process.wait()

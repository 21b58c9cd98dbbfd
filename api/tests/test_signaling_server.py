"""/ws/signaling end to end through a real daphne server on 127.0.0.1 and a real WebSocket client (aiohttp)."""

import json
import os
import socket
import subprocess
import sys
import time

import aiohttp
import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

from api.services import token_issue

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = {"Origin": "http://127.0.0.1"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def daphne_url(transactional_db):
    """The project's ASGI application served by a daphne process of its own, on the test database."""
    port = _free_port()
    environment = {**os.environ, "DATABASE_URL": _database_url(), "TELEPHONY_ENABLED": "false", "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "pbx.asgi:application"],
        cwd=settings.BASE_DIR,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                raise RuntimeError("daphne exited: " + server.stderr.read().decode(errors="replace"))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("daphne did not start listening within 30 s") from None
                time.sleep(0.05)
        yield f"ws://127.0.0.1:{port}/ws/signaling"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stderr.close()


async def receive(socket):
    message = await socket.receive(timeout=10)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)


async def test_two_browsers_exchange_an_offer_and_an_answer_through_daphne(daphne_url, agent_a, manager_a):
    caller_token = (await database_sync_to_async(token_issue)(user=agent_a)).token
    callee_token = (await database_sync_to_async(token_issue)(user=manager_a)).token

    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(daphne_url, headers=ORIGIN, protocols=("bearer", caller_token)) as caller,
        http.ws_connect(f"{daphne_url}?token={callee_token}", headers=ORIGIN) as callee,
    ):
        assert caller.protocol == "bearer"
        assert (await receive(caller))["user_id"] == agent_a.pk
        assert (await receive(callee))["user_id"] == manager_a.pk

        await caller.send_str("{broken")
        assert (await receive(caller))["code"] == "bad_json"
        await caller.send_str(json.dumps({"type": "offer", "to": manager_a.pk, "payload": {"sdp": "v=0"}}))
        offer = await receive(callee)
        await callee.send_str(json.dumps({"type": "answer", "to": offer["from"], "payload": {"sdp": "v=0 a"}}))
        answer = await receive(caller)

    assert offer == {"type": "offer", "from": agent_a.pk, "payload": {"sdp": "v=0"}}
    assert answer == {"type": "answer", "from": manager_a.pk, "payload": {"sdp": "v=0 a"}}


async def test_a_softphone_without_origin_signs_in_with_its_token_through_daphne(daphne_url, agent_a):
    token = (await database_sync_to_async(token_issue)(user=agent_a)).token

    async with (
        aiohttp.ClientSession() as http,  # aiohttp sends no Origin, as a desk softphone or a CRM's server
        http.ws_connect(daphne_url, protocols=("bearer", token)) as softphone,
    ):
        assert softphone.protocol == "bearer"
        assert await receive(softphone) == {"type": "ready", "user_id": agent_a.pk}
    async with aiohttp.ClientSession() as http:
        with pytest.raises((aiohttp.WSServerHandshakeError, aiohttp.ClientOSError)):
            await http.ws_connect(daphne_url)  # no Origin and no token: nobody


async def test_daphne_refuses_the_handshake_without_a_valid_token(daphne_url):
    async with aiohttp.ClientSession() as http:
        # Daphne turns the refusal into a 403 or drops the connection: either way no socket opens.
        with pytest.raises((aiohttp.WSServerHandshakeError, aiohttp.ClientOSError)):
            await http.ws_connect(f"{daphne_url}?token=forged", headers=ORIGIN)

"""/healthz against the real telephony task and the fake Asterisk: healthy while the leader holds ARI, 503 when lost."""

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient

from telephony.models import TelephonyNode
from telephony.tests.support import config_for, running_telephony, wait_for_db

pytestmark = pytest.mark.django_db(transaction=True)


def leader_in(state: str):
    return lambda: TelephonyNode.objects.filter(role=TelephonyNode.Role.LEADER, connection=state).exists()


@pytest.fixture
async def client():
    yield AsyncClient()
    # The view read the database in the sync thread; close that connection so the test database can be dropped.
    await sync_to_async(connections.close_all)()


async def test_health_follows_the_leader_connected_then_asterisk_gone(fake, client):
    async with running_telephony(config_for(fake)):
        await wait_for_db(leader_in(TelephonyNode.Connection.CONNECTED), what="the leader to report CONNECTED")
        response = await client.get("/healthz")
        body = response.json()
        assert response.status_code == 200, body
        assert body["process"] == {"role": "LEADER"}  # this test process runs the task
        assert body["checks"]["telephony"]["ari_connection"] == "CONNECTED"

        await fake.stop()  # Asterisk goes away under the leader
        await wait_for_db(
            lambda: (
                TelephonyNode.objects.filter(role=TelephonyNode.Role.LEADER)
                .exclude(connection=TelephonyNode.Connection.CONNECTED)
                .exists()
            ),
            what="the leader to report the lost connection",
        )
        response = await client.get("/healthz")
        body = response.json()
        assert response.status_code == 503
        assert body["checks"]["telephony"]["error"] == "leader not connected to ARI"
        assert body["checks"]["database"]["ok"] and body["checks"]["channel_layer"]["ok"]

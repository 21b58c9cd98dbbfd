"""/healthz and manage.py telephony_status: leader present or not, connected or not, fresh or stale; DB and layer."""

import json
import socket
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone, translation

from telephony.health import this_process_prefix
from telephony.models import TelephonyNode


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English; Korean is the default language (see the catalog test)."""
    with translation.override("en"):
        yield


pytestmark = pytest.mark.django_db


def node(name, *, role="LEADER", connection_state="CONNECTED", age_seconds=1.0, counters=None):
    return TelephonyNode.objects.create(
        name=name,
        role=role,
        connection=connection_state,
        ari_url="http://10.9.8.7:8088/ari",
        heartbeat_at=timezone.now() - timedelta(seconds=age_seconds),
        counters=counters or {},
    )


def healthz(client, query=""):
    response = client.get("/healthz" + query)
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    return response.status_code, response.json()


def test_without_any_telephony_leader_the_deployment_is_unhealthy(client):
    status, body = healthz(client)
    assert status == 503
    assert body["status"] == "fail"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["channel_layer"]["ok"] is True
    assert body["checks"]["telephony"] == {"ok": False, "leader": False, "error": "no leader", "standbys": 0}


def test_a_fresh_leader_connected_to_ari_is_healthy(client):
    node("app-1:10:a", counters={"events": 5})
    node("app-2:11:b", role="STANDBY", connection_state="DISCONNECTED")
    status, body = healthz(client)
    assert status == 200
    telephony = body["checks"]["telephony"]
    assert telephony["ok"] and telephony["leader"] and telephony["ari_connection"] == "CONNECTED"
    assert telephony["standbys"] == 1
    assert 0.5 < telephony["heartbeat_age_seconds"] < 10


def test_a_leader_that_lost_ari_makes_the_deployment_unhealthy(client):
    node("app-1:10:a", connection_state="CONNECTING")
    status, body = healthz(client)
    assert status == 503
    assert body["checks"]["telephony"]["error"] == "leader not connected to ARI"


def test_a_leader_whose_heartbeat_stopped_is_not_a_leader(client):
    node("app-1:10:a", age_seconds=60)
    status, body = healthz(client)
    assert status == 503
    assert body["checks"]["telephony"]["leader"] is False
    assert body["checks"]["telephony"]["error"] == "leader heartbeat stale"


def test_a_crashed_leaders_row_does_not_hide_the_new_leader(client):
    node("app-1:10:a", age_seconds=120)  # died without saying so
    node("app-2:11:b", age_seconds=0.5)  # took the lock
    status, body = healthz(client)
    assert status == 200
    assert body["checks"]["telephony"]["heartbeat_age_seconds"] < 5


def test_the_answer_says_this_processs_role(client):
    node(f"{this_process_prefix()}beef", role="STANDBY", connection_state="DISCONNECTED")
    node("elsewhere:1:a")
    status, body = healthz(client)
    assert status == 200
    assert body["process"] == {"role": "STANDBY"}


def test_the_answer_reveals_no_address_or_secret(client, settings):
    node("app-1:10:a")
    text = client.get("/healthz").content.decode()
    for secret in ("10.9.8.7", settings.ARI_PASS, settings.ARI_USER, settings.SECRET_KEY, "app-1"):
        assert secret not in text


def test_process_scope_ignores_telephony_for_a_load_balancer(client):
    status, body = healthz(client, "?scope=process")
    assert status == 200
    assert "telephony" not in body["checks"]


@pytest.mark.django_db(transaction=True)
def test_with_the_database_down_the_answer_is_503_not_a_500(client):
    params = connection.settings_dict
    saved = params["HOST"], params["PORT"]
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    connection.close()
    params["HOST"], params["PORT"] = "127.0.0.1", dead_port
    try:
        status, body = healthz(client)
    finally:
        connection.close()
        params["HOST"], params["PORT"] = saved
    assert status == 503
    assert body["checks"]["database"] == {"ok": False, "error": "unreachable"}
    assert body["checks"]["telephony"]["ok"] is False
    assert str(dead_port) not in json.dumps(body)


def test_with_the_redis_channel_layer_unreachable_the_answer_is_503(client, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [dead]}}
    }
    node("app-1:10:a")
    status, body = healthz(client)
    assert status == 503
    assert body["checks"]["channel_layer"] == {"ok": False, "backend": "RedisChannelLayer", "error": "unreachable"}


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_answers(), reason="no Redis on 127.0.0.1:6379")
def test_a_real_redis_channel_layer_round_trip_is_healthy(client, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:6379/0"]},
        }
    }
    node("app-1:10:a")
    status, body = healthz(client)
    assert status == 200
    assert body["checks"]["channel_layer"]["backend"] == "RedisChannelLayer"


def test_telephony_status_lists_each_node_and_exits_zero_with_a_connected_leader():
    node("app-1:10:a", counters={"events": 42, "malformed": 1})
    node("app-2:11:b", role="STANDBY", connection_state="DISCONNECTED", age_seconds=3)
    node("app-0:9:c", role="STOPPED", connection_state="DISCONNECTED", age_seconds=300)
    out = StringIO()
    call_command("telephony_status", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["NODE", "ROLE", "ARI", "HEARTBEAT", "COUNTERS"]
    assert lines[1].split()[:3] == ["app-1:10:a", "LEADER", "CONNECTED"]
    assert "events=42 malformed=1" in lines[1]
    assert lines[2].split()[:3] == ["app-2:11:b", "STANDBY", "DISCONNECTED"]
    assert len(lines) == 3  # the stopped process only with --all


def test_telephony_status_fails_and_marks_a_stale_leader():
    node("app-1:10:a", age_seconds=90)
    out = StringIO()
    with pytest.raises(CommandError, match="No live telephony leader"):
        call_command("telephony_status", "--json", "--all", stdout=out)
    document = json.loads(out.getvalue())
    assert document["healthy"] is False
    assert document["nodes"][0]["fresh"] is False


def test_telephony_status_with_no_node_says_so():
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("telephony_status", stdout=out)
    assert "No telephony node has reported" in out.getvalue()

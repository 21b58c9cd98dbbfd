"""`/healthz`: is this process able to serve, and does the deployment have a telephony leader connected to Asterisk?

For load balancers and monitoring: no sign-in, JSON, 200 when healthy and 503 otherwise. It names no host, user,
password or error text (those stay in the logs); `?scope=process` checks only this process (database and channel
layer), for a balancer that should not drop every web node when Asterisk alone is down.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from datetime import timedelta

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connections
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from telephony.models import TelephonyNode

logger = logging.getLogger(__name__)

# The runner beats every 2 s; a leader silent for this long is presumed dead (its lock will pass to a standby).
STALE_AFTER = timedelta(seconds=15)
CHANNEL_LAYER_TIMEOUT = 2.0


def this_process_prefix() -> str:
    """TelephonyNode names start with host:pid (see telephony.service)."""
    return f"{socket.gethostname()}:{os.getpid()}:"


def node_is_fresh(node: TelephonyNode, now=None) -> bool:
    return (now or timezone.now()) - node.heartbeat_at <= STALE_AFTER


def _check_database() -> dict:
    started = time.monotonic()
    try:
        for alias in connections:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
    except Exception as error:  # any failure means "not healthy"; the detail goes to the log, not the answer
        logger.warning("health: database check failed: %s", type(error).__name__)
        return {"ok": False, "error": "unreachable"}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


async def _check_channel_layer() -> dict:
    layer = get_channel_layer()
    if layer is None:
        return {"ok": False, "error": "not configured"}
    started = time.monotonic()
    nonce = uuid.uuid4().hex
    try:
        channel = await layer.new_channel("health.")
        await layer.send(channel, {"type": "health.ping", "nonce": nonce})
        async with asyncio.timeout(CHANNEL_LAYER_TIMEOUT):
            message = await layer.receive(channel)
    except Exception as error:
        logger.warning("health: channel layer round trip failed: %s", type(error).__name__)
        return {"ok": False, "backend": type(layer).__name__, "error": "unreachable"}
    ok = message.get("nonce") == nonce
    return {"ok": ok, "backend": type(layer).__name__, "ms": round((time.monotonic() - started) * 1000, 1)}


def _check_telephony() -> tuple[dict, dict]:
    """The deployment's leader (the freshest LEADER row) and this process's own role."""
    now = timezone.now()
    try:
        nodes = list(TelephonyNode.objects.exclude(role=TelephonyNode.Role.STOPPED).order_by("-heartbeat_at"))
    except Exception as error:
        logger.warning("health: telephony nodes unreadable: %s", type(error).__name__)
        return {"ok": False, "error": "unknown (database unreachable)"}, {"role": "unknown"}
    mine = next((n for n in nodes if n.name.startswith(this_process_prefix()) and node_is_fresh(n, now)), None)
    process = {"role": mine.role if mine else "none"}
    leaders = [n for n in nodes if n.role == TelephonyNode.Role.LEADER]
    if not leaders:
        return {"ok": False, "leader": False, "error": "no leader", "standbys": len(nodes)}, process
    leader = leaders[0]
    age = round((now - leader.heartbeat_at).total_seconds(), 1)
    fresh = node_is_fresh(leader, now)
    connected = leader.connection == TelephonyNode.Connection.CONNECTED
    check = {
        "ok": fresh and connected,
        "leader": fresh,
        "ari_connection": leader.connection,
        "heartbeat_age_seconds": age,
        "standbys": sum(1 for n in nodes if n.role == TelephonyNode.Role.STANDBY and node_is_fresh(n, now)),
    }
    if not fresh:
        check["error"] = "leader heartbeat stale"
    elif not connected:
        check["error"] = "leader not connected to ARI"
    return check, process


@never_cache
async def healthz(request):
    checks = {
        "database": await sync_to_async(_check_database)(),
        "channel_layer": await _check_channel_layer(),
    }
    telephony, process = await sync_to_async(_check_telephony)()
    if request.GET.get("scope") != "process":
        checks["telephony"] = telephony
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "fail", "checks": checks, "process": process}
    return JsonResponse(body, status=200 if healthy else 503)

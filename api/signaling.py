"""WebRTC signaling over /ws/signaling: users of one company pass offers, answers and ICE candidates to each other.

The server only relays: it checks who speaks (session cookie or bearer token), that the addressee is an active user of
the same company, and stamps `from` itself. A bad frame gets an error frame back and the socket stays open.
"""

import json
import logging
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils.translation import gettext as _

from accounts.models import User
from api.models import ApiToken
from api.services import signal_group, token_find

logger = logging.getLogger(__name__)

MESSAGE_TYPES = ("offer", "answer", "ice", "hangup")
MAX_FRAME_CHARS = 64 * 1024
# Close codes in the application range: 4401 not (or no longer) signed in.
CLOSE_UNAUTHENTICATED = 4401


def _refuse_constant(name: str):
    """NaN and Infinity are not JSON: a browser's JSON.parse would choke on them at the addressee's end."""
    raise ValueError(f"{name} is not JSON")


def bearer_from_scope(scope) -> tuple[str | None, str | None]:
    """(token, subprotocol to accept): `?token=…`, or Sec-WebSocket-Protocol `bearer, <token>` for browsers."""
    protocols = list(scope.get("subprotocols") or [])
    if len(protocols) >= 2 and protocols[0].lower() == "bearer":
        return protocols[1], protocols[0]
    query = parse_qs((scope.get("query_string") or b"").decode("latin-1"))
    tokens = query.get("token") or []
    return (tokens[0], None) if tokens else (None, None)


@database_sync_to_async
def _token_owner(token: str) -> tuple[User, str] | None:
    record = token_find(token=token)
    return (record.user, record.jti) if record is not None else None


@database_sync_to_async
def _still_signed_in(user_id: int, jti: str | None, session) -> bool:
    if jti is not None:
        return ApiToken.objects.live().filter(jti=jti, user_id=user_id, user__is_active=True).exists()
    if session is None or not session.session_key or not session.exists(session.session_key):
        return False
    return User.objects.filter(pk=user_id, is_active=True).exists()


@database_sync_to_async
def _addressee_exists(*, user_id: int, company_id: int) -> bool:
    return User.objects.filter(pk=user_id, company_id=company_id, is_active=True).exists()


class SignalingConsumer(AsyncWebsocketConsumer):
    # A call needs a handful of messages and a few dozen ICE candidates; this is far above that and stops a flood.
    burst = 200
    per_second = 50.0

    user_id: int | None = None
    company_id: int | None = None
    jti: str | None = None
    session_key: str | None = None
    allowance: float = 0.0
    checked_at: float = 0.0

    def _within_rate(self) -> bool:
        now = time.monotonic()
        self.allowance = min(self.burst, self.allowance + (now - self.checked_at) * self.per_second)
        self.checked_at = now
        if self.allowance < 1:
            return False
        self.allowance -= 1
        return True

    async def connect(self):
        token, subprotocol = bearer_from_scope(self.scope)
        user = None
        if token:
            found = await _token_owner(token)
            if found is not None:
                user, self.jti = found
        else:
            session_user = self.scope.get("user")
            if session_user is not None and session_user.is_authenticated and session_user.is_active:
                user, self.session_key = session_user, self.scope["session"].session_key
        if user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_id, self.company_id = user.pk, user.company_id
        self.allowance, self.checked_at = float(self.burst), time.monotonic()
        await self.channel_layer.group_add(signal_group(self.user_id), self.channel_name)
        await self.accept(subprotocol=subprotocol)
        await self._send({"type": "ready", "user_id": self.user_id})

    async def disconnect(self, code):
        if self.user_id is not None:
            await self.channel_layer.group_discard(signal_group(self.user_id), self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        if not self._within_rate():
            await self._error("rate_limited", _("Too many messages. Slow down."))
            return
        if text_data is None:
            await self._error("binary_frame", _("Send JSON text frames."))
            return
        if len(text_data) > MAX_FRAME_CHARS:
            await self._error("too_large", _("A message may be at most 64 KiB."))
            return
        if not await _still_signed_in(self.user_id, self.jti, None if self.jti else self.scope.get("session")):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            message = json.loads(text_data, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            await self._error("bad_json", _("This message is not JSON."))
            return
        if not isinstance(message, dict):
            await self._error("bad_message", _("A message is a JSON object with type, to and payload."))
            return
        ref = message.get("id") if isinstance(message.get("id"), str | int) else None
        kind, to, payload = message.get("type"), message.get("to"), message.get("payload", {})
        if kind not in MESSAGE_TYPES:
            await self._error("unknown_type", _("The type must be offer, answer, ice or hangup."), ref)
            return
        if not isinstance(to, int) or isinstance(to, bool) or not 0 < to < 2**63:
            await self._error("bad_addressee", _("Say whom the message is for: to is a user id."), ref)
            return
        if not isinstance(payload, dict):
            await self._error("bad_payload", _("The payload must be a JSON object."), ref)
            return
        if to == self.user_id:
            await self._error("bad_addressee", _("You cannot signal yourself."), ref)
            return
        if self.company_id is None or not await _addressee_exists(user_id=to, company_id=self.company_id):
            await self._error("unknown_addressee", _("There is no such user in your company."), ref)
            return
        await self.channel_layer.group_send(
            signal_group(to), {"type": "signal.message", "kind": kind, "sender": self.user_id, "payload": payload}
        )

    async def signal_message(self, event):
        await self._send({"type": event["kind"], "from": event["sender"], "payload": event["payload"]})

    async def signal_revoked(self, event):
        """Token revoked, web session ended or user deactivated: the socket closes now, not at its next message."""
        jti, session_key = event.get("jti"), event.get("session_key")
        everyone = jti is None and session_key is None
        if everyone or (jti is not None and jti == self.jti) or (session_key and session_key == self.session_key):
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _send(self, body: dict):
        await self.send(text_data=json.dumps(body, ensure_ascii=False))

    async def _error(self, code: str, message: str, ref=None):
        body = {"type": "error", "code": code, "message": str(message)}
        if ref is not None:
            body["id"] = ref
        await self._send(body)

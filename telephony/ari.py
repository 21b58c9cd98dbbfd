"""Talking to Asterisk's REST Interface: REST commands and the events WebSocket (aiohttp). I/O only, no decisions."""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp

logger = logging.getLogger(__name__)


class AriError(Exception):
    """Asterisk answered a command with an error status (404 channel gone, 500 allocation failed, …)."""

    def __init__(self, status: int, body, method: str, path: str):
        self.status, self.body, self.method, self.path = status, body, method, path
        super().__init__(f"{method} {path} → {status} {self.message}")

    @property
    def message(self) -> str:
        if isinstance(self.body, dict):
            return str(self.body.get("message") or self.body.get("error") or self.body)
        return str(self.body or "")[:200]


class AriUnreachable(Exception):
    """No answer from Asterisk at all (connection refused, timeout)."""


@dataclass(frozen=True)
class AriConfig:
    host: str
    port: int
    user: str
    password: str
    app: str
    scheme: str = "http"
    request_timeout: float = 5.0

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}/ari"

    @property
    def events_url(self) -> str:
        ws = "wss" if self.scheme == "https" else "ws"
        return f"{ws}://{self.host}:{self.port}/ari/events?app={quote(self.app)}&subscribeAll=false"

    @classmethod
    def from_settings(cls) -> AriConfig:
        from django.conf import settings

        return cls(
            host=settings.ARI_HOST,
            port=settings.ARI_PORT,
            user=settings.ARI_USER,
            password=settings.ARI_PASS,
            app=settings.ARI_APP,
        )


class AriClient:
    """One HTTP session for commands; `events()` opens the WebSocket. Parameters go in the query, as ARI expects."""

    def __init__(self, config: AriConfig):
        self.config = config
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={"Authorization": _basic_auth(self.config.user, self.config.password)},
                timeout=aiohttp.ClientTimeout(total=self.config.request_timeout),
                connector=aiohttp.TCPConnector(limit=64),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(self, method: str, path: str, **params):
        """Send one command; returns the parsed JSON body (None for 204). Raises AriError or AriUnreachable."""
        query = {key: _query_value(value) for key, value in params.items() if value is not None}
        url = self.config.base_url + path
        try:
            async with self.session.request(method, url, params=query) as response:
                text = await response.text()
                body = _parse_body(text, response.content_type)
                if response.status >= 400:
                    raise AriError(response.status, body, method, path)
                return body
        except (aiohttp.ClientConnectionError, TimeoutError) as error:
            raise AriUnreachable(f"{method} {path}: {error or type(error).__name__}") from error

    async def connect_events(self) -> aiohttp.ClientWebSocketResponse:
        """Open the events socket; raises AriError (401, 400) or AriUnreachable."""
        try:
            return await self.session.ws_connect(
                self.config.events_url,
                heartbeat=20,
                timeout=aiohttp.ClientWSTimeout(ws_close=5),
                max_msg_size=16 * 1024 * 1024,
            )
        except aiohttp.WSServerHandshakeError as error:
            raise AriError(error.status, error.message, "GET", "/events") from error
        except (aiohttp.ClientConnectionError, TimeoutError) as error:
            raise AriUnreachable(f"events socket: {error or type(error).__name__}") from error

    # Commands the product uses, named as ARI names them.
    async def originate(self, *, channel_id: str, endpoint: str, app_args: str, caller_id: str, timeout: int):
        return await self.request(
            "POST",
            "/channels",
            endpoint=endpoint,
            app=self.config.app,
            appArgs=app_args,
            channelId=channel_id,
            callerId=caller_id or None,
            timeout=timeout,
        )

    async def answer(self, channel_id: str):
        return await self.request("POST", f"/channels/{quote(channel_id)}/answer")

    async def ring(self, channel_id: str):
        return await self.request("POST", f"/channels/{quote(channel_id)}/ring")

    async def ring_stop(self, channel_id: str):
        return await self.request("DELETE", f"/channels/{quote(channel_id)}/ring")

    async def hangup(self, channel_id: str, reason: str = "normal"):
        return await self.request("DELETE", f"/channels/{quote(channel_id)}", reason=reason)

    async def bridge_create(self, bridge_id: str, name: str = ""):
        return await self.request("POST", "/bridges", type="mixing", bridgeId=bridge_id, name=name or None)

    async def bridge_add(self, bridge_id: str, channel_ids):
        return await self.request("POST", f"/bridges/{quote(bridge_id)}/addChannel", channel=",".join(channel_ids))

    async def bridge_destroy(self, bridge_id: str):
        return await self.request("DELETE", f"/bridges/{quote(bridge_id)}")

    async def channels(self) -> list[dict]:
        return await self.request("GET", "/channels") or []

    async def bridges(self) -> list[dict]:
        return await self.request("GET", "/bridges") or []

    async def application(self) -> dict:
        return await self.request("GET", f"/applications/{quote(self.config.app)}")

    async def subscribe(self, event_source: str):
        return await self.request(
            "POST", f"/applications/{quote(self.config.app)}/subscription", eventSource=event_source
        )

    async def endpoints(self) -> list[dict]:
        return await self.request("GET", "/endpoints") or []

    async def info(self) -> dict:
        return await self.request("GET", "/asterisk/info")


def _basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _query_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _parse_body(text: str, content_type: str):
    if not text:
        return None
    if content_type == "application/json" or text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text

"""Talking to Asterisk's REST Interface: REST commands and the events WebSocket. I/O only, no decisions.

Commands go over a lean HTTP/1.1 keep-alive client on asyncio streams: aiohttp's ClientSession.request (URL objects,
tracing, cookies, response objects) cost about 2.5 times its CPU per command (bench/ari_client.py), and a call setup
sends about eight, hundreds of times a second."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import ssl
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import aiohttp

logger = logging.getLogger(__name__)

# RFC 3986 pchar and "/", plus "%" so an already quoted path is left as it is.
_PATH_SAFE = "/%:@!$&'()*+,;="
_METHODS_WITH_BODY = frozenset({"POST", "PUT", "DELETE"})
_EMPTY_BODY = b"Content-Length: 0\r\n"
# RFC 9112 §6.3: these answers never carry a body, whatever their headers say.
_STATUSES_WITHOUT_BODY = frozenset({204, 304})


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
    """REST commands over a small pool of keep-alive connections; `connect_events()` opens the WebSocket (aiohttp).
    Parameters go in the query, as ARI expects."""

    def __init__(self, config: AriConfig, *, max_connections: int = 32):
        self.config = config
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._pool: _ConnectionPool | None = None
        # Everything after the request target is the same for every command: built once.
        host = f"[{config.host}]" if ":" in config.host else config.host  # an IPv6 address
        self._request_tail = (
            f" HTTP/1.1\r\nHost: {host}:{config.port}\r\nAuthorization: {_basic_auth(config.user, config.password)}\r\n"
        ).encode()

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session of the events WebSocket."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={"Authorization": _basic_auth(self.config.user, self.config.password)},
                timeout=aiohttp.ClientTimeout(total=self.config.request_timeout),
                connector=aiohttp.TCPConnector(limit=64),
            )
        return self._session

    @property
    def pool(self) -> _ConnectionPool:
        if self._pool is None:
            self._pool = _ConnectionPool(
                self.config.host, self.config.port, tls=self.config.scheme == "https", limit=self.max_connections
            )
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(self, method: str, path: str, *, json_body=None, **params):
        """Send one command; returns the parsed JSON body (None for 204). Raises AriError or AriUnreachable.

        Parameters go in the query; `json_body` is for the few commands whose parameter is a JSON body."""
        message = self._request_message(method, path, params, json_body)
        try:
            async with asyncio.timeout(self.config.request_timeout):
                response = await self.pool.exchange(message, method)
        except (OSError, EOFError, asyncio.LimitOverrunError, _MalformedResponse) as error:
            # OSError covers refused, reset and TimeoutError; EOFError a connection closed mid-response.
            raise AriUnreachable(f"{method} {path}: {error or type(error).__name__}") from error
        body = _parse_body(response.text(), response.content_type)
        if response.status >= 400:
            raise AriError(response.status, body, method, path)
        return body

    def _request_message(self, method: str, path: str, params: dict, json_body=None) -> bytes:
        # Requoting keeps a path given to request() directly from breaking the request line (a space, a CR LF);
        # "%" is safe so the helpers' already quoted ids pass unchanged.
        target = "/ari" + quote(path, safe=_PATH_SAFE)
        query = {key: _query_value(value) for key, value in params.items() if value is not None}
        if query:
            target += "?" + urlencode(query, quote_via=quote)
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode()
            length = b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        else:
            body = b""
            length = _EMPTY_BODY if method in _METHODS_WITH_BODY else b""
        return b"".join(
            (method.encode("ascii"), b" ", target.encode("ascii"), self._request_tail, length, b"\r\n", body)
        )

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

    async def continue_in_dialplan(self, channel_id: str, context: str, extension: str, priority: int = 1):
        return await self.request(
            "POST", f"/channels/{quote(channel_id)}/continue", context=context, extension=extension, priority=priority
        )

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

    async def event_filter(self, allowed_types) -> dict:
        """Ask Asterisk to send the app only these event types (ARI eventFilter, Asterisk 13.26/16.3 and later).

        The filter belongs to the app, not to this socket: it stays while Asterisk keeps the app, and a client that
        takes the app over inherits it."""
        return await self.request(
            "PUT",
            f"/applications/{quote(self.config.app)}/eventFilter",
            json_body={"allowed": [{"type": kind} for kind in sorted(allowed_types)], "disallowed": []},
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


class _MalformedResponse(Exception):
    """The server answered something that is not HTTP/1.x."""


class _StaleConnection(ConnectionError):
    """The connection failed before any byte of the answer: the server closed it while it sat idle in the pool, so it
    never saw the request."""


@dataclass(slots=True)
class _Response:
    status: int
    content_type: str
    charset: str
    body: bytes
    keep_alive: bool

    def text(self) -> str:
        try:
            return self.body.decode(self.charset, errors="replace")
        except LookupError:  # a charset Python does not know
            return self.body.decode("utf-8", errors="replace")


class _Connection:
    """One persistent TCP connection; one request at a time (no pipelining)."""

    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    def is_open(self) -> bool:
        # A server that closed the connection while idle has already fed us its EOF.
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()

    async def wait_closed(self) -> None:
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()

    async def exchange(self, message: bytes, method: str) -> _Response:
        head = await self._send(message)
        status, keep_alive, headers = _parse_head(head)
        if method == "HEAD" or status in _STATUSES_WITHOUT_BODY:
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = await _read_chunked(self.reader)
        elif "content-length" in headers:
            body = await self.reader.readexactly(_content_length(headers["content-length"]))
        else:  # the body runs to the end of the connection, which then cannot be reused
            body = await self.reader.read()
            keep_alive = False
        content_type, charset = _content_type(headers.get("content-type", ""))
        return _Response(status, content_type, charset, body, keep_alive)

    async def _send(self, message: bytes) -> bytes:
        """Write the request and read the answer's head. Raises _StaleConnection if nothing at all came back."""
        try:
            self.writer.write(message)
            await self.writer.drain()
            return await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            if error.partial:
                raise
            raise _StaleConnection("connection closed before the answer") from error
        except ConnectionError as error:
            # A reset arrives when the server had closed its end before our request: nothing was processed.
            raise _StaleConnection(str(error) or type(error).__name__) from error


class _ConnectionPool:
    """Idle keep-alive connections to one server, and a cap on how many are open at once."""

    def __init__(self, host: str, port: int, *, tls: bool, limit: int):
        self.host, self.port = host, port
        self.tls = ssl.create_default_context() if tls else None
        self.idle: list[_Connection] = []
        self.slots = asyncio.Semaphore(limit)
        self.closed = False

    async def exchange(self, message: bytes, method: str) -> _Response:
        async with self.slots:
            connection = self._take_idle()
            if connection is not None:
                try:
                    return await self._exchange_on(connection, message, method)
                except _StaleConnection:
                    pass  # the server never saw the request: sending it once more is safe
            return await self._exchange_on(await self._open(), message, method)

    async def _exchange_on(self, connection: _Connection, message: bytes, method: str) -> _Response:
        """On any failure, a timeout or a cancel the connection is closed: what is left on it is unknown."""
        reusable = False
        try:
            response = await connection.exchange(message, method)
            reusable = response.keep_alive
            return response
        finally:
            if reusable and not self.closed:
                self.idle.append(connection)
            else:
                connection.close()

    def _take_idle(self) -> _Connection | None:
        while self.idle:
            connection = self.idle.pop()  # the most recently used: least likely to have been closed by the server
            if connection.is_open():
                return connection
            connection.close()
        return None

    async def _open(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self.host, self.port, ssl=self.tls)
        return _Connection(reader, writer)

    async def close(self) -> None:
        """Connections busy now are closed when their request ends."""
        self.closed = True
        idle, self.idle = self.idle, []
        for connection in idle:
            connection.close()
        await asyncio.gather(*(connection.wait_closed() for connection in idle))


def _parse_head(head: bytes) -> tuple[int, bool, dict[str, str]]:
    """Status line and headers → (status, keep-alive, headers by lower-case name)."""
    status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    status = rest[:3]
    if not version.startswith("HTTP/1.") or not status.isdigit():
        raise _MalformedResponse(f"bad status line {status_line[:80]!r}")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    tokens = headers.get("connection", "").lower()
    keep_alive = "keep-alive" in tokens if version == "HTTP/1.0" else "close" not in tokens
    return int(status), keep_alive, headers


def _content_length(value: str) -> int:
    if not value.isdigit():
        raise _MalformedResponse(f"bad Content-Length {value[:40]!r}")
    return int(value)


def _content_type(value: str) -> tuple[str, str]:
    """'application/json; charset=utf-8' → ('application/json', 'utf-8'); utf-8 when no charset is given."""
    mime_type, *parameters = value.split(";")
    charset = "utf-8"
    for parameter in parameters:
        name, _, setting = parameter.partition("=")
        if name.strip().lower() == "charset" and setting.strip():
            charset = setting.strip().strip('"')
    return mime_type.strip().lower(), charset


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while size := _chunk_size(await reader.readuntil(b"\r\n")):
        chunk = await reader.readexactly(size + 2)
        if chunk[-2:] != b"\r\n":
            raise _MalformedResponse("chunk not followed by CR LF")
        chunks.append(chunk[:-2])
    while await reader.readuntil(b"\r\n") != b"\r\n":
        pass  # trailer fields: ARI sends none, and nothing here needs them
    return b"".join(chunks)


def _chunk_size(line: bytes) -> int:
    digits = line.split(b";", 1)[0].strip()  # chunk extensions follow a ";"
    if not digits.isalnum():  # int() would take a sign or an underscore
        raise _MalformedResponse(f"bad chunk size {line[:40]!r}")
    try:
        return int(digits, 16)
    except ValueError:
        raise _MalformedResponse(f"bad chunk size {line[:40]!r}") from None

"""ARI over HTTP for the fake Asterisk: routing, authentication, status codes and bodies as res/res_ari.c does them."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from email.utils import formatdate
from urllib.parse import parse_qsl, unquote

from aiohttp import WSMsgType, web

from telephony.fake_ari.apps import AppSocket
from telephony.fake_ari.asterisk import AriProblem, FakeAsterisk
from telephony.fake_ari.model import ASTERISK_ID, VERSION, timestamp

REALM = "Asterisk REST Interface"
MISSING_APP_PAGE = (
    '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\r\n<html><head>\r\n<title>400 Bad Request</title>\r\n'
    "</head><body>\r\n<h1>Bad Request</h1>\r\n<p>HTTP request is missing param: [app]</p>\r\n<hr />\r\n"
    f"<address>Asterisk/{VERSION}</address>\r\n</body></html>\r\n"
)
MODULES = [
    ("res_ari.so", "Asterisk RESTful Interface", "core"),
    ("res_stasis.so", "Stasis application support", "core"),
    ("res_pjsip.so", "Basic SIP resource", "core"),
    ("chan_pjsip.so", "PJSIP Channel Driver", "core"),
    ("app_stasis.so", "Stasis dialplan application", "core"),
    ("pbx_config.so", "Text Extension Configuration", "core"),
    ("res_musiconhold.so", "Music On Hold Resource", "core"),
    ("bridge_simple.so", "Simple two channel bridging module", "core"),
    ("bridge_native_rtp.so", "Native RTP bridging module", "core"),
]


_date_cache: tuple[int, str] = (-1, "")


def _http_date() -> str:
    """The Date header, formatted once a second: every response carries it."""
    global _date_cache
    second = int(time.time())
    if _date_cache[0] != second:
        _date_cache = (second, formatdate(second, usegmt=True))
    return _date_cache[1]


def _headers(extra: dict | None = None) -> dict:
    headers = {"Server": f"Asterisk/{VERSION}", "Date": _http_date(), "Cache-Control": "no-cache, no-store"}
    headers.update(extra or {})
    return headers


def json_response(status: int, body, extra_headers: dict | None = None) -> web.Response:
    if body is None:
        return web.Response(status=status, headers=_headers(extra_headers))
    return web.Response(
        status=status,
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(),
        headers=_headers({"Content-Type": "application/json", **(extra_headers or {})}),
    )


def _authenticated(asterisk: FakeAsterisk, request: web.Request) -> bool:
    header = request.headers.get("Authorization", "")
    user = password = None
    if header[:6].lower() == "basic ":
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = None
    if user is None:
        api_key = request.query.get("api_key", "")
        user, sep, password = api_key.partition(":")
        if not api_key or not sep or not password:
            return False
    return user == asterisk.user and password == asterisk.password


def _unauthorized() -> web.Response:
    return json_response(401, {"message": "Authentication required"}, {"WWW-Authenticate": f'Basic realm="{REALM}"'})


class Routes:
    """ARI's resource tree: a path of literal segments and {wildcards}, and a handler per method."""

    def __init__(self):
        self.routes: list[tuple[list[str], dict]] = []

    def add(self, path: str, **methods) -> None:
        self.routes.append((path.strip("/").split("/"), methods))

    def find(self, segments: list[str]):
        best = None
        for pattern, methods in self.routes:
            if len(pattern) != len(segments):
                continue
            args, literal_hits = [], 0
            for want, got in zip(pattern, segments, strict=True):
                if want.startswith("{"):
                    args.append(got)
                elif want == got:
                    literal_hits += 1
                else:
                    break
            else:
                if best is None or literal_hits > best[0]:
                    best = (literal_hits, methods, args)
        return (best[1], best[2]) if best else (None, None)


class AriServer:
    def __init__(self, asterisk: FakeAsterisk):
        self.asterisk = asterisk
        self.routes = Routes()
        r, a = self.routes, asterisk
        r.add("asterisk/info", GET=self.info)
        r.add("asterisk/ping", GET=self.ping)
        r.add("asterisk/modules", GET=self.modules)
        r.add("asterisk/modules/{name}", GET=self.module, PUT=self.module_reload, POST=self.module_load,
              DELETE=self.module_unload)  # fmt: skip
        r.add("endpoints", GET=lambda p, b: [a.endpoint_json(e) for e in a.endpoints.values()])
        r.add("endpoints/{tech}", GET=self.endpoints_of_tech)
        r.add("endpoints/{tech}/{resource}", GET=self.endpoint)
        r.add("applications", GET=lambda p, b: [app.to_json(a) for app in a.apps.values()])
        r.add("applications/{app}", GET=lambda p, b, name: a.app_or_404(name).to_json(a))
        r.add("applications/{app}/subscription", POST=self.subscribe, DELETE=self.unsubscribe)
        r.add("applications/{app}/eventFilter", PUT=lambda p, b, name: a.event_filter(name, b))
        r.add("channels", GET=lambda p, b: [ch.snapshot() for ch in a.channels.values()], POST=self.originate)
        r.add("channels/{id}", GET=lambda p, b, cid: a.channel(cid).snapshot(), POST=self.originate_with_id,
              DELETE=lambda p, b, cid: a.hangup(cid, p.get("reason"), p.get("reason_code")))  # fmt: skip
        r.add("channels/{id}/answer", POST=lambda p, b, cid: a.answer(cid))
        r.add("channels/{id}/ring", POST=lambda p, b, cid: a.ring(cid),
              DELETE=lambda p, b, cid: a.ring(cid, stop=True))  # fmt: skip
        r.add("channels/{id}/moh", POST=lambda p, b, cid: a.moh(cid, p.get("mohClass")),
              DELETE=lambda p, b, cid: a.moh(cid, None, stop=True))  # fmt: skip
        r.add("channels/{id}/variable", GET=self.channel_variable)
        r.add("channels/{id}/continue", POST=lambda p, b, cid: a.continue_in_dialplan(cid, p))
        r.add("bridges", GET=lambda p, b: [br.snapshot() for br in a.bridges.values()], POST=self.bridge_create)
        r.add("bridges/{id}", GET=lambda p, b, bid: a.bridge(bid).snapshot(), POST=self.bridge_create_with_id,
              DELETE=lambda p, b, bid: a.bridge_destroy(bid))  # fmt: skip
        r.add("bridges/{id}/addChannel", POST=lambda p, b, bid: a.bridge_add(bid, p.get("channel")))
        r.add("bridges/{id}/removeChannel", POST=lambda p, b, bid: a.bridge_remove(bid, p.get("channel")))
        r.add("events", GET=None)  # the WebSocket, handled before routing

    # ------------------------------------------------------------------------------------------ HTTP entry
    async def handle(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        response = await self._handle(request)
        for suffix, seconds in self.asterisk.reply_delays.items():
            if request.path.endswith(suffix):
                await asyncio.sleep(seconds)
        if request.path != "/ari/events":
            self.asterisk.requests.append({
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "status": response.status,
                "elapsed_ms": round((time.monotonic() - started) * 1000, 3),
            })  # fmt: skip
        return response

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path == "/ari/events" and request.method == "GET":
            return await self.events(request)
        params: dict[str, str] = {}
        body = None
        raw = await request.read()
        if raw:
            content_type = request.content_type
            if content_type == "application/x-www-form-urlencoded":
                params.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
            elif content_type == "application/json" or raw.lstrip()[:1] in (b"{", b"["):
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                # jansson without JSON_DECODE_ANY (ast_http_get_json): only an object or an array at the top
                if not isinstance(body, dict | list):
                    return json_response(400, {"message": "Error parsing request body"})
        params.update(request.query)
        if not _authenticated(self.asterisk, request):
            return _unauthorized()
        uri = path[len("/ari/") :] if path.startswith("/ari/") else None
        if uri is None:
            return web.Response(status=404, body=b"Not Found", headers=_headers({"Content-Type": "text/html"}))
        if uri.endswith("/"):
            return json_response(404, {"message": f"ARI URLs do not end with a slash. Try /ari/{uri[:-1]}"})
        segments = [unquote(part) for part in uri.split("/")]
        if any(not part for part in segments):
            return json_response(404, {"message": "Resource not found"})
        methods, args = self.routes.find(segments)
        if methods is None:
            return json_response(404, {"message": "Resource not found"})
        handler = methods.get(request.method)
        if handler is None:
            allow = ",".join(["OPTIONS", *[m for m in ("GET", "POST", "PUT", "DELETE") if methods.get(m)]])
            return json_response(405, {"message": "Invalid method"}, {"Allow": allow})
        if isinstance(body, dict):
            for key, value in body.items():
                if isinstance(value, str | int | float | bool) and key != "variables":
                    params[key] = str(value).lower() if isinstance(value, bool) else str(value)
        for suffix, (status, message) in self.asterisk.refusals.items():
            if path.endswith(suffix):
                return json_response(status, {"message": message})
        try:
            result = handler(params, body, *args)
        except AriProblem as problem:
            return json_response(problem.status, problem.body)
        if result is None:
            return json_response(204, None)
        return json_response(200, result)

    # ------------------------------------------------------------------------------------------ WebSocket
    async def events(self, request: web.Request) -> web.StreamResponse:
        if not _authenticated(self.asterisk, request):
            return _unauthorized()
        apps = [name for name in request.query.get("app", "").split(",") if name]
        if not apps:
            page = MISSING_APP_PAGE.encode()
            return web.Response(status=400, body=page, headers=_headers({"Content-Type": "text/html"}))
        # Asterisk's res_http_websocket negotiates no extension: no permessage-deflate (and frames written raw, apps.py)
        ws = web.WebSocketResponse(autoping=True, heartbeat=None, compress=False)
        socket = AppSocket(ws, apps)
        socket.transport = request.transport
        # Registered before the 101 goes out, so a client that sees the upgrade finds its app in GET /applications.
        self.asterisk.attach_socket(socket)
        writer = None
        try:
            await ws.prepare(request)
            writer = asyncio.get_running_loop().create_task(socket.write_forever())  # frames queued so far go first
            async for message in ws:
                if message.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
                # Asterisk 20 answers requests sent over the events socket (ARI over WebSocket); the product sends none.
        finally:
            self.asterisk.socket_closed(socket)
            if writer is not None:
                await writer
            else:
                socket.closed.set()  # the upgrade failed before any frame could be written
        return ws

    # ------------------------------------------------------------------------------------------ handlers
    def info(self, params, body):
        started = timestamp(self.asterisk.started_at)
        return {
            "build": {"os": "Linux", "kernel": "6.18.44-fc-v769", "machine": "x86_64", "options": "OPTIONAL_API",
                      "date": "2026-11-25 06:49:50 UTC", "user": "root"},
            "system": {"version": VERSION, "entity_id": ASTERISK_ID},
            "config": {"name": "", "default_language": "en", "setid": {"user": "", "group": ""}},
            "status": {"startup_time": started, "last_reload_time": timestamp(self.asterisk.reloaded_at)},
        }  # fmt: skip

    def ping(self, params, body):
        return {"ping": "pong", "timestamp": timestamp(), "asterisk_id": ASTERISK_ID}

    def modules(self, params, body):
        return [_module_json(*module) for module in MODULES]

    def _module(self, name: str):
        for module in MODULES:
            if module[0] == name:
                return module
        return None

    def module(self, params, body, name):
        module = self._module(name)
        if module is None:
            raise AriProblem(404, "Module could not be found in running modules")
        return _module_json(*module)

    def module_reload(self, params, body, name):
        if self._module(name) is None:
            raise AriProblem(404, "Module not found in running modules")
        self.asterisk.reloaded_at = time.time()
        return None

    def module_load(self, params, body, name):
        if self._module(name) is not None:
            raise AriProblem(409, "Module is already loaded")
        raise AriProblem(409, "Module could not be loaded properly")

    def module_unload(self, params, body, name):
        if self._module(name) is None:
            raise AriProblem(404, "Module not found in running modules")
        raise AriProblem(409, "Module could not be unloaded")

    def endpoints_of_tech(self, params, body, tech):
        if tech != "PJSIP":
            raise AriProblem(404, f"No Endpoints found - invalid tech {tech}")
        return [self.asterisk.endpoint_json(e) for e in self.asterisk.endpoints.values()]

    def endpoint(self, params, body, tech, resource):
        endpoint = self.asterisk.endpoints.get(resource) if tech == "PJSIP" else None
        if endpoint is None:
            raise AriProblem(404, "Endpoint not found")
        return self.asterisk.endpoint_json(endpoint)

    def _sources(self, params) -> list[str]:
        return [source for source in (params.get("eventSource") or "").split(",") if source]

    def subscribe(self, params, body, app):
        return self.asterisk.subscribe(app, self._sources(params))

    def unsubscribe(self, params, body, app):
        return self.asterisk.subscribe(app, self._sources(params), unsubscribe=True)

    def originate(self, params, body):
        variables = body.get("variables") if isinstance(body, dict) else None
        if variables is not None and not isinstance(variables, dict):
            raise AriProblem(400, "Each value in 'variables' must be a string or an object with 'value' and optional "
                                  "'report_events'")  # fmt: skip
        return self.asterisk.originate(params, variables).snapshot()

    def originate_with_id(self, params, body, channel_id):
        return self.originate({**params, "channelId": channel_id}, body)

    def channel_variable(self, params, body, channel_id):
        if not params.get("variable"):
            raise AriProblem(400, "Variable name is required")
        channel = self.asterisk.channels.get(channel_id)
        if channel is None:
            raise AriProblem(404, "Provided channel was not found")
        name = params["variable"]
        if name == "CHANNEL":
            return {"value": channel.name}
        if name not in channel.variables:
            raise AriProblem(404, "Provided variable was not found")
        return {"value": channel.variables[name]}

    def bridge_create(self, params, body):
        return self.asterisk.bridge_create(params).snapshot()

    def bridge_create_with_id(self, params, body, bridge_id):
        return self.asterisk.bridge_create({**params, "bridgeId": bridge_id}).snapshot()


def _module_json(name: str, description: str, support: str) -> dict:
    return {"name": name, "description": description, "use_count": 0, "status": "Running", "support_level": support}


async def start_server(asterisk: FakeAsterisk, host: str, port: int) -> int:
    server = AriServer(asterisk)
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # port 0: the one the kernel chose
    asterisk._runner = runner
    asterisk.base_url = f"http://{host}:{bound}"
    return bound

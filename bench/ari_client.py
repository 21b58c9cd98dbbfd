"""CPU the telephony process spends per ARI REST command: the lean keep-alive client of telephony/ari.py against the
aiohttp ClientSession.request path it replaced.

A minimal aiohttp.web server runs in a child process, so its CPU is not counted; this process sends N commands,
`concurrency` at a time, and reports time.process_time() per command. Rounds alternate between the two clients so
a machine that slows down mid-run hurts both alike. Prints figures; not a test.

    python bench/ari_client.py --requests 5000 --concurrency 20 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telephony.ari import AriClient, AriConfig, AriError, AriUnreachable, _parse_body, _query_value  # noqa: E402

# About the size of a channel snapshot Asterisk 20 returns.
CHANNEL = {
    "id": "caller-7b2c3f9e-1d2a-4c55-9a0e-3b7f0c1d2e3f",
    "name": "PJSIP/trunk-00000042",
    "state": "Up",
    "protocol_id": "5f1d2c3b-7a8e-4d9f-b0c1-2e3f4a5b6c7d",
    "caller": {"name": "", "number": "01012345678"},
    "connected": {"name": "", "number": ""},
    "accountcode": "",
    "dialplan": {"context": "from-trunk", "exten": "5000", "priority": 1, "app_name": "Stasis", "app_data": "pbx_ari"},
    "creationtime": "2026-11-25T16:21:04.123+0900",
    "language": "en",
}


class AiohttpAriClient(AriClient):
    """The command path before the lean client, kept here to compare against: aiohttp's ClientSession.request."""

    async def request(self, method: str, path: str, **params):
        query = {key: _query_value(value) for key, value in params.items() if value is not None}
        try:
            async with self.session.request(method, self.config.base_url + path, params=query) as response:
                body = _parse_body(await response.text(), response.content_type)
                if response.status >= 400:
                    raise AriError(response.status, body, method, path)
                return body
        except (aiohttp.ClientConnectionError, TimeoutError) as error:
            raise AriUnreachable(f"{method} {path}: {error or type(error).__name__}") from error


def serve(port_out, ready) -> None:
    """The child process: answers `POST …/answer` with 204 and `GET /channels/{id}` with a snapshot."""

    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def channel(request: web.Request) -> web.Response:
        return web.Response(body=json.dumps({**CHANNEL, "id": request.match_info["id"]}).encode(),
                            content_type="application/json")  # fmt: skip

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/ari/channels/{id}/answer", answer)
        app.router.add_get("/ari/channels/{id}", channel)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_out.value = site._server.sockets[0].getsockname()[1]
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


async def run_round(client: AriClient, command: str, requests: int, concurrency: int) -> tuple[float, float]:
    """→ (CPU µs per command in this process, commands per second of wall time)."""
    per_worker = requests // concurrency

    async def worker(n: int) -> None:
        for i in range(per_worker):
            channel_id = f"caller-{n}-{i}"
            if command == "answer":
                assert await client.answer(channel_id) is None
            else:
                assert (await client.request("GET", f"/channels/{channel_id}"))["id"] == channel_id

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = per_worker * concurrency
    return cpu / done * 1e6, done / wall


async def compare(port: int, args) -> None:
    config = AriConfig("127.0.0.1", port, "bench", "bench", "pbx_ari", request_timeout=10)
    clients = {"aiohttp (old)": AiohttpAriClient(config), "lean (new)": AriClient(config)}
    try:
        for client in clients.values():  # warm up: connections open, code paths hot
            await run_round(client, "answer", 20 * args.concurrency, args.concurrency)
        for command, label in (("answer", "POST /channels/{id}/answer → 204"), ("get", "GET /channels/{id} → 200")):
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in clients}
            for _ in range(args.rounds):
                for name, client in clients.items():
                    results[name].append(await run_round(client, command, args.requests, args.concurrency))
            print(f"\n{label}: {args.requests} commands, {args.concurrency} at a time, {args.rounds} rounds (median)")
            for name, figures in results.items():
                cpu_us = statistics.median(cpu for cpu, _ in figures)
                rate = statistics.median(rate for _, rate in figures)
                print(f"  {name:14} {cpu_us:8.1f} µs CPU per command   {rate:8.0f} commands/s")
    finally:
        for client in clients.values():
            await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    port, ready = multiprocessing.Value("i", 0), multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(port, ready), daemon=True)
    server.start()
    try:
        if not ready.wait(10):
            raise SystemExit("the server process did not start")
        asyncio.run(compare(port.value, args))
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()

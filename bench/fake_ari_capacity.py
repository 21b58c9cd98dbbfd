"""How many calls per second the fake Asterisk itself sustains, so product benchmarks know they measure the product.

The fake runs in this process and places the calls; a minimal Stasis app runs in a child process (one WebSocket, one
HTTP session): it bridges each caller, originates the agent's phone (answers at once), answers and bridges; this
process then hangs the caller up and the app tears the call down. 7 REST commands and ~50 events per call (about twice
the events with --watch-endpoints, as the product subscribes to endpoint:PJSIP). Prints figures; not a test.

    python bench/fake_ari_capacity.py --calls 3000 --concurrency 50 [--watch-endpoints]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telephony.fake_ari import FakeAsterisk, Phone  # noqa: E402

AUTH = {"Authorization": "Basic " + base64.b64encode(b"bench:bench").decode()}


def stasis_app(base_url: str, watch_endpoints: bool, ready) -> None:
    """The child process: connects, then runs every call it is given."""

    async def main() -> None:
        connector = aiohttp.TCPConnector(limit=100)
        async with aiohttp.ClientSession(headers=AUTH, connector=connector) as http:

            async def command(method: str, path: str, **query) -> None:
                async with http.request(method, f"{base_url}/ari{path}", params=query) as response:
                    await response.read()

            ws = await http.ws_connect(base_url.replace("http", "ws") + "/ari/events?app=pbx_ari")
            if watch_endpoints:
                await command("POST", "/applications/pbx_ari/subscription", eventSource="endpoint:PJSIP")
            ready.set()
            calls: dict[str, dict] = {}
            tasks = set()

            async def on_event(event: dict) -> None:
                kind, channel = event.get("type"), (event.get("channel") or {}).get("id")
                if kind == "StasisStart" and event["args"] != ["dialed"]:
                    agent = event["args"][0]
                    call = {"caller": channel, "leg": f"leg-{channel}", "bridge": f"br-{channel}"}
                    calls[channel] = calls[call["leg"]] = call
                    await command("POST", "/bridges", type="mixing", bridgeId=call["bridge"])
                    await command("POST", f"/bridges/{call['bridge']}/addChannel", channel=channel)
                    await command("POST", "/channels", endpoint=f"PJSIP/{agent}", app="pbx_ari", appArgs="dialed",
                                  channelId=call["leg"])  # fmt: skip
                elif kind == "StasisStart":
                    call = calls[channel]
                    await command("POST", f"/channels/{call['caller']}/answer")
                    await command("POST", f"/bridges/{call['bridge']}/addChannel", channel=channel)
                elif kind == "StasisEnd" and channel in calls and calls[channel]["caller"] == channel:
                    call = calls.pop(channel)
                    calls.pop(call["leg"], None)
                    await command("DELETE", f"/channels/{call['leg']}", reason="normal")
                    await command("DELETE", f"/bridges/{call['bridge']}")

            async for message in ws:
                task = asyncio.create_task(on_event(json.loads(message.data)))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

    asyncio.run(main())


async def run(calls: int, concurrency: int, agents: int, watch_endpoints: bool) -> None:
    fake = FakeAsterisk(user="bench", password="bench")
    await fake.start(host="127.0.0.1", port=0)
    for n in range(agents):
        fake.add_endpoint(str(1000 + n), Phone.answer_after(0))
    spawn = multiprocessing.get_context("spawn")  # the child gets its own interpreter, not a copy of this loop
    ready = spawn.Event()
    child = spawn.Process(target=stasis_app, args=(fake.base_url, watch_endpoints, ready), daemon=True)
    child.start()
    while not ready.is_set():
        await asyncio.sleep(0.05)
    semaphore = asyncio.Semaphore(concurrency)
    lasted: list[float] = []

    async def one_call(n: int) -> None:
        async with semaphore:
            started = time.perf_counter()
            call = await fake.place_call(exten=str(1000 + n % agents), caller_number=f"010{n:08d}")
            await asyncio.wait_for(call.answered.wait(), 30)
            lasted.append(time.perf_counter() - started)
            await call.hangup()
            await asyncio.wait_for(call.ended.wait(), 30)

    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one_call(n) for n in range(calls)))
    while fake.channels or fake.bridges:
        await asyncio.sleep(0.01)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    child.terminate()
    await fake.stop()
    lasted.sort()
    print(f"{calls} calls, {concurrency} at a time, {agents} agent phones, endpoint events: {watch_endpoints}")
    print(f"  calls per second (setup, answer, bridge, hangup): {calls / elapsed:.0f}")
    print(f"  events per second: {fake.events_sent / elapsed:.0f} ({fake.events_sent / calls:.0f} per call)")
    print(f"  REST requests per second: {len(fake.requests) / elapsed:.0f}")
    per_call_ms = cpu / calls * 1000
    print(
        f"  fake's own CPU per call: {per_call_ms:.2f} ms, so about {1000 / per_call_ms:.0f} calls/s on one free core"
    )
    print(f"  caller in Stasis -> answered: p50 {lasted[len(lasted) // 2] * 1000:.1f} ms, "
          f"p99 {lasted[int(len(lasted) * 0.99)] * 1000:.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--watch-endpoints", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.calls, args.concurrency, args.agents, args.watch_endpoints))


if __name__ == "__main__":
    main()

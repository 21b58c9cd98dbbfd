"""State change → wallboard update latency (p50/p99) with 500 agents and 50 open wallboards.

    .venv/bin/python bench/console_push_latency.py

A real daphne server (in this process, in-memory channel layer, as a single-process deployment) serves /ws/console/;
50 WebSocket clients hold wallboards of one 500-agent company. Each sample is one agent's state change, committed
through accounts.services.activity_change on the server's loop (where the telephony task changes states), until that
agent's re-rendered row has arrived at a wallboard socket. Uses its own database (BENCH_PUSH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/pbx_console_push_bench), rebuilt each run.
"""

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbx.settings")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_PUSH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pbx_console_push_bench"
)
os.environ["TELEPHONY_ENABLED"] = "false"
os.environ["DEBUG"] = "false"
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

import aiohttp  # noqa: E402
from bench_database import database_ready  # noqa: E402
from django.test import Client  # noqa: E402

AGENTS = int(os.environ.get("BENCH_AGENTS", "500"))
WALLBOARDS = int(os.environ.get("BENCH_WALLBOARDS", "50"))
CHANGES = int(os.environ.get("BENCH_CHANGES", "100"))
BURST = int(os.environ.get("BENCH_BURST", "20"))


def build():
    from accounts.models import Role, User
    from calls.models import Queue
    from companies.services import company_create

    company = company_create(name="Bench Contact Center")
    hashed = User(username="x")
    hashed.set_password("bench-password-123")
    User.objects.bulk_create(
        User(
            username=f"agent{n:03d}",
            first_name=f"상담원 {n:03d}",
            role=Role.AGENT,
            company=company,
            extension=f"{1000 + n}",
            password=hashed.password,
        )  # fmt: skip
        for n in range(AGENTS)
    )
    manager = User.objects.create(username="manager", role=Role.MANAGER, company=company, password=hashed.password)
    for q in range(4):
        Queue.objects.create(company=company, name=f"Queue {q}", number=f"70{q}0")
    cookies = []
    for _ in range(WALLBOARDS):
        browser = Client()
        browser.force_login(manager)
        cookies.append(browser.cookies["sessionid"].value)
    agent_ids = list(User.objects.filter(company=company, role=Role.AGENT).order_by("id").values_list("id", flat=True))
    return manager, agent_ids, cookies


class Wallboard:
    """One open wallboard: a socket whose incoming fragments are matched against what a change should produce."""

    def __init__(self, socket):
        self.socket = socket
        self.waiters: dict[str, tuple[asyncio.Future, float]] = {}

    async def read(self):
        async for message in self.socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            now = time.perf_counter()
            for marker, (future, _started) in list(self.waiters.items()):
                if marker in message.data and not future.done():
                    future.set_result(now)
                    del self.waiters[marker]

    def expect(self, marker: str) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiters[marker] = (future, time.perf_counter())
        return future


class Stub:
    def __init__(self, pk):
        self.pk = pk


def percentile(samples, fraction):
    samples = sorted(samples)
    return samples[min(len(samples) - 1, int(len(samples) * fraction))]


async def run(server, manager, agent_ids, cookies):
    from accounts.services import Actor, activity_change
    from accounts.states import ActivityState

    host = server.url.removeprefix("http://")
    session = aiohttp.ClientSession()
    boards = []
    started = time.perf_counter()
    for cookie in cookies:
        socket = await session.ws_connect(
            f"ws://{host}/ws/console/?page=wallboard",
            headers={"Origin": server.url, "Cookie": f"sessionid={cookie}"},
            max_msg_size=0,
        )
        await socket.receive(timeout=60)  # the first full render
        board = Wallboard(socket)
        board.task = asyncio.create_task(board.read())
        boards.append(board)
    print(f"{len(boards)} wallboards of {len(agent_ids)} agents open in {time.perf_counter() - started:.1f} s")

    states = {}

    def change(agent_id, to_state):
        # The manager sets the state, as from the wallboard; Actor.person only compares ids, so a stub agent will do.
        activity_change(agent_id=agent_id, to_state=to_state, actor=Actor.person(user=manager, agent=Stub(agent_id)))

    async def one_change(agent_id):
        to_state = ActivityState.TRAINING if states.get(agent_id) != ActivityState.TRAINING else ActivityState.READY
        states[agent_id] = to_state
        marker = f'id="agent-{agent_id}" class="row-{to_state.lower()}"'
        futures = [board.expect(marker) for board in boards]
        t0 = time.perf_counter()
        await asyncio.wrap_future(server.submit(lambda: change(agent_id, to_state)))
        arrivals = await asyncio.wait_for(asyncio.gather(*futures), 30)
        return [(arrival - t0) * 1000 for arrival in arrivals]

    # Warm-up (connections, templates), not counted.
    for agent_id in agent_ids[:5]:
        await one_change(agent_id)

    samples, firsts = [], []
    for i in range(CHANGES):
        latencies = await one_change(agent_ids[(i * 7) % len(agent_ids)])
        samples += latencies
        firsts.append(min(latencies))
    print(f"one change at a time, {CHANGES} changes x {len(boards)} wallboards = {len(samples)} deliveries:")
    print(
        f"  first wallboard updated   p50 {statistics.median(firsts):6.1f} ms  p99 {percentile(firsts, 0.99):6.1f} ms"
    )
    p50, p99 = statistics.median(samples), percentile(samples, 0.99)
    print(f"  every wallboard updated   p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  max {max(samples):6.1f} ms")

    burst_ids = agent_ids[100 : 100 + BURST]
    t0 = time.perf_counter()
    results = await asyncio.gather(*(one_change(agent_id) for agent_id in burst_ids))
    burst = [latency for latencies in results for latency in latencies]
    print(f"burst of {BURST} simultaneous changes ({len(burst)} deliveries), all shown after "
          f"{(time.perf_counter() - t0) * 1000:.0f} ms: p50 {statistics.median(burst):6.1f} ms  "
          f"p99 {percentile(burst, 0.99):6.1f} ms")  # fmt: skip

    for board in boards:
        await board.socket.close()
        board.task.cancel()
    await session.close()


def main():
    from console.tests.browser import start_console_server

    database_ready(fresh=True)
    manager, agent_ids, cookies = build()
    server, stop = start_console_server()

    def submit(step):
        from channels.db import database_sync_to_async

        return asyncio.run_coroutine_threadsafe(database_sync_to_async(step)(), server.loop)

    server.submit = submit
    try:
        asyncio.run(run(server, manager, agent_ids, cookies))
    finally:
        stop()


if __name__ == "__main__":
    main()

"""Telephony throughput: the fake Asterisk (its own process) places calls at rising rates against N agents; this
process runs the real telephony engine and PostgreSQL writes. Prints call setups per second, ARI events per second,
the time from an ARI event to the commit of what it caused (p50/p99), and the CPU per call of the engine's process and
of PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pbx_bench .venv/bin/python bench/telephony_throughput.py

A call setup is a caller entering Stasis until the agent's answer is bridged and recorded; each caller hangs up
after a short talk, so the agents (and their wrap-up, set to 0) are reused.

The database is one in service: 20 past calls per agent (`--history`), analysed. `--history 0` starts from empty
tables analysed as empty, a state a real database leaves within its first minute (autovacuum analyses them): until
then PostgreSQL plans sequential scans for the rows a run adds, its foreign-key checks among them, and every batch
pays for it.

The simulated PBX is Python and costs about as much CPU per call as the engine; on 2 cores it competes with the engine
and PostgreSQL, which Asterisk (C, and at these rates on a host of its own) would not. `--fake-nice 19` lowers its
priority, to see the engine's latency without that contest. The figures in the README are at the default, 0.

`--queue` dials one queue of every agent instead of each agent's extension: the caller is answered and waits, the
engine claims the longest-idle READY agent and rings them, and a setup ends when the caller is bridged with the agent.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbx.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pbx_bench")
os.environ["TELEPHONY_ENABLED"] = "false"
os.environ.setdefault("ARGON2_MEMORY_KIB", "1024")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DEBUG", "false")  # as in production: no query log kept in memory
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")


def run_fake(
    port_queue, command_queue, result_queue, agents: int, talk_ms: int, nice: int = 0, queue: str | None = None
) -> None:
    """The simulated PBX, in its own process so its CPU is not counted against the engine's loop. `queue`: the
    number every call dials (None: each agent's extension in turn)."""
    from telephony.fake_ari import FakeAsterisk, Phone

    os.nice(nice)

    async def main():
        fake = FakeAsterisk(user="bench", password="bench")
        port = await fake.start(host="127.0.0.1", port=0)
        for n in range(agents):
            fake.add_endpoint(str(20000 + n), Phone.answer_after(ms=0))
        port_queue.put(port)
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, command_queue.get)
            if command is None:
                break
            rate, seconds = command
            result_queue.put(await drive(fake, rate, seconds, talk_ms))
        await fake.stop()

    async def drive(fake, rate: float, seconds: float, talk: int) -> dict:
        placed, answered, tasks = 0, 0, []
        setup_times: list[float] = []
        last_answer = start = time.monotonic()

        async def one_call(n: int):
            nonlocal answered, last_answer
            t0 = time.monotonic()
            call = await fake.place_call(exten=queue or str(20000 + n % agents), caller_number=f"010{n:08d}")
            try:
                # A direct call is answered when the agent is; a queue's caller is answered first and waits.
                await asyncio.wait_for((call.connected if queue else call.answered).wait(), 10)
            except TimeoutError:
                await call.hangup()
                return
            answered += 1
            last_answer = time.monotonic()
            setup_times.append(last_answer - t0)
            await asyncio.sleep(talk / 1000)
            await call.hangup()

        while time.monotonic() - start < seconds:
            due = int((time.monotonic() - start) * rate)
            while placed < due:
                tasks.append(asyncio.create_task(one_call(placed)))
                placed += 1
            await asyncio.sleep(0.002)
        await asyncio.gather(*tasks)
        setup_times.sort()
        return {
            "placed": placed,
            "answered": answered,
            # Setups per second from the first call placed to the last one answered: the talk time and hangups
            # after the last answer are not setups.
            "setups_per_second": answered / max(1e-9, last_answer - start),
            "setup_p50_ms": 1000 * setup_times[len(setup_times) // 2] if setup_times else None,
            "setup_p99_ms": 1000 * setup_times[int(len(setup_times) * 0.99)] if setup_times else None,
        }

    asyncio.run(main())


def database_cpu_seconds() -> float | None:
    """CPU time used so far by this machine's PostgreSQL processes (the bench's database is on loopback), or None
    where /proc does not tell. Living processes only: a backend that exits between two reads takes its time away."""
    total, found = 0, False
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)
        except OSError:
            continue
        if fields[0].endswith("(postgres"):
            found = True
            utime, stime = fields[1].split()[11:13]
            total += int(utime) + int(stime)
    return total / os.sysconf("SC_CLK_TCK") if found else None


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


async def bench(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    import pbx.asgi  # noqa: F401  (as in the server: its start-up objects frozen for the garbage collector)
    from accounts.models import User
    from calls.models import Call
    from telephony.ari import AriConfig
    from telephony.service import TelephonyService

    await asyncio.to_thread(call_command, "migrate", verbosity=0)
    await asyncio.to_thread(prepare, args.agents, args.history)

    ctx = multiprocessing.get_context("spawn")
    port_queue, command_queue, result_queue = ctx.Queue(), ctx.Queue(), ctx.Queue()
    process = ctx.Process(
        target=run_fake,
        args=(port_queue, command_queue, result_queue, args.agents, args.talk_ms, args.fake_nice,
              BENCH_QUEUE if args.queue else None),
    )  # fmt: skip
    process.start()
    port = await asyncio.to_thread(port_queue.get, True, 30)
    service = TelephonyService(AriConfig("127.0.0.1", port, "bench", "bench", "pbx_ari"), heartbeat=5)
    task = asyncio.create_task(service.run())
    while service.engine is None or service.engine.stats.counters["reconciles"] < 1:
        await asyncio.sleep(0.05)
    engine = service.engine
    engine.stats.keep_latencies = True

    print(f"agents={args.agents} talk={args.talk_ms} ms, engine DB threads={engine.db.threads}, "
          f"past calls per agent={args.history}, calls to {'a queue' if args.queue else 'extensions'}")  # fmt: skip
    print(f"{'rate/s':>7} {'placed':>7} {'setups/s':>9} {'events/s':>9} {'commit p50':>11} {'commit p99':>11} "
          f"{'setup p50':>10} {'setup p99':>10} {'CPU/call':>10} {'DB CPU/call':>12}")  # fmt: skip
    for rate in args.rates:
        engine.stats.commit_latencies.clear()
        events_before = engine.stats.counters["events_received"]
        cpu_before, database_before = time.process_time(), database_cpu_seconds()
        t0 = time.monotonic()
        command_queue.put((rate, args.seconds))
        result = await asyncio.to_thread(result_queue.get, True, args.seconds + 120)
        await engine.idle(30)
        elapsed = time.monotonic() - t0
        cpu_ms_per_call = 1000 * (time.process_time() - cpu_before) / max(1, result["placed"])
        database_after = database_cpu_seconds()
        database_ms_per_call = (
            f"{1000 * (database_after - database_before) / max(1, result['placed']):>10.1f}ms"
            if database_before is not None and database_after is not None
            else f"{'n/a':>12}"
        )
        events = engine.stats.counters["events_received"] - events_before
        latencies = engine.stats.commit_latencies
        print(
            f"{rate:>7} {result['placed']:>7} {result['setups_per_second']:>9.1f} "
            f"{events / elapsed:>9.0f} {1000 * percentile(latencies, 0.5):>9.1f}ms "
            f"{1000 * percentile(latencies, 0.99):>9.1f}ms {result['setup_p50_ms'] or 0:>8.1f}ms "
            f"{result['setup_p99_ms'] or 0:>8.1f}ms {cpu_ms_per_call:>8.1f}ms {database_ms_per_call}",
            flush=True,
        )
        if result["answered"] < result["placed"] * 0.95:
            print(f"  saturated: only {result['answered']} of {result['placed']} calls were set up")
            break
    command_queue.put(None)
    process.join(10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    recorded = await asyncio.to_thread(lambda: Call.objects.filter(state="ENDED").count())
    stuck = await asyncio.to_thread(lambda: User.objects.exclude(activity_state="READY").count())
    print(f"calls recorded: {recorded}; agents not READY at the end: {stuck}")
    print(f"statistics: {statistics.mean(latencies) * 1000 if latencies else 0:.1f} ms mean commit latency (last rate)")


BENCH_QUEUE = "29999"


def prepare(agents: int, history: int) -> None:
    from django.db import connection

    from accounts.models import Role, User
    from calls.models import Call, CallEvent, Offer, Queue
    from companies.models import Company
    from companies.services import company_create

    CallEvent.objects.all().delete()
    Offer.objects.all().delete()
    Call.objects.all().delete()
    User.objects.filter(username__startswith="bench-").delete()
    Company.objects.filter(name="Bench").delete()
    company = company_create(name="Bench", wrapup_seconds=0)
    User.objects.bulk_create(
        User(username=f"bench-{n}", role=Role.AGENT, company=company, extension=str(20000 + n), password="!")
        for n in range(agents)
    )
    # Every agent takes its calls (no members); no wrap-up, so agents are offered calls again at once.
    Queue.objects.create(company=company, name="Bench", number=BENCH_QUEUE, wrapup_seconds=0)
    if history:
        _add_history(company, history)
    if connection.vendor == "postgresql":
        # Each run deletes the last one's rows: without a vacuum the dead rows pile up run after run (millions, with
        # --history) and every scan of calls or agents slows down, so runs would not compare.
        with connection.cursor() as cursor:
            cursor.execute(
                "VACUUM ANALYZE calls_call, calls_callevent, calls_offer, accounts_activitychange, accounts_user"
            )


def _add_history(company, per_agent: int) -> None:
    """Months of answered calls for every agent: what a database in service holds, and the bench's empty one not."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO calls_call (company_id, direction, caller_number, caller_number_index, caller_name,
                dialed_number, agent_id, caller_channel_id, linkedid, bridge_id, state, enqueued_at, answered_at,
                ended_at, wait_seconds, talk_seconds, wrapup_seconds, disposition, hangup_cause_text, hangup_by,
                reconciled, updated_at)
            SELECT %s, 'INBOUND', '', '', '', u.extension, u.id, 'past-' || u.id || '-' || n, '', '', 'ENDED', t, t,
                t + interval '3 minutes', 0, 180, 30, 'ANSWERED', 'Normal Clearing', 'CALLER', false, t
            FROM accounts_user u, generate_series(1, %s) n, LATERAL (SELECT now() - n * interval '5 minutes' AS t) x
            WHERE u.company_id = %s
            """,
            [company.pk, per_agent, company.pk],
        )
        cursor.execute("ANALYZE calls_call")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=600)
    parser.add_argument("--talk-ms", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rates", type=int, nargs="+", default=[50, 100, 200, 300, 400])
    parser.add_argument("--history", type=int, default=20, help="past answered calls per agent (PostgreSQL)")
    parser.add_argument("--queue", action="store_true", help="every call dials one queue of all the agents")
    parser.add_argument(
        "--fake-nice",
        type=int,
        default=0,
        help="scheduling niceness of the simulated PBX (19: it gets only the CPU the engine and PostgreSQL leave)",
    )
    asyncio.run(bench(parser.parse_args()))

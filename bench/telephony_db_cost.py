"""The database side of one call, alone: CPU milliseconds the telephony engine spends in Python for the writes of a
direct call (route, claim, records, agent states, wrap-up), without Asterisk, sockets or the event loop.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pbx_bench .venv/bin/python bench/telephony_db_cost.py --calls 500

`--batch N` writes N calls' records per transaction, as the records writer does under load. Prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbx.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pbx_bench")
os.environ["TELEPHONY_ENABLED"] = "false"
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")


def main(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from pbx.live_push import bind_event_loop

    call_command("migrate", verbosity=0)
    agents = prepare(args.agents)
    # As in the server: live-push messages are handed to a running event loop, not sent from this thread.
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    bind_event_loop(loop)
    with connection.execute_wrapper(_count):
        measure(args, agents)


def measure(args, agents) -> None:
    from telephony import core, directory
    from telephony.writer import WrapUpOver, _Item, apply_batch

    def one_call(n: int) -> list[_Item]:
        """What the engine does for a direct call, in its order; returns the call's records for the writer."""
        key = f"bench-{time.time_ns()}-{n}"
        extension, agent_id = agents[n % len(agents)]
        now = datetime.now(UTC)
        route = directory.route_for_exten(exten=extension)
        [(claim, _reason)] = directory.claim_agents(claims=[(agent_id, f"call {key}")])
        assert claim is not None, "the agent should be READY"
        leg = f"{key}-agent"
        actions = [
            core.RecordStart(exten=extension, caller_number="01012345678", caller_name="", route=route, at=now),
            core.RecordOffer(agent_id=agent_id, channel_id=leg, at=now),
            *(core.RecordEvent(kind=kind, channel_id=leg, at=now, key=f"{kind}:{key}") for kind in EVENTS),
            core.RecordAnswer(agent_id=agent_id, channel_id=leg, bridge_id=f"br-{key}", at=now),
            core.AgentState(agent_id=agent_id, to_state=core.ON_CALL, only_from=(core.CALLING,)),
            core.RecordEnd(disposition="ANSWERED", hangup_by="CALLER", cause=16, cause_text="Normal Clearing", at=now),
            core.RecordOfferEnd(channel_id=leg, result="ANSWERED", cause=16, at=now),
            core.AgentState(agent_id=agent_id, to_state=core.POST_PROCESSING, only_from=(core.ON_CALL,)),
            WrapUpOver(agent_id),
        ]
        return [_Item(key, action, 0.0) for action in actions]

    def write(items: list[_Item]) -> None:
        """As the records writer does: the batch's agents locked first, none held by another transaction here."""
        held: list[_Item] = []
        apply_batch(items=items, held=held)
        assert not held

    for label, batch in (("one call per transaction", 1), (f"{args.batch} calls per transaction", args.batch)):
        QUERIES[0] = 0
        started, cpu = time.monotonic(), time.process_time()
        pending: list = []
        for n in range(args.calls):
            pending += one_call(n)
            if (n + 1) % batch == 0:
                write(pending)
                pending = []
        if pending:
            write(pending)
        cpu_ms = 1000 * (time.process_time() - cpu) / args.calls
        wall_ms = 1000 * (time.monotonic() - started) / args.calls
        queries = QUERIES[0] / args.calls
        print(f"{label:>28}: {cpu_ms:5.2f} ms CPU per call, {wall_ms:5.2f} ms wall, {queries:4.1f} SQL/call")


EVENTS = ("StasisStart", "ChannelStateChange", "Dial", "ChannelHangupRequest", "ChannelDestroyed")
QUERIES = [0]


def _count(execute, sql, params, many, context):
    QUERIES[0] += 1
    if os.environ.get("SHOW_SQL") and QUERIES[0] <= 40:
        print(f"  {QUERIES[0]:3d} {sql[:150]}")
    return execute(sql, params, many, context)


def prepare(agents: int) -> list[tuple[str, int]]:
    from accounts.models import Role, User
    from calls.models import Call, CallEvent, Offer
    from companies.models import Company
    from companies.services import company_create

    CallEvent.objects.all().delete()
    Offer.objects.all().delete()
    Call.objects.all().delete()
    User.objects.filter(username__startswith="dbcost-").delete()
    Company.objects.filter(name="DB cost").delete()
    company = company_create(name="DB cost", wrapup_seconds=0)
    users = User.objects.bulk_create(
        User(
            username=f"dbcost-{n}",
            role=Role.AGENT,
            company=company,
            extension=str(30000 + n),
            password="!",
            sip_secret="bench-secret",
        )  # fmt: skip
        for n in range(agents)
    )
    return [(user.extension, user.pk) for user in users]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--batch", type=int, default=20)
    main(parser.parse_args())

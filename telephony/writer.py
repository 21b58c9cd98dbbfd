"""The records writer: commits what every call decided, in the order decided, many calls per transaction.

One queue for the whole engine and one batch in flight: while a transaction runs, new records queue up and go
together in the next one (group commit). At a few calls a second each batch holds one call's records; at hundreds it
holds dozens of calls', and the cost of a commit, a thread hop and a timeline insert is shared by all of them.
A call's records keep their order because there is one queue and batches commit one after another.

When the database is unreachable the batch is held and retried, and new records keep queueing (bounded, counted,
said loudly when the bound is hit). Every write is idempotent, so a batch retried after a lost commit changes nothing
twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from calls import services as call_records
from telephony import core, directory
from telephony.database import Database, DatabaseUnavailable

logger = logging.getLogger(__name__)

# Enough to share a commit among a few hundred calls' records, small enough that one transaction stays short.
MAX_BATCH = 1000


@dataclass(frozen=True)
class WrapUpOver:
    """The wrap-up timer of an agent ran out: READY (or their "after this call" choice), written with the batch."""

    agent_id: int


@dataclass
class _Item:
    key: str  # the call (its caller channel id)
    action: object
    received: float  # monotonic time of the event that caused it


class RecordWriter:
    def __init__(self, engine, database: Database):
        self.engine, self.database = engine, database
        self.items: list[_Item] = []
        self.queued = 0  # how many items were ever queued …
        self.written = 0  # … and how many of them are written (or given up on): flush() waits for the difference
        self._flushes: list[tuple[int, asyncio.Future]] = []
        self._wakeup = asyncio.Event()
        self.task = asyncio.create_task(self._run(), name="telephony records writer")

    def add(self, key: str, action, received: float) -> None:
        engine = self.engine
        if engine.pending_writes >= settings.TELEPHONY_PENDING_WRITES_LIMIT:
            engine.stats.counters["writes_dropped"] += 1
            logger.error(
                "telephony write dropped: %d writes already held while the database is unreachable (call %s, %s)",
                engine.pending_writes,
                key,
                type(action).__name__,
            )
            return
        engine.pending_writes += 1
        self.items.append(_Item(key, action, received))
        self.queued += 1
        self._wakeup.set()

    async def flush(self) -> None:
        """Wait until everything queued so far is written."""
        if self.written >= self.queued:
            return
        future = asyncio.get_running_loop().create_future()
        self._flushes.append((self.queued, future))
        await future

    async def _run(self) -> None:
        delay = 0.1
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self.items:
                batch = self.items[:MAX_BATCH]
                try:
                    follow_ups = await self.database.run(apply_batch, items=batch)
                except DatabaseUnavailable as error:
                    self.engine.database_lost(str(error))
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                except Exception:
                    # A bug in one call's records must not cost the other calls theirs.
                    logger.exception("telephony records batch failed; writing it call by call")
                    try:
                        follow_ups = await self.database.run(apply_call_by_call, items=batch, engine=self.engine)
                    except DatabaseUnavailable as error:
                        self.engine.database_lost(str(error))
                        continue
                delay = 0.1
                self.engine.database_back()
                self._written(batch)
                self.engine.after_commit(follow_ups)

    def _written(self, batch: list[_Item]) -> None:
        del self.items[: len(batch)]
        self.engine.pending_writes -= len(batch)
        self.written += len(batch)
        now = time.monotonic()
        for item in batch:
            self.engine.stats.latency(now - item.received)
        waiting = []
        for upto, future in self._flushes:
            if upto <= self.written:
                if not future.done():
                    future.set_result(None)
            else:
                waiting.append((upto, future))
        self._flushes = waiting


def apply_batch(*, items: list[_Item]) -> list:
    """One transaction for the batch; returns what to do after the commit (wrap-up timers, freed agents)."""
    follow_ups: list = []
    timeline: list[tuple[str, dict]] = []
    with transaction.atomic():
        for item in items:
            _apply(item.key, item.action, follow_ups, timeline)
        if timeline:
            call_records.calls_events_add(timeline)
    return follow_ups


def apply_call_by_call(*, items: list[_Item], engine) -> list:
    """The fallback after a failed batch: each call in its own transaction, so only a faulty call's records are lost."""
    follow_ups: list = []
    by_call: dict[str, list[_Item]] = {}
    for item in items:
        by_call.setdefault(item.key, []).append(item)
    for key, call_items in by_call.items():
        try:
            follow_ups += apply_batch(items=call_items)
        except DatabaseUnavailable:
            raise
        except Exception:
            logger.exception("telephony records for call %s could not be written; skipped", key)
            engine.stats.counters["writes_failed"] += 1
    return follow_ups


def _apply(key: str, action, follow_ups: list, timeline: list) -> None:
    match action:
        case core.RecordStart():
            route = action.route
            call_records.call_start(
                caller_channel_id=key,
                dialed_number=action.exten,
                caller_number=action.caller_number,
                caller_name=action.caller_name,
                company_id=route.company_id,
                queue_id=route.queue_id,
                agent_id=route.agent_id,
                at=action.at,
                direction=action.direction,
            )
        case core.RecordOffer():
            call_records.call_offer_start(
                caller_channel_id=key, agent_id=action.agent_id, channel_id=action.channel_id, at=action.at
            )
        case core.RecordOfferEnd():
            call_records.call_offer_end(
                channel_id=action.channel_id, result=action.result, cause=action.cause, at=action.at
            )
        case core.RecordAnswer():
            call_records.call_answer(
                caller_channel_id=key,
                agent_id=action.agent_id,
                channel_id=action.channel_id,
                bridge_id=action.bridge_id,
                at=action.at,
            )
        case core.RecordEnd():
            call_records.call_end(
                caller_channel_id=key,
                disposition=action.disposition,
                hangup_by=action.hangup_by,
                cause=action.cause,
                cause_text=action.cause_text,
                at=action.at,
                reconciled=action.reconciled,
            )
        case core.RecordEvent():
            timeline.append((key, _event_row(action)))
        case core.AgentState():
            changed = directory.agent_state_apply(
                agent_id=action.agent_id, to_state=action.to_state, only_from=action.only_from, note=action.note
            )
            if changed and action.to_state == core.READY:
                follow_ups.append(("agent_free", action.agent_id))
        case core.StartWrapUp():
            follow_ups.append(("wrapup", action.agent_id, action.seconds))
        case core.EndpointUnreachable():
            directory.agent_endpoint_unreachable(agent_id=action.agent_id)
        case WrapUpOver():
            directory.wrapup_finish(agent_id=action.agent_id)
            follow_ups.append(("agent_free", action.agent_id))  # ended now or by hand earlier: look for a call
        case _:
            raise TypeError(f"not a record: {action!r}")


def _event_row(action: core.RecordEvent) -> dict:
    return {"at": action.at, "kind": action.kind, "channel_id": action.channel_id, "detail": action.detail,
            "key": action.key}  # fmt: skip

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
from django.db import InterfaceError, OperationalError, transaction

from accounts.services import TelephonyChange
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
    """One transaction for the batch; returns what to do after the commit (wrap-up timers, freed agents).

    The batch is cut into waves in which each call, and each agent, appears at most once: within a wave the records
    touch different rows, so each kind is written for all calls at once; the waves keep every call's own order.
    """
    follow_ups: list = []
    timeline: list[tuple[str, dict]] = []
    with transaction.atomic():
        for wave in _waves(items, follow_ups, timeline):
            _apply_wave(wave, follow_ups)
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
        except (OperationalError, InterfaceError):
            raise  # the database went away: the whole batch is held and retried
        except Exception:
            logger.exception("telephony records for call %s could not be written; skipped", key)
            engine.stats.counters["writes_failed"] += 1
    return follow_ups


def _waves(items: list[_Item], follow_ups: list, timeline: list) -> list[list[_Item]]:
    """Waves of records, at most one per call and per agent each; timeline rows and wrap-up timers need no wave.

    Each record goes to the wave after the one holding its call's (or its agent's) previous record, so a call's
    records keep their order while records of different calls share waves.
    """
    waves: list[list[_Item]] = []
    last_wave: dict = {}  # call key or ("agent", id) -> index of the wave with its latest record
    for item in items:
        action = item.action
        if isinstance(action, core.RecordEvent):
            timeline.append((item.key, _event_row(action)))
            continue
        if isinstance(action, core.StartWrapUp):
            follow_ups.append(("wrapup", action.agent_id, action.seconds))
            continue
        marks = [item.key] if item.key else []
        if isinstance(action, core.AgentState | WrapUpOver | core.EndpointUnreachable):
            marks.append(("agent", action.agent_id))
        index = max((last_wave[mark] + 1 for mark in marks if mark in last_wave), default=0)
        if index == len(waves):
            waves.append([])
        waves[index].append(item)
        for mark in marks:
            last_wave[mark] = index
    return waves


# Each kind of call record and the calls service that writes a wave's worth of them; the record's fields are the
# service's keys, plus the call's caller channel id. Those that read the calls' facts share one read per wave.
_CALL_RECORD_WRITERS = (
    (core.RecordOffer, call_records.offers_start),
    (core.RecordOfferEnd, call_records.offers_end),
    (core.RecordAnswer, call_records.calls_answer),
    (core.RecordEnd, call_records.calls_end),
)
_READ_FACTS = (core.RecordOffer, core.RecordAnswer, core.RecordEnd)


def _apply_wave(wave: list[_Item], follow_ups: list) -> None:
    kinds: dict[type, list[_Item]] = {}
    for item in wave:
        kinds.setdefault(type(item.action), []).append(item)
    if starts := kinds.pop(core.RecordStart, None):
        call_records.calls_start([_start(item.key, item.action) for item in starts])
    keys = [item.key for kind in _READ_FACTS for item in kinds.get(kind, ())]
    facts = call_records.calls_facts(keys) if keys else {}
    for kind, write in _CALL_RECORD_WRITERS:
        if records := kinds.pop(kind, None):
            records = [{"caller_channel_id": item.key, **vars(item.action)} for item in records]
            if kind in _READ_FACTS:
                write(records, facts=facts)
            else:
                write(records)
    changes = kinds.pop(core.AgentState, []) + kinds.pop(WrapUpOver, [])
    if changes:
        _apply_agent_changes([item.action for item in changes], follow_ups)
    for item in kinds.pop(core.EndpointUnreachable, []):
        directory.agent_endpoint_unreachable(agent_id=item.action.agent_id)
    if kinds:
        raise TypeError(f"not records: {list(kinds)}")


def _apply_agent_changes(actions: list, follow_ups: list) -> None:
    changes = [
        TelephonyChange(agent_id=action.agent_id, only_from=(core.POST_PROCESSING,), note="wrap-up time over",
                        after_wrapup=True)
        if isinstance(action, WrapUpOver)
        else TelephonyChange(agent_id=action.agent_id, to_state=action.to_state, only_from=action.only_from,
                             note=action.note)
        for action in actions
    ]  # fmt: skip
    for action, result in zip(actions, directory.agent_changes_apply(changes=changes), strict=True):
        # After a wrap-up (ended now or by hand before) or a change to READY, the agent may take a waiting call.
        if isinstance(action, WrapUpOver) or (result is not None and result.to_state == core.READY):
            follow_ups.append(("agent_free", action.agent_id))


def _start(key: str, action: core.RecordStart) -> dict:
    route = action.route
    return {"caller_channel_id": key, "dialed_number": action.exten, "caller_number": action.caller_number,
            "caller_name": action.caller_name, "company_id": route.company_id, "queue_id": route.queue_id,
            "agent_id": route.agent_id, "at": action.at, "direction": action.direction}  # fmt: skip


def _event_row(action: core.RecordEvent) -> dict:
    return {"at": action.at, "kind": action.kind, "channel_id": action.channel_id, "detail": action.detail,
            "key": action.key}  # fmt: skip

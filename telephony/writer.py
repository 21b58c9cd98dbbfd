"""The records writer: commits what every call decided, in the order decided, many calls per transaction.

One queue for the whole engine and one batch in flight: while a transaction runs, new records queue up and go
together in the next one (group commit). At a few calls a second each batch holds one call's records; at hundreds it
holds dozens of calls', and the cost of a commit, a thread hop and a timeline insert is shared by all of them.
A call's records keep their order because there is one queue and batches commit one after another.

When the database is unreachable the batch is held and retried, and new records keep queueing (bounded, counted,
said loudly when the bound is hit). Every write is idempotent, so a batch retried after a lost commit changes nothing
twice.

An agent's row held by another transaction (an import updating users, a session left open) would make the whole
batch wait for it, and with it every other call. So each batch locks the rows of the agents it changes, skipping
those held elsewhere: the records of those agents, and of their calls, wait in the queue for a later batch (in their
order), and the rest are written now.

On PostgreSQL a batch is two queries, because every round trip costs this thread the GIL, which the busy event loop
gives back only after a while: the first begins, locks the agents and writes the calls' records, the second writes
the agents' changes and commits (apply_batch).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from psycopg.pq import TransactionStatus

from accounts.services import TelephonyChange, agents_lock, agents_lock_statement
from calls import services as call_records
from calls.models import CallState
from pbx.row_source import Statement, Writes, run_writes, sent_together
from telephony import core, directory
from telephony.database import Database, DatabaseUnavailable

logger = logging.getLogger(__name__)

# Enough to share a commit among a few hundred calls' records, small enough that one transaction stays short.
MAX_BATCH = 1000
# How soon records held back by another transaction's lock on their agent are tried again.
HELD_RETRY_SECONDS = 0.1
# Calls whose facts the writer keeps between batches: every call in progress at hundreds of calls a second (an ended
# call's are dropped at once), with room to spare.
MAX_KNOWN_CALLS = 50_000


@dataclass(frozen=True)
class WrapUpOver:
    """The wrap-up timer of an agent ran out: READY (or their "after this call" choice), written with the batch."""

    agent_id: int
    call_key: str = ""  # the call the wrap-up follows, whose wrap-up time is recorded ("": the agent's last one)


@dataclass
class _Item:
    key: str  # the call (its caller channel id)
    action: object
    received: float  # monotonic time of the event that caused it


class RecordWriter:
    def __init__(self, engine, database: Database):
        self.engine, self.database = engine, database
        self.items: list[_Item] = []
        self.unwritten: dict[str, int] = {}  # call key -> its records not yet written (or given up on)
        # call key -> the facts of a call in progress as of the last commit (calls.services keeps them current), so
        # a batch reads only the facts of calls it has not seen: after a restart, or started by another process
        self.known: dict = {}
        self._flushes: list[tuple[str | None, asyncio.Future]] = []
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
        self.unwritten[key] = self.unwritten.get(key, 0) + 1
        self._wakeup.set()

    async def flush(self, key: str | None = None) -> None:
        """Wait until this call's records (every record, without a key) queued so far are written.

        A call waits for its own records only: another call's, held back by a lock on its agent, never delay it.
        """
        if not self._unwritten(key):
            return
        future = asyncio.get_running_loop().create_future()
        self._flushes.append((key, future))
        await future

    def _unwritten(self, key: str | None) -> bool:
        return bool(self.items) if key is None else key in self.unwritten

    async def _run(self) -> None:
        delay = 0.1
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self.items:
                batch = self.items[:MAX_BATCH]
                held: list[_Item] = []
                learned: dict = {}
                try:
                    follow_ups = await self.database.run(
                        apply_batch, items=batch, held=held, known=self.known, learned=learned
                    )
                except DatabaseUnavailable as error:
                    # A commit lost with the connection may have been made: what the batch wrote is read again.
                    self.known.clear()
                    self.engine.database_lost(str(error))
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                except Exception:
                    # A bug in one call's records must not cost the other calls theirs.
                    logger.exception("telephony records batch failed; writing it call by call")
                    self.known.clear()  # the calls' facts are read again, as they are after the fallback
                    held, learned = [], {}
                    try:
                        follow_ups = await self.database.run(
                            apply_call_by_call, items=batch, engine=self.engine, held=held
                        )
                    except DatabaseUnavailable as error:
                        self.engine.database_lost(str(error))
                        continue
                delay = 0.1
                self.engine.database_back()
                self._remember(learned)
                self._written(batch, held)
                self.engine.after_commit(follow_ups)
                if held:
                    self.engine.stats.counters["writes_held_for_locks"] += len(held)
                    if len(self.items) == len(held):
                        # Only records waiting for a lock are left: look again shortly, or when new records come.
                        self._wakeup.clear()
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(HELD_RETRY_SECONDS):
                                await self._wakeup.wait()

    def _remember(self, learned: dict) -> None:
        """The facts of the calls a committed batch wrote, as they are now; an ended call needs none any more."""
        known = self.known
        for key, facts in learned.items():
            known.pop(key, None)  # re-inserted at the end: the oldest entries are the first dropped
            if facts.state != CallState.ENDED:
                known[key] = facts
        while len(known) > MAX_KNOWN_CALLS:
            del known[next(iter(known))]

    def _written(self, batch: list[_Item], held: list[_Item]) -> None:
        # The held records go back to the front of the queue, in their order, ahead of anything of theirs queued since.
        del self.items[: len(batch)]
        self.items[:0] = held
        held_ids = {id(item) for item in held}
        now = time.monotonic()
        for item in batch:
            if id(item) in held_ids:
                continue
            self.engine.pending_writes -= 1
            left = self.unwritten[item.key] - 1
            if left:
                self.unwritten[item.key] = left
            else:
                del self.unwritten[item.key]
            self.engine.stats.latency(now - item.received)
        waiting = []
        for key, future in self._flushes:
            if not self._unwritten(key):
                if not future.done():
                    future.set_result(None)
            else:
                waiting.append((key, future))
        self._flushes = waiting


def apply_batch(
    *, items: list[_Item], held: list[_Item] | None = None, known: dict | None = None, learned: dict | None = None
) -> list:
    """One transaction for the batch; returns what to do after the commit (wrap-up timers, freed agents).

    The calls' facts that the writes need come from `known` (calls seen by earlier batches) or are read once; those
    of every call the batch touched, as the batch leaves them, go into `learned`.

    With `held`, the agents the batch changes are locked without waiting for rows another transaction holds: the
    records that must wait for such a row (and every later record of their call or agent) go to `held`, unwritten.
    The records are cut into waves in which each call, and each agent, appears at most once: within a wave the
    records touch different rows, so each kind is written for all calls at once; the waves keep every call's order.

    On PostgreSQL a batch with `held` takes two round trips: its first query begins the transaction, locks the
    agents and writes every call record; its second writes the agents' changes, decided on the rows locked, and
    commits. When that finds an agent's row held elsewhere, or facts kept in `known` behind the rows (another process
    wrote the call meanwhile), it is rolled back and done again the careful way: agents locked first (the held ones'
    records left out), every call's facts read.
    """
    learned = learned if learned is not None else {}
    connection = transaction.get_connection()
    # Only a transaction of its own can begin and commit in its own queries (not one nested in a caller's).
    fold = held is not None and not connection.in_atomic_block and sent_together(connection)
    while True:
        try:
            return _apply_batch(items, held, known, learned, fold=fold)
        except call_records.FactsOutdated as outdated:
            if known is None:
                raise  # the facts were read in this very transaction: not a matter of kept facts
            known, reason = None, str(outdated)
        except _AgentsNotLocked as missing:
            fold, reason = False, str(missing)
        logger.info("telephony writer: %s; the batch is written again, the careful way", reason)
        for kept in (held, learned):
            if kept is not None:
                kept.clear()


class _AgentsNotLocked(Exception):
    """Agents a batch changes whose rows its first query did not lock: another transaction holds them (or they are
    gone)."""


_BEGIN, _COMMIT = Writes([Statement("BEGIN", [])]), Writes([Statement("COMMIT", [])])


def _apply_batch(items: list[_Item], held: list[_Item] | None, known: dict | None, facts: dict, *, fold: bool) -> list:
    """apply_batch's one try; `known` None: every call's facts are read (those `facts` holds are kept). `fold`: the
    transaction's BEGIN and COMMIT ride on the batch's own two queries (see _own_begin_and_commit)."""
    follow_ups: list = []
    timeline: list[tuple[str, dict]] = []
    connection = transaction.get_connection()
    with transaction.atomic(), _own_begin_and_commit(connection) if fold else contextlib.nullcontext():
        agents = None
        if not fold:
            items, agents = _without_locked_agents(items, held)
        _facts_needed(items, facts, known)
        # Every wave is built now, each on the facts the waves before it will leave (the writes bring `facts` up to
        # date as they are built, and check it when they have run): waves do not wait for each other's results.
        # The timeline rows go after every call they belong to is started; the agents' changes after the calls'.
        writes: list = []
        changes: list[list] = []  # each wave's changes of agents, decided once their rows are locked
        unreachable: list[int] = []
        for wave in _waves(items, follow_ups, timeline):
            wave_changes, wave_unreachable, wave_writes = _wave_writes(wave, facts)
            writes += wave_writes
            changes.append(wave_changes)
            unreachable += wave_unreachable
        if timeline:
            writes.append(call_records.calls_events_writes(timeline))
        if fold:
            agents = _locked_with(connection, writes, {action.agent_id for actions in changes for action in actions})
            writes = []
        for actions in changes:
            if actions:
                writes += _agent_changes_writes(actions, follow_ups, agents)
        if fold and not unreachable:
            writes.append(_COMMIT)  # no write here has a follow-up, which would run after it
        run_writes(connection, writes)
        for agent_id in unreachable:
            directory.agent_endpoint_unreachable(agent_id=agent_id)
    return follow_ups


def _locked_with(connection, writes: list, agent_ids: set) -> dict:
    """Begin the transaction, lock the agents' rows and run `writes`, in one query; the rows locked, {id: agent}."""
    locked: dict = {}
    lock = [Writes([agents_lock_statement(agent_ids)], lambda results: locked.update(results[0]))] if agent_ids else []
    run_writes(connection, [_BEGIN, *lock, *writes])
    if missing := agent_ids - set(locked):
        raise _AgentsNotLocked(f"agents {sorted(missing)} were not locked")
    return locked


@contextlib.contextmanager
def _own_begin_and_commit(connection):
    """Inside transaction.atomic(): psycopg sends no BEGIN or COMMIT of its own (each would be a round trip of its
    own, and every round trip of this thread waits for the GIL, which the busy event loop gives back only after a
    while). The batch's own queries begin and commit; what is still open at the end is committed here, and anything
    that goes wrong rolls back here, before Django's atomic finds the connection idle and has nothing left to do."""
    pg = connection.connection
    pg.autocommit = True
    try:
        yield
        if pg.info.transaction_status != TransactionStatus.IDLE:
            pg.commit()
    except BaseException:
        with contextlib.suppress(Exception):
            pg.rollback()
        raise
    finally:
        with contextlib.suppress(Exception):  # a broken connection: Django's atomic closes it
            pg.autocommit = False


def _facts_needed(items: list[_Item], facts: dict, known: dict | None) -> None:
    """Put the facts of the batch's calls into `facts`: kept ones from `known`, the rest read in one query. A call
    whose first record here is its start is taken to be new (calls_start_writes checks it) and read only when
    `known` is None."""
    wanted, new = set(), set()
    for item in items:
        if isinstance(item.action, _FACTS_KINDS) and item.key not in wanted:
            wanted.add(item.key)
            if isinstance(item.action, core.RecordStart):
                new.add(item.key)
    unread = []
    for key in wanted:
        if key in facts:
            continue
        if known is not None and key in known:
            facts[key] = known[key]
        elif known is None or key not in new:
            unread.append(key)
    if unread:
        facts.update(call_records.calls_facts(unread))


def _without_locked_agents(items: list[_Item], held: list[_Item] | None) -> tuple[list[_Item], dict]:
    """The items to write now, and the rows of their agents, locked (without `held`: waiting for rows held
    elsewhere)."""
    wanted = {agent_id for item in items if (agent_id := _changed_agent(item.action)) is not None}
    if not wanted:
        return items, {}
    locked = agents_lock(wanted, wait=held is None)
    if not locked.held:
        return items, locked.rows
    waiting_calls: set[str] = set()
    waiting_agents = set(locked.held)
    ready = []
    for item in items:
        agent_id = _changed_agent(item.action)
        if (item.key and item.key in waiting_calls) or (agent_id is not None and agent_id in waiting_agents):
            held.append(item)
            if item.key:
                waiting_calls.add(item.key)
            if agent_id is not None:
                waiting_agents.add(agent_id)
        else:
            ready.append(item)
    return ready, locked.rows


def _changed_agent(action) -> int | None:
    """The agent whose row the record changes, if any."""
    if isinstance(action, core.AgentState | WrapUpOver | core.EndpointUnreachable):
        return action.agent_id
    return None


def apply_call_by_call(*, items: list[_Item], engine, held: list[_Item] | None = None) -> list:
    """The fallback after a failed batch: each call in its own transaction, so only a faulty call's records are lost."""
    follow_ups: list = []
    by_call: dict[str, list[_Item]] = {}
    for item in items:
        by_call.setdefault(item.key, []).append(item)
    for key, call_items in by_call.items():
        try:
            follow_ups += apply_batch(items=call_items, held=held)
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
            follow_ups.append(("wrapup", action.agent_id, action.seconds, item.key))
            continue
        marks = [item.key] if item.key else []
        if (agent_id := _changed_agent(action)) is not None:
            marks.append(("agent", agent_id))
        index = max((last_wave[mark] + 1 for mark in marks if mark in last_wave), default=0)
        if index == len(waves):
            waves.append([])
        waves[index].append(item)
        for mark in marks:
            last_wave[mark] = index
    return waves


# Each kind of call record and the calls service's writes for a wave's worth of them; the record's fields are the
# service's keys, plus the call's caller channel id. Those that need the calls' facts share them (_facts_needed).
_CALL_RECORD_WRITES = (
    (core.RecordOffer, call_records.offers_start_writes),
    (core.RecordOfferEnd, call_records.offers_end_writes),
    (core.RecordAnswer, call_records.calls_answer_writes),
    (core.RecordEnd, call_records.calls_end_writes),
    (core.RecordOverflow, call_records.calls_overflow_writes),
)
_READ_FACTS = (core.RecordOffer, core.RecordAnswer, core.RecordEnd, core.RecordOverflow)
_FACTS_KINDS = (core.RecordStart, *_READ_FACTS)


def _wave_writes(wave: list[_Item], facts: dict) -> tuple[list, list[int], list]:
    """The wave's changes of agents (decided later, on their locked rows), its agents whose phones were found
    unreachable, and its call records' writes: every kind's for all its calls at once (the records of a wave touch
    different calls and agents, so no write needs another's result). The writes bring `facts` up to date as they are
    built."""
    kinds: dict[type, list[_Item]] = {}
    for item in wave:
        kinds.setdefault(type(item.action), []).append(item)
    writes = []
    if starts := kinds.pop(core.RecordStart, None):
        starts = [_start(item.key, item.action) for item in starts]
        writes.append(call_records.calls_start_writes(starts, facts=facts))
    for kind, write in _CALL_RECORD_WRITES:
        if records := kinds.pop(kind, None):
            records = [{"caller_channel_id": item.key, **vars(item.action)} for item in records]
            writes.append(write(records, facts=facts) if kind in _READ_FACTS else write(records))
    changes = [item.action for item in kinds.pop(core.AgentState, []) + kinds.pop(WrapUpOver, [])]
    unreachable = [item.action.agent_id for item in kinds.pop(core.EndpointUnreachable, [])]
    if kinds:
        raise TypeError(f"not records: {list(kinds)}")
    return changes, unreachable, writes


def _agent_changes_writes(actions: list, follow_ups: list, agents: dict | None) -> list:
    changes = [
        TelephonyChange(agent_id=action.agent_id, only_from=(core.POST_PROCESSING,), note="wrap-up time over",
                        after_wrapup=True)
        if isinstance(action, WrapUpOver)
        else TelephonyChange(agent_id=action.agent_id, to_state=action.to_state, only_from=action.only_from,
                             note=action.note)
        for action in actions
    ]  # fmt: skip
    wrapped_up = {action.agent_id: action.call_key for action in actions if isinstance(action, WrapUpOver)}
    results, writes = directory.agent_changes_writes(changes=changes, locked=agents, wrapup_calls=wrapped_up)
    for action, result in zip(actions, results, strict=True):
        # After a wrap-up (ended now or by hand before) or a change to READY, the agent may take a waiting call.
        if isinstance(action, WrapUpOver) or (result is not None and result.to_state == core.READY):
            follow_ups.append(("agent_free", action.agent_id))
    return writes


def _start(key: str, action: core.RecordStart) -> dict:
    route = action.route
    return {"caller_channel_id": key, "dialed_number": action.exten, "caller_number": action.caller_number,
            "caller_name": action.caller_name, "company_id": route.company_id, "queue_id": route.queue_id,
            "agent_id": route.agent_id, "at": action.at, "direction": action.direction}  # fmt: skip


def _event_row(action: core.RecordEvent) -> dict:
    return {"at": action.at, "kind": action.kind, "channel_id": action.channel_id, "detail": action.detail,
            "key": action.key}  # fmt: skip

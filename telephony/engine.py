"""The telephony engine: hands each ARI event to its call, runs the routing core, carries out its decisions.

Each call has a worker that handles its events one at a time, in order; different calls run concurrently. Commands
to Asterisk are sent at once; records and agent state changes go to the records writer (telephony.writer), which
commits them in order in its own database thread, so a slow write never stalls the socket reader or another call.
When the database is unreachable the writer holds the records in memory (bounded, counted) until it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import connections

from pbx.encryption import blind_index
from telephony import core, directory
from telephony.ari import AriClient, AriError, AriUnreachable
from telephony.database import Database, DatabaseUnavailable
from telephony.writer import RecordWriter, WrapUpOver

logger = logging.getLogger(__name__)

# What the core decides that the records writer commits (the rest are commands to Asterisk or to the engine).
_RECORDS = (core.RecordStart, core.RecordOffer, core.RecordOfferEnd, core.RecordAnswer, core.RecordEnd,
            core.RecordOverflow, core.RecordEvent, core.AgentState, core.StartWrapUp,
            core.EndpointUnreachable)  # fmt: skip


# Events that never change a routing decision (variables, connected line, dialplan steps).
NOISE_EVENTS = frozenset({"ChannelVarset", "ChannelConnectedLine", "ChannelDialplan", "ChannelCallerId"})


def parse_ari_time(value: str | None) -> datetime:
    """ARI writes `2026-11-25T07:21:18.312+0000`; anything unreadable becomes now."""
    if value:
        try:
            parsed = datetime.fromisoformat(value)  # 3.11 reads the "+0000" offset; ~50x cheaper than strptime
        except (TypeError, ValueError):
            pass
        else:
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


@dataclass
class Stats:
    counters: Counter = field(default_factory=Counter)
    # Seconds from receiving an ARI event to committing the records it caused (kept for the benchmark).
    commit_latencies: list[float] = field(default_factory=list)
    keep_latencies: bool = False

    def latency(self, seconds: float) -> None:
        if self.keep_latencies:
            self.commit_latencies.append(seconds)


# ----------------------------------------------------------------------------------------------------- the worker


class CallWorker:
    """One call: its session, its inbox of events (handled in order) and its timers."""

    def __init__(self, engine: Engine, key: str, session: core.CallSession | None = None):
        self.engine, self.key = engine, key
        self.session = session or core.CallSession(key=key)
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.claim_task: asyncio.Task | None = None
        self.done = False
        self.task = asyncio.create_task(self._run(), name=f"call {key}")

    def post(self, event, received: float | None = None) -> None:
        self.inbox.put_nowait((event, received if received is not None else time.monotonic()))

    async def _run(self) -> None:
        while not self.done:
            event, received = await self.inbox.get()
            try:
                await self.engine.process(self, event, received)
            except Exception:
                # A bug for one event must not end the call's handling, let alone the engine.
                self.engine.stats.counters["events_failed"] += 1
                logger.exception("call %s: could not handle %s", self.key, _describe(event))
        for handle in self.timers.values():
            handle.cancel()
        if self.claim_task is not None:
            self.claim_task.cancel()  # a claim still waiting is dropped; one in the database gives its agent back
        while not self.inbox.empty():
            event, received = self.inbox.get_nowait()
            if isinstance(event, core.AgentClaimed):
                # Claimed just as the call ended: nobody will ring that agent.
                self.engine.writer.add(self.key, core.claim_given_back(event.agent_id), received)
        await self.engine.writer.flush(self.key)  # forgotten only once its records are in: a reconcile must find them
        self.engine.forget(self)

    def start_timer(self, name: str, seconds: float) -> None:
        self.cancel_timer(name)
        loop = asyncio.get_running_loop()
        self.timers[name] = loop.call_later(seconds, lambda: self.post(core.TimerFired(name, datetime.now(UTC))))

    def cancel_timer(self, name: str) -> None:
        handle = self.timers.pop(name, None)
        if handle is not None:
            handle.cancel()


def _describe(event) -> str:
    if isinstance(event, dict):
        channel = (event.get("channel") or event.get("peer") or {}).get("id", "")
        return f"{event.get('type')} {channel}"
    return type(event).__name__


# ----------------------------------------------------------------------------------------------------- the matcher


class Matcher:
    """Offers waiting queue calls to agents: longest-waiting caller first, longest-idle agent first."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.waiting: dict[str, tuple[datetime, int, int]] = {}
        self.poked = asyncio.Event()
        self.task = asyncio.create_task(self._run(), name="matcher")

    def add(self, key: str, *, queue_id: int, company_id: int, since: datetime) -> None:
        self.waiting[key] = (since, queue_id, company_id)
        self.poked.set()

    def remove(self, key: str) -> None:
        self.waiting.pop(key, None)

    def poke(self) -> None:
        if self.waiting:
            self.poked.set()

    async def _run(self) -> None:
        while True:
            # Agents freed elsewhere (the console, another process) are noticed by the poll.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5 if self.waiting else None):
                    await self.poked.wait()
            self.poked.clear()
            try:
                await self._match()
            except DatabaseUnavailable as error:
                self.engine.database_lost(str(error))
                await asyncio.sleep(0.5)
            except Exception:
                logger.exception("queue matching failed; retrying")
                await asyncio.sleep(0.5)

    async def _match(self) -> None:
        """One round: every waiting call, longest-waiting first, asks for an agent of its queue in one database job
        (a job per call capped queue calls at about a hundred a second)."""
        if not self.waiting:
            return
        in_line = sorted(self.waiting.items(), key=lambda kv: kv[1][0])
        queue_round = await self.engine.db.run(
            directory.claim_for_queues, waiting=[(key, queue_id) for key, (_since, queue_id, _company) in in_line]
        )
        claims = queue_round.claims
        for key, claim in claims.items():
            self.waiting.pop(key, None)
            worker = self.engine.workers.get(key)
            if worker is None or worker.done:
                self.engine.writer.add(key, core.claim_given_back(claim.agent_id), time.monotonic())
                continue
            worker.post(core.AgentClaimed(claim.agent_id, claim.endpoint, datetime.now(UTC)))
        if queue_round.unstaffed:
            now = datetime.now(UTC)
            for key, (_since, queue_id, _company) in list(self.waiting.items()):
                worker = self.engine.workers.get(key)
                if queue_id in queue_round.unstaffed and worker is not None and not worker.done:
                    # The call stays in line until its worker moves it on (Dequeue): the core may decide it stays.
                    worker.post(core.QueueUnstaffed(queue_id, now))
        if claims and self.waiting:
            self.poked.set()  # agents may be left for calls that waited behind a full round


# ------------------------------------------------------------------------------------------------------ the claims


@dataclass
class _DirectClaim:
    key: str  # the call
    agent_id: int
    until: float  # monotonic time after which an agent whose row stays locked elsewhere counts as busy
    future: asyncio.Future


class DirectClaims:
    """Claims of the agents that direct calls ring, several per transaction: while one batch is in the database the
    next gathers. An agent asked for twice waits for the next batch, where the first claim has made them busy.

    An agent whose row another transaction holds is asked for again when the records writer commits (the holder is
    most often the writer's own batch, changing that agent) or a moment later, without holding up the batch; a claim
    whose call is gone by the time the database answers gives its agent straight back."""

    RETRY_LOCKED_SECONDS = 0.1

    def __init__(self, engine: Engine):
        self.engine = engine
        self.waiting: list[_DirectClaim] = []
        self.held: list[_DirectClaim] = []  # their agents' rows were held elsewhere: asked for again by retry_held
        self._retry: asyncio.TimerHandle | None = None
        self.wakeup = asyncio.Event()
        self.task = asyncio.create_task(self._run(), name="direct claims")

    def stop(self) -> None:
        self.task.cancel()
        if self._retry is not None:
            self._retry.cancel()

    def retry_held(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        held, self.held = self.held, []
        for claim in held:
            self._add(claim)

    async def claim(self, key: str, agent_id: int, *, wait: float) -> tuple[directory.Claim | None, str]:
        """(claim, "") or (None, "busy" | "offline"); raises DatabaseUnavailable. `wait`: how long to wait for an
        agent whose row another transaction holds before calling them busy."""
        future = asyncio.get_running_loop().create_future()
        self._add(_DirectClaim(key, agent_id, time.monotonic() + wait, future))
        return await future

    def _add(self, claim: _DirectClaim) -> None:
        if not claim.future.done():  # a cancelled claim (its call ended) is dropped
            self.waiting.append(claim)
            self.wakeup.set()

    async def _run(self) -> None:
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            while self.waiting:
                batch, later, agents = [], [], set()
                for claim in self.waiting:
                    if claim.future.done():
                        continue
                    (later if claim.agent_id in agents else batch).append(claim)
                    agents.add(claim.agent_id)
                self.waiting = later
                if not batch:
                    continue
                try:
                    results = await self.engine.db.run(
                        directory.claim_agents, claims=[(claim.agent_id, f"call {claim.key}") for claim in batch]
                    )
                except Exception as error:
                    for claim in batch:
                        if not claim.future.done():
                            claim.future.set_exception(error)
                    continue
                for claim, result in zip(batch, results, strict=True):
                    self._settle(claim, result)

    def _settle(self, claim: _DirectClaim, result: tuple[directory.Claim | None, str]) -> None:
        got, reason = result
        if claim.future.done():
            if got is not None:
                self.engine.writer.add(claim.key, core.claim_given_back(got.agent_id), time.monotonic())
            return
        if reason == "locked":
            if time.monotonic() < claim.until:
                self.held.append(claim)
                if self._retry is None:
                    self._retry = asyncio.get_running_loop().call_later(self.RETRY_LOCKED_SECONDS, self.retry_held)
                return
            result = (None, "busy")
        claim.future.set_result(result)


# ------------------------------------------------------------------------------------------------------ the engine


class Engine:
    def __init__(self, client: AriClient, *, db_threads: int | None = None):
        self.client = client
        self.app = client.config.app
        # SQLite takes one writer at a time: more threads would only wait for its lock.
        sqlite = connections["default"].vendor == "sqlite"
        self.db = Database(1 if sqlite else (db_threads or settings.TELEPHONY_DB_THREADS))
        self.writer = RecordWriter(self, self.db if sqlite else Database(1, name="telephony-writer"))
        self.workers: dict[str, CallWorker] = {}
        self.stats = Stats()
        self.pending_writes = 0
        self.matcher = Matcher(self)
        self.claims = DirectClaims(self)
        self.wrapup_timers: dict[int, asyncio.TimerHandle] = {}
        self._database_down_since: float | None = None
        self._directory: dict[str, core.Route] = {}
        self._blocked: dict[int, frozenset[str]] = {}  # company id -> blind indexes of the numbers it blocks
        self._extensions: frozenset[str] = frozenset()  # of every user, active or not: whose phones to follow
        self._directory_until = 0.0
        self._directory_lock = asyncio.Lock()
        self._routes: dict[str, tuple[float, core.Route]] = {}
        self._endpoint_states: dict[str, str] = {}
        self._background: set[asyncio.Task] = set()

    # -- events from the socket

    def dispatch(self, event: dict, received: float | None = None) -> None:
        """Route one parsed ARI event to its call (never raises: a bad event is counted and skipped)."""
        received = received if received is not None else time.monotonic()
        self.stats.counters["events"] += 1
        kind = event.get("type")
        if not isinstance(kind, str):
            self._skip("event without a type", event)
            return
        if kind in NOISE_EVENTS:
            self.stats.counters["events_ignored"] += 1
            return
        if kind == "EndpointStateChange":
            self._endpoint_changed(event)
            return
        key = self._call_key(event)
        if key is None:
            self.stats.counters["events_ignored"] += 1
            return
        worker = self.workers.get(key)
        if worker is None:
            if kind != "StasisStart" or core.call_key_of_leg(key) is not None:
                self.stats.counters["events_unknown_call"] += 1
                logger.debug("event %s for unknown call %s skipped", kind, key)
                return
            worker = self._new_worker(key)
        worker.post(event, received)

    def _call_key(self, event: dict) -> str | None:
        for name in ("channel", "peer"):
            channel = event.get(name)
            if isinstance(channel, dict) and isinstance(channel.get("id"), str):
                channel_id = channel["id"]
                return core.call_key_of_leg(channel_id) or channel_id
        bridge = event.get("bridge")
        if isinstance(bridge, dict) and isinstance(bridge.get("id"), str):
            return core.call_key_of_bridge(bridge["id"])
        return None

    def _skip(self, why: str, event) -> None:
        self.stats.counters["events_malformed"] += 1
        logger.warning("ARI event skipped (%s): %.200r", why, event)

    def _new_worker(self, key: str, session: core.CallSession | None = None) -> CallWorker:
        worker = CallWorker(self, key, session)
        self.workers[key] = worker
        return worker

    def forget(self, worker: CallWorker) -> None:
        if self.workers.get(worker.key) is worker:
            del self.workers[worker.key]
        self.matcher.remove(worker.key)

    # -- one event of one call

    async def process(self, worker: CallWorker, event, received: float) -> None:
        session = worker.session
        at = parse_ari_time(event.get("timestamp")) if isinstance(event, dict) else getattr(event, "at", None)
        if isinstance(event, dict) and event.get("type") == "StasisStart" and session.route is None:
            event = await self._incoming(worker, event, at)
            if event is None:
                return
        actions = core.handle(session, event, at or datetime.now(UTC))
        await self.execute(worker, actions, received)

    async def _incoming(self, worker: CallWorker, event: dict, at: datetime) -> core.Incoming | None:
        channel = event.get("channel") or {}
        args = event.get("args") or []
        exten = str(args[0]) if args else str((channel.get("dialplan") or {}).get("exten", ""))
        caller = channel.get("caller") or {}
        try:
            route = await self._route(exten)
        except DatabaseUnavailable:
            # Nowhere to look the number up: the caller hears congestion rather than silence.
            await self._command(worker.key, core.Hangup(worker.key, "congestion"))
            worker.done = True
            return None
        caller_number = str(caller.get("number", ""))
        return core.Incoming(
            channel_id=worker.key,
            exten=exten,
            caller_number=caller_number,
            caller_name=str(caller.get("name", "")),
            route=route,
            at=at,
            answered=channel.get("state") == "Up",
            blocked=self._is_blocked(caller_number, route),
        )

    def _is_blocked(self, caller_number: str, route: core.Route) -> bool:
        blocked = self._blocked.get(route.company_id) if route.company_id else None
        return bool(blocked and caller_number) and blind_index(caller_number) in blocked

    async def _route(self, exten: str):
        """Where a number goes, from a directory of every number read again every few seconds.

        A number the directory does not know yet (an extension given a moment ago) is looked up on its own.
        """
        now = time.monotonic()
        if self._directory_until <= now:
            async with self._directory_lock:
                if self._directory_until <= now:
                    self._directory, self._extensions, self._blocked = await self._with_db_retry(
                        directory.directory_read
                    )
                    self._directory_until = time.monotonic() + settings.TELEPHONY_ROUTE_CACHE_SECONDS
                    self._routes.clear()
        route = self._directory.get(exten)
        if route is not None:
            return route
        cached = self._routes.get(exten)
        if cached is not None and cached[0] > now:
            return cached[1]
        route = await self._with_db_retry(directory.route_for_exten, exten=exten)
        self._routes[exten] = (now + settings.TELEPHONY_ROUTE_CACHE_SECONDS, route)
        return route

    async def _with_db_retry(self, fn, *, attempts: int = 6, **kwargs):
        delay = 0.1
        for attempt in range(attempts):
            try:
                return await self.db.run(fn, **kwargs)
            except DatabaseUnavailable as error:
                self.database_lost(str(error))
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def execute(self, worker: CallWorker, actions: list, received: float) -> None:
        # An event's records go to the writer before its commands are sent: they are decided already, and a record
        # queued behind a REST round trip (the bridge before the answer, the other leg's hangup before the end)
        # would wait for Asterisk as well as for its commit. Records keep their order among themselves, and a phone
        # still rings only after its offer is committed (_originate waits for the writer).
        records = [action for action in actions if isinstance(action, _RECORDS)]
        for record in records:
            if isinstance(record, core.EndpointUnreachable):
                self._endpoint_states.clear()  # the next "online" from Asterisk must reach the database
            self.writer.add(worker.key, record, received)
        for action in actions:
            if isinstance(action, _RECORDS):
                continue
            match action:
                case core.Originate():
                    await self._originate(worker, action)
                case core.ClaimAgent():
                    # Claimed alongside the call's events: a caller who leaves meanwhile is heard at once.
                    worker.claim_task = asyncio.create_task(self._claim_direct(worker, action))
                case core.Enqueue():
                    self.matcher.add(worker.key, queue_id=action.queue_id, company_id=action.company_id,
                                     since=action.since)  # fmt: skip
                case core.Dequeue():
                    self.matcher.remove(worker.key)
                case core.StartTimer():
                    worker.start_timer(action.name, action.seconds)
                case core.CancelTimer():
                    worker.cancel_timer(action.name)
                case core.Forget():
                    worker.done = True
                case _:
                    await self._command(worker.key, action)

    async def _command(self, key: str, action) -> None:
        client = self.client
        try:
            match action:
                case core.Answer():
                    await client.answer(action.channel_id)
                case core.Ring():
                    await client.ring(action.channel_id)
                case core.StopRing():
                    await client.ring_stop(action.channel_id)
                case core.Hangup():
                    await client.hangup(action.channel_id, action.reason)
                case core.ContinueInDialplan():
                    await client.continue_in_dialplan(action.channel_id, action.context, action.extension)
                case core.CreateBridge():
                    await client.bridge_create(action.bridge_id, name=f"call-{key}")
                case core.AddToBridge():
                    await client.bridge_add(action.bridge_id, action.channel_ids)
                case core.DestroyBridge():
                    await client.bridge_destroy(action.bridge_id)
        except AriError as error:
            if error.status == 404:
                return  # already gone: the outcome we wanted
            self.stats.counters["commands_failed"] += 1
            logger.warning("call %s: %s", key, error)
            if isinstance(action, core.ContinueInDialplan):
                # The dialplan could not take the caller back: hang up rather than leave them in silence.
                await self._command(key, core.Hangup(action.channel_id, "normal"))
        except AriUnreachable as error:
            self.stats.counters["commands_failed"] += 1
            logger.warning("call %s: %s (the reconnect check will settle the call)", key, error)

    async def _originate(self, worker: CallWorker, action: core.Originate) -> None:
        # The leg's id is stored before the phone rings, so every event finds its call even after a restart.
        await self.writer.flush(worker.key)
        caller_id = f'"{action.caller_name}" <{action.caller_number}>' if action.caller_number else ""
        try:
            await self.client.originate(
                channel_id=action.channel_id,
                endpoint=action.endpoint,
                app_args="dialed",
                caller_id=caller_id,
                timeout=action.timeout,
            )
        except AriError as error:
            worker.post(core.OriginateFailed(action.channel_id, error.status, error.message, datetime.now(UTC)))
        except AriUnreachable as error:
            worker.post(core.OriginateFailed(action.channel_id, 0, str(error), datetime.now(UTC)))

    async def _claim_direct(self, worker: CallWorker, action: core.ClaimAgent) -> None:
        claim, reason = None, "offline"  # if the database stays away: nobody can be claimed
        delay = 0.1
        wait = worker.session.route.ring_timeout if worker.session.route else settings.DIRECT_RING_TIMEOUT
        for _attempt in range(6):
            try:
                claim, reason = await self.claims.claim(worker.key, action.agent_id, wait=wait)
                break
            except DatabaseUnavailable as error:
                self.database_lost(str(error))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            except Exception:
                # Runs beside the call's worker, so nobody else would hear of it; the caller is told, not left ringing.
                self.stats.counters["events_failed"] += 1
                logger.exception("call %s: claiming agent %s failed", worker.key, action.agent_id)
                break
        if claim is None:
            worker.post(core.AgentUnavailable(action.agent_id, reason, datetime.now(UTC)))
        else:
            worker.post(core.AgentClaimed(claim.agent_id, claim.endpoint, datetime.now(UTC)))

    # -- after commits: wrap-up timers, freed agents

    def after_commit(self, follow_ups: list) -> None:
        if self.claims.held:
            self.claims.retry_held()  # the batch's own locks on its agents are gone
        for follow_up in follow_ups:
            if follow_up[0] == "agent_free":
                self.matcher.poke()
            elif follow_up[0] == "wrapup":
                self.schedule_wrapup(follow_up[1], follow_up[2], call_key=follow_up[3])

    def schedule_wrapup(self, agent_id: int, seconds: float, *, call_key: str = "") -> None:
        """`call_key`: the call the wrap-up follows (unknown for one found after a restart)."""
        old = self.wrapup_timers.pop(agent_id, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        self.wrapup_timers[agent_id] = loop.call_later(max(0.0, seconds), lambda: self._wrapup_over(agent_id, call_key))

    def _wrapup_over(self, agent_id: int, call_key: str) -> None:
        self.wrapup_timers.pop(agent_id, None)
        # Through the writer: after this agent's call records, held like them while the database is away.
        self.writer.add("", WrapUpOver(agent_id, call_key), time.monotonic())

    # -- endpoints (phone registration)

    def _endpoint_changed(self, event: dict) -> None:
        endpoint = event.get("endpoint") or {}
        resource, state = endpoint.get("resource"), endpoint.get("state")
        if not isinstance(resource, str) or state not in ("online", "offline", "unknown"):
            self._skip("EndpointStateChange without resource/state", event)
            return
        if self._endpoint_states.get(resource) == state:
            return  # Asterisk repeats the state on every channel change of a subscribed endpoint
        self._endpoint_states[resource] = state
        if self._extensions and resource not in self._extensions:
            # A caller's or trunk's endpoint: no agent to mark. (An extension given in the last few seconds is not
            # in the directory yet; if its phone is away, the first failed ring marks it.)
            return
        self._spawn(self._endpoint_state_save(resource, online=state == "online"))

    async def _endpoint_state_save(self, resource: str, *, online: bool) -> None:
        try:
            await self._with_db_retry(directory.endpoint_state_set, resource=resource, online=online)
        except DatabaseUnavailable:
            return
        if online:
            self.matcher.poke()

    # -- (re)connect: settle every call with what Asterisk has now

    async def reconcile(self) -> None:
        """ARI replays nothing missed while the socket was down: compare Asterisk's channels with our calls."""
        client = self.client
        channels = await client.channels()
        bridges = await client.bridges()
        live = frozenset(c["id"] for c in channels if isinstance(c, dict) and "id" in c)
        live_bridges = frozenset(b["id"] for b in bridges if isinstance(b, dict) and "id" in b)
        now = datetime.now(UTC)

        recorded = await self._with_db_retry(directory.calls_in_progress, attempts=20)
        for session in recorded:
            if session.key not in self.workers:
                self._new_worker(session.key, session)
        for worker in list(self.workers.values()):
            worker.post(core.Reconciled(live, live_bridges, now))
        for call_id in await self._with_db_retry(directory.pending_callbacks, attempts=20):
            await self.place_callback(call_id)
        self.stats.counters["reconciled_calls"] += len(self.workers)

        known = set(self.workers)
        for channel in channels:
            channel_id = channel.get("id", "")
            key = core.call_key_of_leg(channel_id)
            if key is not None:
                if key not in known:
                    # A leg of a call nobody tracks any more: nobody should be left ringing.
                    await self._command(key, core.Hangup(channel_id, "normal"))
                continue
            dialplan = channel.get("dialplan") or {}
            in_our_app = dialplan.get("app_name") == "Stasis" and str(dialplan.get("app_data", "")).startswith(
                f"{self.app},"
            )
            if in_our_app and channel_id not in known:
                # Its StasisStart was sent while we were away: take the call now.
                exten = str(dialplan.get("app_data", "")).split(",", 1)[1]
                synthetic = {"type": "StasisStart", "args": [exten], "channel": channel, "timestamp": ""}
                self._new_worker(channel_id).post(synthetic)
                self.stats.counters["calls_adopted"] += 1
        for bridge_id in live_bridges:
            key = core.call_key_of_bridge(bridge_id)
            if key is not None and key not in self.workers:
                await self._command(key, core.DestroyBridge(bridge_id))

        for agent_id, state in await self._with_db_retry(directory.stranded_agents, attempts=20):
            # Freed as after a call: a ringing agent READY again, a talking one through a wrap-up that ends at once
            # (READY, or what they chose for after this call).
            logger.warning("agent %s was %s for no call in progress; freed", agent_id, state)
            self.stats.counters["agents_freed_stranded"] += 1
            if state == core.CALLING:
                self.writer.add("", core.AgentState(agent_id, core.READY, only_from=(core.CALLING,),
                                                    note="no call in progress"), time.monotonic())  # fmt: skip
            else:
                self.writer.add("", core.AgentState(agent_id, core.POST_PROCESSING, only_from=(core.ON_CALL,),
                                                    note="no call in progress"), time.monotonic())  # fmt: skip
                self.writer.add("", core.StartWrapUp(agent_id, 0), time.monotonic())
        for agent_id, seconds_left in await self._with_db_retry(directory.stuck_wrapups, attempts=20):
            if agent_id not in self.wrapup_timers:
                self.schedule_wrapup(agent_id, seconds_left)
        self.matcher.poke()

    async def sync_endpoints(self) -> None:
        """Follow phone registrations from now on, and take their current state."""
        try:
            # Asterisk counts subscriptions and keeps them across reconnects: subscribe only once.
            application = await self.client.application()
            if "PJSIP" not in (application or {}).get("endpoint_ids", []):
                await self.client.subscribe("endpoint:PJSIP")
            endpoints = await self.client.endpoints()
        except (AriError, AriUnreachable) as error:
            logger.warning("could not read endpoint states: %s", error)
            return
        online = {e["resource"] for e in endpoints if e.get("technology") == "PJSIP" and e.get("state") == "online"}
        self._endpoint_states = {e["resource"]: e.get("state") for e in endpoints if e.get("technology") == "PJSIP"}
        known = {e["resource"] for e in endpoints if e.get("technology") == "PJSIP"}
        await self._with_db_retry(directory.endpoints_sync, online_resources=online, known_resources=known, attempts=20)
        self.matcher.poke()

    # -- callbacks requested from the console

    async def place_callback(self, call_id: int) -> None:
        request = await self._with_db_retry(directory.callback_request_load, call_id=call_id)
        if request is None:
            return
        key, route, number = request
        if key in self.workers:
            return
        self._new_worker(key).post(core.CallbackStart(key, route, number, datetime.now(UTC)))

    # -- health of the database, said once per change

    def database_lost(self, why: str) -> None:
        self.stats.counters["database_errors"] += 1
        if self._database_down_since is None:
            self._database_down_since = time.monotonic()
            logger.error("database unreachable (%s): holding telephony writes in memory until it returns", why)

    def database_back(self) -> None:
        if self._database_down_since is not None:
            logger.warning(
                "database reachable again after %.1f s; %d held writes being written",
                time.monotonic() - self._database_down_since,
                self.pending_writes,
            )
            self._database_down_since = None

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def idle(self, timeout: float = 10.0) -> None:
        """Wait until every call's records are written (tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pending_writes == 0 and all(w.inbox.empty() for w in self.workers.values()):
                return
            await asyncio.sleep(0.01)

    async def close(self, flush_timeout: float = 5.0) -> None:
        # Records already decided are written before the process goes (as long as the database answers).
        try:
            async with asyncio.timeout(flush_timeout):
                await self.writer.flush()
        except TimeoutError:
            logger.error("stopping with %d telephony writes not written", self.pending_writes)
        self.matcher.task.cancel()
        self.claims.stop()
        for handle in self.wrapup_timers.values():
            handle.cancel()
        for worker in list(self.workers.values()):
            worker.task.cancel()
            if worker.claim_task is not None:
                worker.claim_task.cancel()
        self.writer.task.cancel()
        for task in list(self._background):
            task.cancel()
        await self.db.close()
        if self.writer.database is not self.db:
            await self.writer.database.close()

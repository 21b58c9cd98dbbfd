"""Database reads and writes the telephony engine needs, as plain synchronous functions run in its DB threads.

Turning a dialed number into a route, claiming agents, rebuilding calls after a restart, applying recorded
decisions: each goes through the owning app's services or querysets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import ActivityChange, Role, User
from accounts.services import (
    AppliedChange,
    TelephonyChange,
    agents_claim,
    agents_ready_longest_idle,
    agents_working_exist,
    telephony_changes_decide,
)
from accounts.states import ActivityState
from calls import services as call_records
from calls.models import BlockedCaller, Call, CallState, ClosedDay, Offer, Queue
from pbx.row_source import Writes, run_writes
from telephony import core


def agent_endpoint(extension: str) -> str:
    return settings.AGENT_ENDPOINT_TEMPLATE.format(extension=extension)


def route_for_exten(exten: str) -> core.Route:
    """Where a dialed number goes: a queue, an agent's extension, or nowhere."""
    return routes_where(queue_numbers=[exten], extensions=[exten]).get(exten, core.Route(kind=core.RouteKind.UNKNOWN))


def routes_all() -> dict[str, core.Route]:
    """Every routable number at once (the engine's directory, refreshed every few seconds)."""
    return routes_where(queue_numbers=None, extensions=None)


def directory_read() -> tuple[dict[str, core.Route], frozenset[str], dict[int, frozenset[str]]]:
    """The engine's directory: every routable number, every extension any user has (phones to follow), and the
    blind indexes of the numbers each company blocks."""
    return routes_all(), frozenset(agents_with_extensions()), blocked_numbers()


def blocked_numbers() -> dict[int, frozenset[str]]:
    """company id -> blind indexes of the caller numbers it blocks now."""
    blocked: dict[int, set[str]] = {}
    for company_id, index in BlockedCaller.objects.in_force().values_list("company_id", "number_index"):
        blocked.setdefault(company_id, set()).add(index)
    return {company_id: frozenset(indexes) for company_id, indexes in blocked.items()}


def routes_where(*, queue_numbers: list[str] | None, extensions: list[str] | None) -> dict[str, core.Route]:
    """Routes of these numbers (all when None); a queue number wins over an extension, as in route_for_exten."""
    agents = User.objects.filter(
        is_active=True, role__in=[Role.AGENT, Role.MANAGER], company__is_active=True, extension__isnull=False
    )
    if extensions is not None:
        agents = agents.filter(extension__in=extensions)
    routes = {
        extension: core.Route(
            kind=core.RouteKind.AGENT,
            company_id=company_id,
            agent_id=agent_id,
            ring_timeout=settings.DIRECT_RING_TIMEOUT,
            wrapup_seconds=wrapup_seconds,
        )
        for extension, agent_id, company_id, wrapup_seconds in agents.values_list(
            "extension", "pk", "company_id", "company__wrapup_seconds"
        )
    }
    active = Queue.objects.filter(is_active=True, company__is_active=True).select_related("business_hours__company")
    chosen = active if queue_numbers is None else active.filter(number__in=queue_numbers)
    queues = {queue.pk: queue for queue in chosen}
    if queue_numbers is not None:
        wanted = set(queues)
        for _hop in range(MAX_OVERFLOW_HOPS):  # the queues they overflow to, and those queues' own
            missing = {q.overflow_queue_id for q in queues.values()} - set(queues) - {None}
            if not missing:
                break
            queues.update((queue.pk, queue) for queue in active.filter(pk__in=missing))
    closed_days = _closed_days_ahead({queue.business_hours_id for queue in queues.values()} - {None})
    linked = _with_overflow(queues, {pk: _queue_route(queue, closed_days) for pk, queue in queues.items()})
    for pk, route in linked.items():
        if queue_numbers is None or pk in wanted:
            routes[queues[pk].number] = route
    return routes


# Overflow queues followed from a queue at most: a caller is moved on this many times, then the call ends.
MAX_OVERFLOW_HOPS = 3


def _with_overflow(queues: dict[int, Queue], routes: dict[int, core.Route]) -> dict[int, core.Route]:
    """Each queue's route, linked to the routes its callers overflow to in turn: no queue twice in one chain (A → B
    → A stops at B), at most MAX_OVERFLOW_HOPS, and only active queues (an inactive one ends the chain)."""
    linked = {}
    for pk in routes:
        chain, seen, target = [], {pk}, queues[pk].overflow_queue_id
        while target in routes and target not in seen and len(chain) < MAX_OVERFLOW_HOPS:
            chain.append(target)
            seen.add(target)
            target = queues[target].overflow_queue_id
        linked[pk] = _chain(routes[pk], [routes[hop] for hop in chain])
    return linked


def _closed_days_ahead(hours_ids: set[int]) -> dict[int, list]:
    """(day, ranges) of the closed and special days of these hours from yesterday on (any time zone's today), by
    hours id: past years' holidays stay in the database and would only grow every refresh of the directory."""
    days: dict[int, list] = {hours_id: [] for hours_id in hours_ids}
    if hours_ids:
        since = (timezone.now() - timedelta(days=1)).date()
        rows = ClosedDay.objects.filter(hours_id__in=hours_ids, day__gte=since).values_list("hours_id", "day", "ranges")
        for hours_id, day, ranges in rows:
            days[hours_id].append((day, ranges))
    return days


def _queue_route(queue: Queue, closed_days: dict[int, list] | None = None) -> core.Route:
    """The queue's route; with its business hours when `closed_days` are given (a call already in progress has
    passed them)."""
    hours = queue.business_hours if closed_days is not None else None
    return core.Route(
        kind=core.RouteKind.QUEUE,
        company_id=queue.company_id,
        queue_id=queue.pk,
        ring_timeout=queue.ring_timeout_seconds,
        wrapup_seconds=queue.wrapup_seconds,
        max_wait=queue.max_wait_seconds,
        hours=hours.opening_hours(closed_days[hours.pk]) if hours else None,
    )


def _queue_route_in_progress(call: Call, linked_routes: dict[int, core.Route]) -> core.Route:
    """The route of a call in progress in its queue, with the queues its caller may still move on to, but not back
    to the queue they first waited in; its business hours are behind the call and not asked again. `linked_routes`
    keeps each queue's linked route for the next call of that queue (a restart may rebuild hundreds)."""
    queue = call.queue
    if queue.pk not in linked_routes and queue.is_active:
        linked_routes.update(
            (route.queue_id, route) for route in routes_where(queue_numbers=[queue.number], extensions=[]).values()
        )
    linked = linked_routes.get(queue.pk)
    if linked is None:
        return _queue_route(queue)
    hops, target = [], linked.overflow
    while target is not None and target.queue_id != call.overflowed_from_id:
        hops.append(target)
        target = target.overflow
    return _chain(replace(linked, hours=None), hops)


def _chain(route: core.Route, hops: list[core.Route]) -> core.Route:
    """`route` overflowing to `hops` in turn, and no further."""
    overflow = None
    for hop in reversed(hops):
        overflow = replace(hop, overflow=overflow)
    return replace(route, overflow=overflow)


@dataclass(frozen=True)
class Claim:
    agent_id: int
    endpoint: str


# Waiting calls given agents in one round of the matcher at most: one transaction stays short however many wait.
MAX_QUEUE_CLAIMS = 200


@dataclass(frozen=True)
class QueueRound:
    claims: dict[str, Claim]  # call key -> the agent now CALLING for it
    unstaffed: frozenset[int]  # queues that send callers on when nobody works them, and nobody does


def claim_for_queues(*, waiting: list[tuple[str, int]]) -> QueueRound:
    """Agents, now CALLING, for waiting queue calls given as (call key, queue id), longest-waiting first: each call
    gets the longest-idle READY agent of its queue (its members, or the whole company) not given to a call before
    it. A call left out waits for the next round (nobody free, or their agent was taken meanwhile). A queue with no
    agent free that sends its callers on when nobody works it is looked at once more: is anyone working it at all?

    A read of the candidates per queue and one claim statement for every call (agents_claim): a round costs the
    same few round trips for one call as for two hundred."""
    waiting = waiting[:MAX_QUEUE_CLAIMS]
    queue_ids = {queue_id for _key, queue_id in waiting}
    rows = Queue.objects.filter(pk__in=queue_ids, is_active=True).values_list(
        "pk", "company_id", "overflow_when_unstaffed", "overflow_queue_id"
    )
    companies = {pk: company_id for pk, company_id, _unstaffed, _overflow in rows}
    leave_when_unstaffed = {pk for pk, _company, unstaffed, overflow in rows if unstaffed and overflow}
    members: dict[int, list[int]] = {}
    for queue_id, user_id in Queue.members.through.objects.filter(queue_id__in=companies).values_list(
        "queue_id", "user_id"
    ):
        members.setdefault(queue_id, []).append(user_id)
    # Queues of a company may share agents: each queue reads as many as every waiting call could take.
    candidates = {
        queue_id: agents_ready_longest_idle(company_id=company_id, among_ids=members.get(queue_id), limit=len(waiting))
        for queue_id, company_id in companies.items()
    }
    taken: set[int] = set()
    chosen: list[tuple[str, int, str]] = []
    for key, queue_id in waiting:
        agent = next((agent for agent in candidates.get(queue_id, ()) if agent[0] not in taken), None)
        if agent is not None:
            taken.add(agent[0])
            chosen.append((key, *agent))
    found = agents_claim([(agent_id, f"call {key}") for key, agent_id, _extension in chosen])
    claims = {
        key: Claim(agent_id, agent_endpoint(extension))
        for key, agent_id, extension in chosen
        if found[agent_id].claimed
    }
    unstaffed = frozenset(
        queue_id
        for queue_id in leave_when_unstaffed
        if not candidates[queue_id]
        and not agents_working_exist(company_id=companies[queue_id], among_ids=members.get(queue_id))
    )
    return QueueRound(claims, unstaffed)


def claim_agents(*, claims: list[tuple[int, str]]) -> list[tuple[Claim | None, str]]:
    """Direct calls' agents, now CALLING, at once: per claim (claim, "") or (None, "busy" | "offline"), or
    (None, "locked") where another transaction holds the agent's row (ask again later; nothing was waited for).

    Each agent once per call of this function (DirectClaims holds a second claim for the next batch)."""
    found = agents_claim(claims)
    results: list[tuple[Claim | None, str]] = []
    for agent_id, _note in claims:
        agent = found[agent_id]
        if agent.held:
            results.append((None, "locked"))
        elif agent.claimed:
            results.append((Claim(agent_id, agent_endpoint(agent.extension)), ""))
        elif agent.state == ActivityState.READY and not agent.endpoint_online:
            results.append((None, "offline"))  # READY, but the phone is not registered
        else:
            results.append((None, "busy"))
    return results


def agent_changes_apply(
    *, changes: list[TelephonyChange], locked: dict[int, User] | None = None, wrapup_calls: dict[int, str] | None = None
) -> list[AppliedChange | None]:
    """State changes of different agents at once (a wave of the records writer), in its transaction; `locked` as
    for telephony_changes_apply.

    A change with after_wrapup ends the agent's wrap-up (unless they ended it already): READY, or what they chose for
    after this call; either way the call's wrap-up time is recorded, for the average handle time, on the call
    `wrapup_calls` names for the agent (by its caller channel id), or else on the agent's last answered call.
    """
    with transaction.atomic(savepoint=False):
        results, writes = agent_changes_writes(changes=changes, locked=locked, wrapup_calls=wrapup_calls)
        run_writes(transaction.get_connection(), writes)
    return results


def agent_changes_writes(
    *, changes: list[TelephonyChange], locked: dict[int, User] | None = None, wrapup_calls: dict[int, str] | None = None
) -> tuple[list[AppliedChange | None], list[Writes]]:
    """agent_changes_apply's decisions, and the writes that record them, to run with the rest of a writer's wave."""
    results, writes = telephony_changes_decide(changes, locked=locked)
    wrapups = {}
    for change, result in zip(changes, results, strict=True):
        if change.after_wrapup and (seconds := _wrapup_seconds(change.agent_id, result)) is not None:
            wrapups[change.agent_id] = seconds
    if wrapups:
        return results, [writes, call_records.calls_wrapup_writes(wrapups, calls=wrapup_calls)]
    return results, [writes]


def _wrapup_seconds(agent_id: int, ended: AppliedChange | None) -> float | None:
    if ended is not None and ended.from_state == ActivityState.POST_PROCESSING:
        return ended.seconds_in_previous
    # The agent ended wrap-up by hand: its length is in the audit log.
    return (
        ActivityChange.objects.filter(agent_id=agent_id, from_state=ActivityState.POST_PROCESSING)
        .order_by("-changed_at", "-id")
        .values_list("seconds_in_previous", flat=True)
        .first()
    )


def endpoint_state_set(*, resource: str, online: bool) -> int:
    """Follow the agent's phone registration; a READY agent whose phone is offline is offered no calls."""
    agents = list(User.objects.filter(extension=resource).exclude(endpoint_online=online))
    for agent in agents:
        with transaction.atomic():
            User.objects.filter(pk=agent.pk).update(endpoint_online=online)
            from accounts.live import publish_agent_state

            transaction.on_commit(
                lambda agent=agent: publish_agent_state(agent_id=agent.pk, company_id=agent.company_id)
            )
    return len(agents)


def agent_endpoint_unreachable(*, agent_id: int) -> None:
    """Asterisk could not ring the agent's phone: treat it as unregistered until Asterisk says it is back."""
    extension = User.objects.filter(pk=agent_id).values_list("extension", flat=True).first()
    if extension:
        endpoint_state_set(resource=extension, online=False)


def callback_request_load(*, call_id: int) -> tuple[str, core.Route, str] | None:
    """A callback the console asked for: (call key, route, customer number); None if it is not pending."""
    call = (
        Call.objects.filter(pk=call_id, direction="OUTBOUND", state=CallState.WAITING)
        .select_related("agent", "company", "callback_of")
        .first()
    )
    number = call and (call.dialed_number or (call.callback_of.caller_number if call.callback_of else ""))
    if call is None or call.agent is None or not number:
        return None
    route = core.Route(
        kind=core.RouteKind.CALLBACK,
        company_id=call.company_id,
        agent_id=call.agent_id,
        ring_timeout=settings.DIRECT_RING_TIMEOUT,
        wrapup_seconds=call.company.wrapup_seconds if call.company else 10,
        customer_endpoint=settings.CUSTOMER_ENDPOINT_TEMPLATE.format(number=number),
    )
    return call.caller_channel_id, route, number


def endpoints_sync(*, online_resources: set[str], known_resources: set[str]) -> None:
    """After a connect: agents' registration as Asterisk reports it now."""
    for agent in User.objects.filter(extension__in=known_resources):
        online = agent.extension in online_resources
        if agent.endpoint_online != online:
            endpoint_state_set(resource=agent.extension, online=online)


def calls_in_progress() -> list[core.CallSession]:
    """Every call the database says is still going, as sessions the core can reconcile (after a restart)."""
    calls = Call.objects.in_progress().exclude(pk__in=pending_callbacks()).select_related("queue", "agent", "company")
    linked_routes: dict[int, core.Route] = {}
    return [_session_from_record(call, linked_routes) for call in calls]


def pending_callbacks() -> list[int]:
    """Callbacks asked for but not yet placed (the request may have come while no leader was listening)."""
    return list(
        Call.objects.filter(
            direction="OUTBOUND", callback_of__isnull=False, state=CallState.WAITING, offers=None
        ).values_list("pk", flat=True)
    )


def _session_from_record(call: Call, linked_routes: dict[int, core.Route]) -> core.CallSession:
    if call.direction == "OUTBOUND" and call.callback_of_id:
        route = core.Route(kind=core.RouteKind.CALLBACK, company_id=call.company_id, agent_id=call.agent_id)
    elif call.queue_id:
        route = _queue_route_in_progress(call, linked_routes)
    elif call.agent_id:
        route = core.Route(
            kind=core.RouteKind.AGENT,
            company_id=call.company_id,
            agent_id=call.agent_id,
            ring_timeout=settings.DIRECT_RING_TIMEOUT,
            wrapup_seconds=call.company.wrapup_seconds if call.company else 10,
        )
    else:
        route = core.Route(kind=core.RouteKind.UNKNOWN)
    phase = {
        CallState.WAITING: core.Phase.WAITING,
        CallState.RINGING: core.Phase.RINGING,
        CallState.CONNECTED: core.Phase.CONNECTED,
    }.get(call.state, core.Phase.WAITING)
    session = core.CallSession(
        key=call.caller_channel_id,
        caller_channel_id="" if route.kind == core.RouteKind.CALLBACK else call.caller_channel_id,
        route=route,
        phase=phase,
        caller_answered=call.answered_at is not None or bool(call.queue_id),
        bridge_id=call.bridge_id,
        answered_agent_id=call.agent_id if call.answered_at else None,
        answered_at=call.answered_at,
        caller_number=call.caller_number,
        caller_name=call.caller_name,
    )
    if route.kind == core.RouteKind.QUEUE and call.answered_at is None:
        # Its place in line and its deadline, counted from when it called (an overflow since is not recorded, so a
        # caller moved on meets the next deadline sooner rather than later).
        session.waiting_since = call.enqueued_at
        session.overflowed_from = call.overflowed_from_id
        session.max_wait_until = call.enqueued_at + timedelta(seconds=route.max_wait)
    offers = list(Offer.objects.filter(call=call).order_by("offered_at", "id"))
    session.offers_made = len(offers)
    open_offer = next((o for o in reversed(offers) if not o.result or o.result == "ANSWERED"), None)
    if open_offer is not None and (open_offer.ended_at is None):
        session.offer = core.OfferLeg(
            agent_id=open_offer.agent_id,
            channel_id=open_offer.channel_id,
            endpoint="",
            answered=open_offer.answered_at is not None,
        )
    return session


def stuck_wrapups() -> list[tuple[int, float]]:
    """Agents in wrap-up with no timer (after a restart): (agent id, seconds left)."""
    result = []
    now = timezone.now()
    for agent in User.objects.filter(activity_state=ActivityState.POST_PROCESSING).select_related("company"):
        call = Call.objects.filter(agent=agent, state=CallState.ENDED).select_related("queue").first()
        if call is not None and call.queue is not None:
            wrapup = call.queue.wrapup_seconds
        else:
            wrapup = agent.company.wrapup_seconds if agent.company else 0
        left = wrapup - (now - agent.activity_changed_at).total_seconds()
        result.append((agent.pk, max(0.0, left)))
    return result


# An agent ringing or talking longer than this with no call in progress for them is left over from a call whose end
# was lost (an engine bug, a crash between two writes); far longer than any ring, and than a claim on its way to
# being recorded, so a call being set up right now is never mistaken for one.
STRANDED_AFTER = timedelta(minutes=10)


def stranded_agents() -> list[tuple[int, str]]:
    """(agent id, state) of agents CALLING or ON_CALL for no call in progress: nothing would ever free them."""
    busy = User.objects.filter(
        activity_state__in=(ActivityState.CALLING, ActivityState.ON_CALL),
        activity_changed_at__lt=timezone.now() - STRANDED_AFTER,
    )
    in_progress = Call.objects.in_progress()
    ringing = Offer.objects.filter(call__in=in_progress, ended_at=None).values("agent_id")
    talking = in_progress.exclude(agent=None).values("agent_id")
    stranded = busy.exclude(pk__in=ringing).exclude(pk__in=talking)
    return list(stranded.values_list("pk", "activity_state"))


def agents_with_extensions() -> set[str]:
    return set(User.objects.exclude(extension=None).values_list("extension", flat=True))

"""Reads the web console makes over calls: the call log behind a keyset cursor, today's figures, missed calls.

Every read starts from a `visible_to(user)` queryset, so tenancy is decided once, in the models.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, F, Min, OuterRef, Prefetch, Q, Sum
from django.utils import timezone

from accounts.models import Role, User
from calls.models import Call, CallEvent, CallNote, CallState, ClosedDay, Direction, Disposition, Offer, Queue
from pbx.keyset_cursor import cursor_decode, cursor_encode

CURSOR_SALT = "console.calls.cursor"
EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(9000, 1, 1)
# Calls nobody answered: the list of missed and abandoned calls, and what a callback can follow up (after-hours
# callers too: they are the first ones called back in the morning).
UNANSWERED = (
    Disposition.ABANDONED, Disposition.NO_ANSWER, Disposition.BUSY, Disposition.FAILED, Disposition.CLOSED
)  # fmt: skip


def zone_of(company) -> ZoneInfo:
    """The company's time zone (Asia/Seoul unless it says otherwise); a bad name falls back to the server's."""
    name = (getattr(company, "time_zone", "") or "") or settings.TIME_ZONE
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def reader_zone(user: User) -> ZoneInfo:
    return zone_of(user.company if user.company_id else None)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def today_start(zone: ZoneInfo, *, now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    return day_start(now.astimezone(zone).date(), zone)


# --- the call log ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallFilters:
    company_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    agent_id: int | None = None
    queue_id: int | None = None
    disposition: str = ""
    direction: str = ""
    phone: str = ""
    state: str = ""


def calls_filtered(*, user: User, filters: CallFilters, zone: ZoneInfo | None = None):
    """The call log's filters, for the console and the API alike. Days are the reader's company days; a day beyond
    what PostgreSQL can hold names no call (ignored as a bound, or nothing at all when it excludes every call)."""
    calls = Call.objects.visible_to(user)
    zone = zone or reader_zone(user)
    if filters.date_from and EARLIEST_DAY <= filters.date_from <= LATEST_DAY:
        calls = calls.filter(enqueued_at__gte=day_start(filters.date_from, zone))
    if filters.date_to and EARLIEST_DAY <= filters.date_to <= LATEST_DAY:
        calls = calls.filter(enqueued_at__lt=day_start(filters.date_to + timedelta(days=1), zone))
    if (filters.date_to and filters.date_to < EARLIEST_DAY) or (filters.date_from and filters.date_from > LATEST_DAY):
        calls = calls.none()
    if filters.state:
        calls = calls.filter(state=filters.state)
    if filters.company_id is not None:
        calls = calls.filter(company_id=filters.company_id)
    if filters.agent_id is not None:
        calls = calls.filter(agent_id=filters.agent_id)
    if filters.queue_id is not None:
        calls = calls.filter(queue_id=filters.queue_id)
    if filters.disposition:
        calls = calls.filter(disposition=filters.disposition)
    if filters.direction:
        calls = calls.filter(direction=filters.direction)
    if filters.phone:
        calls = calls.with_caller_number(filters.phone.strip())
    return calls


@dataclass(frozen=True)
class CallPage:
    calls: list[Call]
    next_cursor: str | None


def calls_page(*, user: User, filters: CallFilters, cursor: str = "", limit: int = 50) -> CallPage:
    """Newest first. The cursor is the last (enqueued_at, id) shown, so a page costs the same on day 1 and day 900
    (an index range scan on one of the `call_*_time` indexes), and calls arriving meanwhile shift nothing."""
    calls = calls_filtered(user=user, filters=filters)
    if cursor:
        at, call_id = cursor_decode(cursor, salt=CURSOR_SALT)
        calls = calls.filter(Q(enqueued_at__lt=at) | Q(enqueued_at=at, pk__lt=call_id))
    rows = list(calls.select_related("queue", "agent", "company").order_by("-enqueued_at", "-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more and rows else None
    next_cursor = cursor_encode(last.enqueued_at, last.pk, salt=CURSOR_SALT) if last else None
    return CallPage(calls=rows, next_cursor=next_cursor)


def calls_for_export(*, user: User, filters: CallFilters):
    """The whole filtered set, newest first, read in chunks by the streamed CSV export."""
    return (
        calls_filtered(user=user, filters=filters)
        .select_related("queue", "agent", "company")
        .order_by("-enqueued_at", "-id")
        .iterator(chunk_size=2000)
    )


def call_detail(*, user: User, call_id: int) -> Call | None:
    return (
        Call.objects.visible_to(user)
        .select_related("queue", "agent", "company", "callback_of", "overflowed_from")
        .filter(pk=call_id)
        .first()
    )


def call_note_text(*, call: Call) -> str:
    """The call's note, '' when nobody wrote one."""
    return call_notes(calls=[call]).get(call.pk, "")


def call_notes(*, calls) -> dict[int, str]:
    """{call id: its note} for the calls that have one."""
    return dict(CallNote.objects.filter(call_id__in=[call.pk for call in calls]).values_list("call_id", "text"))


def call_timeline(*, call: Call) -> list[CallEvent]:
    return list(CallEvent.objects.filter(call=call).order_by("at", "id"))


def call_offers(*, call: Call) -> list[Offer]:
    return list(Offer.objects.filter(call=call).select_related("agent").order_by("offered_at", "id"))


# --- the agent console --------------------------------------------------------------------------------------


def agent_current_call(*, agent: User) -> Call | None:
    """The call the agent is ringing for or talking on, if any (the newest, should a stale one linger)."""
    return (
        Call.objects.in_progress()
        .filter(agent_id=agent.pk, company_id=agent.company_id, state__in=[CallState.RINGING, CallState.CONNECTED])
        .select_related("queue")
        .order_by("-enqueued_at", "-id")
        .first()
    )


@dataclass
class AgentDay:
    calls: list[Call]
    answered: int = 0
    talk_seconds: float = 0.0
    wrapup_seconds: float = 0.0
    missed_offers: int = 0

    @property
    def handle_seconds(self) -> float:
        return self.talk_seconds + self.wrapup_seconds

    @property
    def average_handle_seconds(self) -> float | None:
        return self.handle_seconds / self.answered if self.answered else None


def agent_today(*, agent: User, now: datetime | None = None) -> AgentDay:
    start = today_start(zone_of(agent.company), now=now)
    calls = list(
        Call.objects.filter(agent_id=agent.pk, company_id=agent.company_id, enqueued_at__gte=start)
        .select_related("queue")
        .annotate(has_note=Exists(CallNote.objects.filter(call=OuterRef("pk"))))
        .order_by("-enqueued_at", "-id")[:200]
    )
    totals = Call.objects.filter(
        agent_id=agent.pk, company_id=agent.company_id, enqueued_at__gte=start, disposition=Disposition.ANSWERED
    ).aggregate(answered=Count("id"), talk=Sum("talk_seconds"), wrapup=Sum("wrapup_seconds"))
    missed = Offer.objects.missed().filter(agent_id=agent.pk, offered_at__gte=start).count()
    return AgentDay(
        calls=calls,
        answered=totals["answered"] or 0,
        talk_seconds=totals["talk"] or 0.0,
        wrapup_seconds=totals["wrapup"] or 0.0,
        missed_offers=missed,
    )


# --- missed and abandoned calls -------------------------------------------------------------------------------


def missed_calls_today(*, user: User, now: datetime | None = None):
    """Today's inbound calls nobody answered, newest first, each with `called_back` (a callback reached the customer),
    `calling_back` (one is under way) and `callback_tried` (one was made: reached or not).

    Managers see the company's; an agent sees those of the queues they take (a queue with no members is everyone's)
    and those offered to them, since callbacks are theirs to make.
    """
    if not user.is_authenticated:
        return Call.objects.none()
    start = today_start(reader_zone(user), now=now)
    calls = Call.objects.filter(
        direction=Direction.INBOUND, state=CallState.ENDED, disposition__in=UNANSWERED, enqueued_at__gte=start
    )
    if user.role == Role.AGENT:
        queues = Queue.objects.filter(company_id=user.company_id).filter(
            Q(members=user) | ~Exists(Queue.members.through.objects.filter(queue_id=OuterRef("pk")))
        )
        calls = calls.filter(company_id=user.company_id).filter(
            Q(queue__in=queues) | Q(agent_id=user.pk) | Q(offers__agent_id=user.pk)
        )
    elif not user.is_system_admin:
        calls = calls.filter(company_id=user.company_id)
    callbacks = Call.objects.filter(callback_of=OuterRef("pk"))
    return (
        calls.distinct()
        .annotate(
            # A callback that failed (the customer's line busy, no answer) leaves the call still to be returned.
            called_back=Exists(callbacks.filter(disposition=Disposition.ANSWERED)),
            calling_back=Exists(callbacks.exclude(state=CallState.ENDED)),
            callback_tried=Exists(callbacks),
        )
        .select_related("queue", "agent", "company")
        .order_by("-enqueued_at", "-id")
    )


# --- the wallboard ---------------------------------------------------------------------------------------------


def wallboard_agents(*, company_id: int):
    return (
        User.objects.agents()
        .filter(company_id=company_id, is_active=True)
        .select_related("pause_reason")
        .order_by("last_name", "first_name", "username")
    )


@dataclass
class QueueWaiting:
    queue: Queue
    waiting: int = 0
    oldest_at: datetime | None = None
    closed: bool = False  # outside its business hours now
    # When it opens (closed) or closes (open with hours): the wallboard reads the panel again then.
    changes_at: datetime | None = None


def queues_waiting(*, company_id: int, now: datetime | None = None) -> list[QueueWaiting]:
    now = now or timezone.now()
    # Pushed at every change of a waiting line: past years' holidays are not read again each time.
    days_ahead = ClosedDay.objects.filter(day__gte=(now - timedelta(days=1)).date())
    queues = list(
        Queue.objects.filter(company_id=company_id, is_active=True)
        .select_related("business_hours__company")
        .prefetch_related(Prefetch("business_hours__closed_days", queryset=days_ahead))
        .order_by("number")
    )
    rows = {q.pk: _queue_waiting(q, now) for q in queues}
    waiting = (
        Call.objects.in_progress()
        .filter(company_id=company_id, state=CallState.WAITING, queue__isnull=False)
        .values("queue_id")
        .annotate(n=Count("id"), oldest=Min("enqueued_at"))
    )
    for row in waiting:
        if row["queue_id"] in rows:
            rows[row["queue_id"]].waiting = row["n"]
            rows[row["queue_id"]].oldest_at = row["oldest"]
    return list(rows.values())


def _queue_waiting(queue: Queue, now: datetime) -> QueueWaiting:
    if queue.business_hours is None:
        return QueueWaiting(queue=queue)
    hours = queue.business_hours
    opening = hours.opening_hours([(closed.day, closed.ranges) for closed in hours.closed_days.all()])
    if opening.is_open(now):
        return QueueWaiting(queue=queue, changes_at=opening.next_closing(now))
    return QueueWaiting(queue=queue, closed=True, changes_at=opening.next_opening(now))


@dataclass
class Figures:
    """A queue's or an agent's figures over a period, today's on the wallboard (definitions are on its page)."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    within_service_level: int = 0
    wait_answered_total: float = 0.0
    handle_total: float = 0.0
    missed_offers: int = 0
    after_hours: int = 0  # queue calls that came outside the queue's business hours: not offered to anyone
    # Callers who moved on from the queue at its maximum wait to its overflow queue (whose figures count the call);
    # for days, hours and totals: calls that overflowed from any queue (from the report's queue, if it has one).
    overflowed: int = 0

    @property
    def abandon_rate(self) -> float | None:
        return self.abandoned / self.offered if self.offered else None

    @property
    def average_speed_of_answer(self) -> float | None:
        return self.wait_answered_total / self.answered if self.answered else None

    @property
    def average_handle_time(self) -> float | None:
        return self.handle_total / self.answered if self.answered else None

    @property
    def service_level(self) -> float | None:
        return self.within_service_level / self.offered if self.offered else None


@dataclass
class WallboardFigures:
    per_queue: list[tuple[Queue, Figures]] = field(default_factory=list)
    per_agent: list[tuple[User, Figures]] = field(default_factory=list)
    total: Figures = field(default_factory=Figures)


_ANSWERED = Q(disposition=Disposition.ANSWERED)
_AFTER_HOURS = Q(disposition=Disposition.CLOSED)
# Calls turned away before any agent could have taken them: after hours, or from a blocked number.
_NOT_OFFERED = Q(disposition__in=(Disposition.CLOSED, Disposition.BLOCKED))


def _figure_aggregates():
    return {
        "offered": Count("id", filter=~_NOT_OFFERED),
        "after_hours": Count("id", filter=_AFTER_HOURS),
        "answered": Count("id", filter=_ANSWERED),
        "abandoned": Count("id", filter=Q(disposition=Disposition.ABANDONED)),
        "wait": Sum("wait_seconds", filter=_ANSWERED),
        "talk": Sum("talk_seconds", filter=_ANSWERED),
        "wrapup": Sum("wrapup_seconds", filter=_ANSWERED),
    }


def figures_of(row) -> Figures:
    return Figures(
        offered=row["offered"],
        answered=row["answered"],
        abandoned=row["abandoned"],
        wait_answered_total=row["wait"] or 0.0,
        handle_total=(row["talk"] or 0.0) + (row["wrapup"] or 0.0),
        within_service_level=row.get("within", 0) or 0,
        after_hours=row.get("after_hours", 0) or 0,
    )


def missed_offers_per_agent(*, company_id: int, since: datetime, until: datetime | None = None):
    """(agent id, offers they let ring out or refused) of the company in that time (index `offer_company_time`)."""
    offers = Offer.objects.missed().filter(company_id=company_id, offered_at__gte=since)
    if until is not None:
        offers = offers.filter(offered_at__lt=until)
    return offers.values_list("agent_id").annotate(n=Count("id"))


def ended_calls(*, company_id: int, start: datetime, end: datetime | None = None):
    """The company's calls that entered between start and end (open: up to now) and are over (index
    `call_company_time`). Offered means the call reached us and is over: a call still waiting is not yet answered nor
    abandoned."""
    calls = Call.objects.filter(company_id=company_id, enqueued_at__gte=start, state=CallState.ENDED)
    return calls.filter(enqueued_at__lt=end) if end is not None else calls


def queue_figures(calls):
    """Figures of queue calls, grouped by whatever `calls` was grouped by with .values() (nothing: one row)."""
    return calls.filter(queue__isnull=False).annotate(
        **_figure_aggregates(),
        within=Count("id", filter=_ANSWERED & Q(wait_seconds__lte=F("queue__service_level_seconds"))),
    )


def overflowed_from_queues(calls, *, queue=None):
    """The calls among `calls` that moved on from `queue` (None: from any queue) at its maximum wait, for grouping
    with .values() and counting (index `call_overflowed_from_time` for one queue)."""
    return calls.filter(overflowed_from=queue) if queue is not None else calls.filter(overflowed_from__isnull=False)


def figures_add(total: Figures, figures: Figures) -> None:
    """Add `figures` into `total`: every figure is a count or a sum, so totals of rows are sums of their figures."""
    for name in (f.name for f in fields(Figures)):
        setattr(total, name, getattr(total, name) + getattr(figures, name))


def period_figures(*, company, start: datetime, end: datetime | None = None, agents=None) -> WallboardFigures:
    """Figures per queue (every active queue, and any other that had calls), their total, and per agent (`agents`,
    the active ones unless given): four grouped queries over the period's calls and one over its offers."""
    calls = ended_calls(company_id=company.pk, start=start, end=end)
    queues = list(Queue.objects.filter(company_id=company.pk).order_by("number"))
    result = WallboardFigures()
    by_queue = {row["queue_id"]: row for row in queue_figures(calls.values("queue_id"))}
    moved_on = dict(overflowed_from_queues(calls).values_list("overflowed_from_id").annotate(n=Count("id")).order_by())
    for queue in queues:
        row = by_queue.get(queue.pk)
        if row is not None or queue.is_active or queue.pk in moved_on:
            figures = figures_of(row) if row else Figures()
            figures.overflowed = moved_on.get(queue.pk, 0)
            result.per_queue.append((queue, figures))
    for _queue, figures in result.per_queue:
        figures_add(result.total, figures)

    agents = list(wallboard_agents(company_id=company.pk) if agents is None else agents)
    by_agent = {
        row["agent_id"]: row
        for row in calls.filter(agent__isnull=False).values("agent_id").annotate(**_figure_aggregates())
    }
    missed = dict(missed_offers_per_agent(company_id=company.pk, since=start, until=end))
    for agent in agents:
        row = by_agent.get(agent.pk)
        figures = figures_of(row) if row else Figures()
        figures.missed_offers = missed.get(agent.pk, 0)
        result.per_agent.append((agent, figures))
    result.total.missed_offers = sum(missed.values())
    return result


def wallboard_figures(*, company, now: datetime | None = None) -> WallboardFigures:
    return period_figures(company=company, start=today_start(zone_of(company), now=now))

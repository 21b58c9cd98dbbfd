"""A company's report over a span of days (figures per day, per hour of the day, per queue and per agent, and each
agent's time per state), and one agent's day of state changes.

The wallboard shows today; this is the same figures (same definitions, same queries) over any days up to a quarter,
counted in the company's own days (Asia/Seoul midnight to midnight), and the audit log's time per state beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone

from accounts.models import ActivityChange, User
from accounts.states import ActivityState
from calls.models import Queue
from calls.selectors import (
    Figures,
    day_start,
    ended_calls,
    figures_add,
    figures_of,
    overflowed_from_queues,
    period_figures,
    queue_figures,
    zone_of,
)
from companies.models import Company, PauseReason
from console.selectors import ActivityTime, activity_time

# A quarter: the longest span one page (and one set of queries over the calls) is asked for.
MAX_DAYS = 92

# The states an agent works in (the rest is away, training or disabled), and those of them spent on a call.
WORKING_STATES = (ActivityState.READY, ActivityState.CALLING, ActivityState.ON_CALL, ActivityState.POST_PROCESSING)
CALL_STATES = (ActivityState.CALLING, ActivityState.ON_CALL, ActivityState.POST_PROCESSING)
# The columns of time per state, in the order agents go through them.
REPORTED_STATES = (*WORKING_STATES, ActivityState.AWAY, ActivityState.TRAINING)


def reported_state_labels() -> list[str]:
    return [str(ActivityState(state).label) for state in REPORTED_STATES]


@dataclass
class AgentReport:
    agent: User
    figures: Figures
    time: ActivityTime

    @property
    def occupancy(self) -> float | None:
        """Time on calls (ringing, talking, wrap-up) ÷ time working (that and Ready)."""
        by_state = self.time.seconds_by_state
        working = sum(by_state.get(state, 0.0) for state in WORKING_STATES)
        on_calls = sum(by_state.get(state, 0.0) for state in CALL_STATES)
        return on_calls / working if working else None

    def seconds_in(self, state: str) -> float:
        return self.time.seconds_by_state.get(state, 0.0)

    @property
    def seconds_per_state(self) -> list[float]:
        """In the order of REPORTED_STATES."""
        return [self.seconds_in(state) for state in REPORTED_STATES]

    def has_anything(self) -> bool:
        f = self.figures
        return bool(f.offered or f.missed_offers or self.time.seconds_by_state)


@dataclass
class CompanyReport:
    company: Company
    first_day: date
    last_day: date  # no later than today: days still to come have nothing to count
    queue: Queue | None = None  # the one queue the days and hours are of (None: every queue)
    days: list[tuple[date, Figures]] = field(default_factory=list)
    days_total: Figures = field(default_factory=Figures)  # the days' sum (of the queue, with one)
    hours: list[tuple[int, Figures]] = field(default_factory=list)  # each hour of the company's day, all days together
    per_queue: list[tuple[Queue, Figures]] = field(default_factory=list)
    total: Figures = field(default_factory=Figures)
    agents: list[AgentReport] = field(default_factory=list)
    reasons: list[PauseReason] = field(default_factory=list)  # those agents were away for, in the company's order


def company_today(company: Company, *, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(zone_of(company)).date()


def company_report(
    *, company: Company, first_day: date, last_day: date, queue: Queue | None = None, now: datetime | None = None
) -> CompanyReport:
    """The report of the company's days first_day..last_day (at most MAX_DAYS, checked by the caller's form); with a
    queue, the days and hours are that queue's.

    Agents are the company's active ones and any other (disabled or moved since) who took calls, missed offers or
    spent time in a state in those days."""
    now = now or timezone.now()
    zone = zone_of(company)
    last_day = min(last_day, company_today(company, now=now))
    report = CompanyReport(company=company, first_day=first_day, last_day=last_day, queue=queue)
    if last_day < first_day:
        return report
    start, end = day_start(first_day, zone), day_start(last_day + timedelta(days=1), zone)

    period = ended_calls(company_id=company.pk, start=start, end=end)
    calls = period.filter(queue=queue) if queue is not None else period
    # One grouped read for both tables, per day and hour (at most 92 × 24 rows), summed both ways here: every figure
    # is a count or a total. Staffing is planned by the hour: when the calls come, and when they wait or are abandoned.
    by_day: dict[date, Figures] = {}
    by_hour: dict[int, Figures] = {}
    in_zone = {"day": TruncDate("enqueued_at", tzinfo=zone), "hour": ExtractHour("enqueued_at", tzinfo=zone)}
    for row in queue_figures(calls.annotate(**in_zone).values("day", "hour")):
        figures = figures_of(row)
        figures_add(by_day.setdefault(row["day"], Figures()), figures)
        figures_add(by_hour.setdefault(row["hour"], Figures()), figures)
    # Callers who moved on from the queue (or any queue) are counted when they called, as the calls are.
    moved_on = overflowed_from_queues(period, queue=queue).annotate(**in_zone).values("day", "hour")
    for row in moved_on.annotate(n=Count("id")).order_by():
        by_day.setdefault(row["day"], Figures()).overflowed += row["n"]
        by_hour.setdefault(row["hour"], Figures()).overflowed += row["n"]
    day = first_day
    while day <= last_day:
        report.days.append((day, by_day.get(day, Figures())))
        figures_add(report.days_total, report.days[-1][1])
        day += timedelta(days=1)
    report.hours = [(hour, by_hour.get(hour, Figures())) for hour in range(24)]

    agents = User.objects.agents().filter(company=company)
    figures = period_figures(company=company, start=start, end=end, agents=agents)
    report.per_queue, report.total = figures.per_queue, figures.total
    times = {row.agent.pk: row for row in activity_time(company=company, start=start, end=end, agents=agents, now=now)}
    for agent, agent_figures in figures.per_agent:
        row = AgentReport(agent=agent, figures=agent_figures, time=times.get(agent.pk) or ActivityTime(agent=agent))
        if agent.is_active or row.has_anything():
            report.agents.append(row)
    report.agents.sort(key=lambda row: (row.agent.last_name, row.agent.first_name, row.agent.username))

    away_for = {reason for row in report.agents for reason in row.time.seconds_by_reason}
    report.reasons = [reason for reason in PauseReason.objects.filter(company=company) if reason.pk in away_for]
    return report


@dataclass
class Stretch:
    """One change of the agent's day and how long its state lasted (up to the next change, the day's end or now)."""

    change: ActivityChange
    seconds: float
    still_going: bool

    @property
    def over_limit(self) -> bool:
        """Away longer than the reason allows (read with the pause reason selected)."""
        reason = self.change.pause_reason if self.change.to_state == ActivityState.AWAY else None
        limit = reason.limit_seconds if reason is not None else None
        return limit is not None and self.seconds > limit


@dataclass
class AgentDay:
    agent: User
    day: date
    # The state the day began in, from the last change before it (or, for an agent whose first change ever is of
    # this day, the state that change left), since when, and how long it lasted into the day.
    began_state: str = ""
    began_reason: PauseReason | None = None
    began_since: datetime | None = None
    began_seconds: float = 0.0
    began_still_going: bool = False
    stretches: list[Stretch] = field(default_factory=list)
    time: ActivityTime | None = None


def agent_day(*, agent: User, day: date, now: datetime | None = None) -> AgentDay:
    """An agent's state changes of one day of their company, with how long each state lasted and the day's time per
    state; the first stretch begins at midnight in the state the day began in."""
    now = now or timezone.now()
    zone = zone_of(agent.company)
    start, end = day_start(day, zone), day_start(day + timedelta(days=1), zone)
    upto = min(end, now)
    changes = (
        ActivityChange.objects.filter(agent=agent).select_related("pause_reason", "actor").order_by("changed_at", "id")
    )
    result = AgentDay(agent=agent, day=day)
    if start >= now:
        return result
    of_day = list(changes.filter(changed_at__gte=start, changed_at__lt=upto))
    before = changes.filter(changed_at__lt=start).order_by("-changed_at", "-id").first()
    first_end = of_day[0].changed_at if of_day else upto
    if before is not None:
        result.began_state, result.began_since = before.to_state, before.changed_at
        result.began_reason = before.pause_reason
    elif of_day:
        first = of_day[0]
        result.began_state = first.from_state
        result.began_since = first.changed_at - timedelta(seconds=first.seconds_in_previous)
    if result.began_state:
        result.began_seconds = (first_end - max(start, result.began_since)).total_seconds()
        result.began_still_going = not of_day and upto == now
    ends = [following.changed_at for following in of_day[1:]] + [upto]
    for change, until in zip(of_day, ends, strict=False):  # without changes, the one end is left over
        going = until == upto == now
        result.stretches.append(Stretch(change, (until - change.changed_at).total_seconds(), still_going=going))
    [result.time] = activity_time(
        company=agent.company, start=start, end=end, agents=User.objects.filter(pk=agent.pk), now=now
    )
    return result

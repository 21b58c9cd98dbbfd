"""Reads over the activity audit log: time per state (and per pause reason) per agent over a period."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone

from accounts.models import ActivityChange, User
from accounts.states import ActivityState
from calls.selectors import today_start, zone_of
from companies.models import PauseReason


@dataclass
class ActivityTime:
    """An agent's seconds in each state over a period, and in AWAY per pause reason (id)."""

    agent: User
    seconds_by_state: dict[str, float] = field(default_factory=dict)
    seconds_by_reason: dict[int, float] = field(default_factory=dict)
    # Away past the limit of the reason (PauseReason.max_minutes), counted inside the span.
    away_over_limit: float = 0.0

    @property
    def total(self) -> float:
        """Seconds away, all reasons together (the pause-reasons page)."""
        return sum(self.seconds_by_reason.values())

    def add(self, state: str, seconds: float) -> None:
        if seconds > 0:
            self.seconds_by_state[state] = self.seconds_by_state.get(state, 0.0) + seconds


def activity_time(
    *, company, start: datetime, end: datetime, agents=None, now: datetime | None = None
) -> list[ActivityTime]:
    """Seconds each agent of the company (or of `agents`) spent in each state between start and end (no later than
    now): a stretch begun before the start counts from the start, one still going at the end up to the end. The
    reason of an AWAY stretch is on the change that entered it. An agent whose state never changed has no time.

    Every audit row says how long its agent was in the state it left (`seconds_in_previous`), so the time per state is
    one grouped sum over the span's rows, read in the database (a quarter of a busy company is 1.5 million rows), plus
    the two stretches cut by the span's edges, found per agent in the (agent, changed_at) index. Time away per reason
    needs the rows that enter or leave AWAY only, paired in order here.
    """
    end = min(end, now or timezone.now())
    agents = (User.objects.agents().filter(company=company) if agents is None else agents).order_by(
        "last_name", "first_name", "username"
    )
    in_span = ActivityChange.objects.filter(company=company, changed_at__gte=start, changed_at__lt=end)

    def last_before(moment):
        return ActivityChange.objects.filter(agent=OuterRef("pk"), changed_at__lt=moment).order_by("-changed_at", "-id")

    first_in_span = in_span.filter(agent=OuterRef("pk")).order_by("changed_at", "id")
    agents = list(
        agents.annotate(
            # How the span began (AWAY for lunch since 23:50, say) and how it ends (READY since 17:40).
            state_at_start=Subquery(last_before(start).values("to_state")[:1]),
            reason_at_start=Subquery(last_before(start).values("pause_reason_id")[:1]),
            since_at_start=Subquery(last_before(start).values("changed_at")[:1]),
            state_at_end=Subquery(last_before(end).values("to_state")[:1]),
            since_at_end=Subquery(last_before(end).values("changed_at")[:1]),
            # The first change in the span ends a stretch that may have begun before the start.
            first_at=Subquery(first_in_span.values("changed_at")[:1]),
            first_from=Subquery(first_in_span.values("from_state")[:1]),
            first_length=Subquery(first_in_span.values("seconds_in_previous")[:1]),
        )
    )
    ids = [agent.pk for agent in agents]
    limits = {
        reason.pk: reason.limit_seconds for reason in PauseReason.objects.filter(company=company, max_minutes__gt=0)
    }
    ended: dict[int, dict[str, float]] = defaultdict(dict)
    for agent_id, state, seconds in (
        in_span.filter(agent_id__in=ids)
        .order_by()
        .values_list("agent_id", "from_state")
        .annotate(seconds=Sum("seconds_in_previous"))
    ):
        ended[agent_id][state] = seconds or 0.0
    away = defaultdict(list)
    for agent_id, to_state, reason, changed_at in (
        in_span.filter(Q(to_state=ActivityState.AWAY) | Q(from_state=ActivityState.AWAY), agent_id__in=ids)
        .order_by("changed_at", "id")
        .values_list("agent_id", "to_state", "pause_reason_id", "changed_at")
    ):
        away[agent_id].append((to_state, reason, changed_at))

    rows = []
    for agent in agents:
        row = ActivityTime(agent=agent)
        for state, seconds in ended.get(agent.pk, {}).items():
            if agent.first_at is not None and state == agent.first_from:
                # Only the part of the first stretch after the start counts.
                seconds -= max(0.0, agent.first_length - (agent.first_at - start).total_seconds())
            row.add(state, seconds)
        if agent.state_at_end is not None:
            row.add(agent.state_at_end, (end - max(agent.since_at_end, start)).total_seconds())
        _add_away_per_reason(row, agent, away.get(agent.pk, []), limits, start=start, end=end)
        rows.append(row)
    return rows


def _add_away_per_reason(
    row: ActivityTime, agent, changes: list, limits: dict[int, int], *, start: datetime, end: datetime
) -> None:
    """The agent's AWAY stretches by reason, from the changes that enter or leave AWAY (in order): each change that
    enters AWAY is followed by the one that leaves it, as nothing else can move an agent out of AWAY. A stretch past
    its reason's limit adds the part after the limit that lies inside the span to `away_over_limit`."""
    reasons = row.seconds_by_reason

    def add(reason, began, since, until):
        if reason is None:
            return
        reasons[reason] = reasons.get(reason, 0.0) + (until - since).total_seconds()
        if reason in limits:
            over_from = max(began + timedelta(seconds=limits[reason]), start)
            row.away_over_limit += max(0.0, (until - over_from).total_seconds())

    # (reason, when the stretch began, when it entered the span)
    stretch = None
    if agent.state_at_start == ActivityState.AWAY:
        stretch = (agent.reason_at_start, agent.since_at_start, start)
    for to_state, to_reason, changed_at in changes:
        if stretch is not None:
            add(*stretch, changed_at)
        stretch = (to_reason, changed_at, changed_at) if to_state == ActivityState.AWAY else None
    if stretch is not None:
        add(*stretch, end)


def pause_time_today(*, company, now: datetime | None = None) -> list[ActivityTime]:
    """Seconds each agent spent AWAY today per reason (`seconds_by_reason`), up to now."""
    now = now or timezone.now()
    return activity_time(company=company, start=today_start(zone_of(company), now=now), end=now, now=now)

"""Reads over the activity audit log: time per state (and per pause reason) per agent over a period."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accounts.models import ActivityChange, User
from accounts.states import ActivityState
from calls.selectors import today_start, zone_of


@dataclass
class ActivityTime:
    """An agent's seconds in each state over a period, and in AWAY per pause reason (id)."""

    agent: User
    seconds_by_state: dict[str, float] = field(default_factory=dict)
    seconds_by_reason: dict[int, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        """Seconds away, all reasons together (the pause-reasons page)."""
        return sum(self.seconds_by_reason.values())

    def add(self, state: str, reason: int | None, seconds: float) -> None:
        if seconds <= 0:
            return
        self.seconds_by_state[state] = self.seconds_by_state.get(state, 0.0) + seconds
        if state == ActivityState.AWAY and reason is not None:
            self.seconds_by_reason[reason] = self.seconds_by_reason.get(reason, 0.0) + seconds


def activity_time(
    *, company, start: datetime, end: datetime, agents=None, now: datetime | None = None
) -> list[ActivityTime]:
    """Seconds each agent of the company (or of `agents`) spent in each state between start and end (no later than
    now): a stretch begun before the start counts from the start, one still running up to the end. The reason of an
    AWAY stretch is on the change that entered it."""
    end = min(end, now or timezone.now())
    before_start = ActivityChange.objects.filter(agent=OuterRef("pk"), changed_at__lt=start).order_by(
        "-changed_at", "-id"
    )
    agents = list(
        (User.objects.agents().filter(company=company) if agents is None else agents)
        .annotate(
            # The last change before the start tells how the period began (AWAY for lunch since 23:50, say).
            state_at_start=Subquery(before_start.values("to_state")[:1]),
            reason_at_start=Subquery(before_start.values("pause_reason_id")[:1]),
        )
        .order_by("last_name", "first_name", "username")
    )
    changes = defaultdict(list)
    for change in (
        ActivityChange.objects.filter(company=company, changed_at__gte=start, changed_at__lt=end)
        .order_by("changed_at", "id")
        .values_list("agent_id", "to_state", "pause_reason_id", "changed_at")
    ):
        changes[change[0]].append(change)
    rows = []
    for agent in agents:
        row = ActivityTime(agent=agent)
        state, reason, since = agent.state_at_start, agent.reason_at_start, start
        for _agent_id, to_state, to_reason, changed_at in changes.get(agent.pk, []):
            if state is not None:
                row.add(state, reason, (changed_at - since).total_seconds())
            state, reason, since = to_state, to_reason, changed_at
        if state is not None:
            row.add(state, reason, (end - since).total_seconds())
        rows.append(row)
    return rows


def pause_time_today(*, company, now: datetime | None = None) -> list[ActivityTime]:
    """Seconds each agent spent AWAY today per reason (`seconds_by_reason`), up to now."""
    now = now or timezone.now()
    return activity_time(company=company, start=today_start(zone_of(company), now=now), end=now, now=now)

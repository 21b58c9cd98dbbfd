"""Reads over the activity audit log: today's time per pause reason per agent."""

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
class PauseRow:
    agent: User
    seconds_by_reason: dict[int, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.seconds_by_reason.values())


def pause_time_today(*, company, reasons, now: datetime | None = None) -> list[PauseRow]:
    """Seconds each agent spent AWAY today per reason, counting a pause that began before midnight from midnight,
    and one still running up to now. The reason of an AWAY stretch is on the change that entered it."""
    now = now or timezone.now()
    start = today_start(zone_of(company), now=now)
    agents = list(
        User.objects.agents()
        .filter(company=company)
        .annotate(
            # The last change before today tells how the day began (AWAY for lunch since 23:50, say).
            state_at_start=Subquery(
                ActivityChange.objects.filter(agent=OuterRef("pk"), changed_at__lt=start)
                .order_by("-changed_at", "-id")
                .values("to_state")[:1]
            ),
            reason_at_start=Subquery(
                ActivityChange.objects.filter(agent=OuterRef("pk"), changed_at__lt=start)
                .order_by("-changed_at", "-id")
                .values("pause_reason_id")[:1]
            ),
        )
        .order_by("last_name", "first_name", "username")
    )
    changes = defaultdict(list)
    for change in (
        ActivityChange.objects.filter(company=company, changed_at__gte=start, changed_at__lte=now)
        .order_by("changed_at", "id")
        .values("agent_id", "to_state", "pause_reason_id", "changed_at")
    ):
        changes[change["agent_id"]].append(change)
    rows = []
    for agent in agents:
        row = PauseRow(agent=agent)
        state, reason, since = agent.state_at_start, agent.reason_at_start, start
        for change in changes.get(agent.pk, []):
            if state == ActivityState.AWAY and reason is not None:
                row.seconds_by_reason[reason] = (
                    row.seconds_by_reason.get(reason, 0.0) + (change["changed_at"] - since).total_seconds()
                )
            state, reason, since = change["to_state"], change["pause_reason_id"], change["changed_at"]
        if state == ActivityState.AWAY and reason is not None:
            row.seconds_by_reason[reason] = row.seconds_by_reason.get(reason, 0.0) + (now - since).total_seconds()
        rows.append(row)
    return rows

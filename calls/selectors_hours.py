"""Business hours as the pages show them: each day's ranges, the coming closed days, and whether open right now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch
from django.utils import timezone

from calls.business_hours import WEEKDAYS
from calls.models import BusinessHours, ClosedDay, Queue
from calls.selectors import zone_of

UPCOMING_SHOWN = 3


@dataclass
class HoursRow:
    hours: BusinessHours
    days: list[str]  # Monday first, as stored ("" closed)
    upcoming_closed: list[ClosedDay]
    closed_days_total: int
    queues: list[Queue]
    open_now: bool
    opens_at: datetime | None  # when closed: the next opening, in the company's time zone


def hours_rows(hours_list, *, now: datetime | None = None) -> list[HoursRow]:
    """One row per hours (a queryset visible to the reader), with two more queries whatever their number."""
    now = now or timezone.now()
    hours_list = hours_list.select_related("company").prefetch_related(
        "closed_days", Prefetch("queues", queryset=Queue.objects.order_by("number"))
    )
    rows = []
    for hours in hours_list:
        zone = zone_of(hours.company)
        today = now.astimezone(zone).date()
        closed = list(hours.closed_days.all())
        opening = hours.opening_hours([(c.day, c.ranges) for c in closed])
        open_now = opening.is_open(now)
        opens_at = None if open_now else opening.next_opening(now)
        rows.append(
            HoursRow(
                hours=hours,
                days=[getattr(hours, day) for day in WEEKDAYS],
                upcoming_closed=[c for c in closed if c.day >= today][:UPCOMING_SHOWN],
                closed_days_total=len(closed),
                queues=list(hours.queues.all()),
                open_now=open_now,
                opens_at=opens_at.astimezone(zone) if opens_at else None,
            )
        )
    return rows

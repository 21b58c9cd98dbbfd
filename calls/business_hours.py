"""Business hours: when a queue's callers reach agents, and when they hear the closed message instead.

A week is seven lists of time ranges in the company's time zone, Monday first ("09:00-12:00, 13:00-18:00": a lunch
break is a gap between two ranges). Special days override their weekday: closed all day (public holidays, a company
day off) or open other hours (New Year's Eve until noon). Pure: no ORM, no clock, so the telephony core can ask at the
moment a call arrives.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")  # date.weekday() order
Range = tuple[int, int]  # minutes since the day's midnight, [start, end)
DAY_MINUTES = 24 * 60
# Korean users write 09:00~18:00 as often as 09:00-18:00; an en dash comes from copied text.
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-~–]\s*(\d{1,2}):(\d{2})\s*$")


class HoursProblem(ValueError):
    """Ranges text that cannot be read; the message says what, in the user's language."""


def parse_ranges(text: str) -> tuple[Range, ...]:
    """'09:00-12:00, 13:00-18:00' → ((540, 720), (780, 1080)); blank: closed all day. 24:00 ends a day."""
    ranges: list[Range] = []
    for part in re.split(r"[,;\n]", text or ""):
        if not part.strip():
            continue
        match = _RANGE.match(part)
        if not match:
            raise HoursProblem(
                _("Write times as 09:00-18:00, several separated by commas: %(part)s") % {"part": part.strip()}
            )
        start_h, start_m, end_h, end_m = (int(g) for g in match.groups())
        if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m):
            raise HoursProblem(_("There is no such time of day: %(part)s") % {"part": part.strip()})
        start, end = start_h * 60 + start_m, end_h * 60 + end_m
        if end <= start:
            # A night shift past midnight is two ranges: this day's until 24:00 and the next day's from 00:00.
            raise HoursProblem(
                _("%(part)s ends before it starts; hours past midnight go on the next day from 00:00.")
                % {"part": part.strip()}
            )
        ranges.append((start, end))
    ranges.sort()
    for (_s1, end1), (start2, _e2) in zip(ranges, ranges[1:], strict=False):
        if start2 < end1:
            raise HoursProblem(_("The ranges overlap: %(text)s") % {"text": format_ranges(ranges)})
    return tuple(ranges)


def format_ranges(ranges) -> str:
    return ", ".join(f"{_clock(start)}-{_clock(end)}" for start, end in ranges)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class OpeningHours:
    zone: str
    weekly: tuple[tuple[Range, ...], ...]  # seven days, Monday first
    special_days: Mapping[date, tuple[Range, ...]] = field(default_factory=dict)  # () closed all day

    def ranges_on(self, day: date) -> tuple[Range, ...]:
        special = self.special_days.get(day)
        return self.weekly[day.weekday()] if special is None else special

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(_zone(self.zone))
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.ranges_on(local.date()))

    def next_opening(self, at: datetime, *, days: int = 366) -> datetime | None:
        """The next moment after `at` when the queue opens (a range that starts, not one that goes on); None if it
        does not open within `days`. A range ending at 24:00 and the next day's from 00:00 are one stretch."""
        zone = _zone(self.zone)
        local = at.astimezone(zone)
        day = local.date()
        minute_now = local.hour * 60 + local.minute
        for offset in range(days + 1):
            current = day + timedelta(days=offset)
            for start, _end in self.ranges_on(current):
                if offset == 0 and start <= minute_now:
                    continue
                if start == 0 and self._open_at_end_of(current - timedelta(days=1)):
                    continue  # a stretch that goes on from the day before
                return datetime.combine(current, time(start // 60, start % 60), tzinfo=zone)
        return None

    def next_closing(self, at: datetime, *, days: int = 366) -> datetime | None:
        """When the stretch open at `at` ends (through midnight when the next day goes on from 00:00); None if `at`
        is not open, or the stretch goes on past `days`."""
        zone = _zone(self.zone)
        local = at.astimezone(zone)
        day, minute = local.date(), local.hour * 60 + local.minute
        current = next(((s, e) for s, e in self.ranges_on(day) if s <= minute < e), None)
        if current is None:
            return None
        for _offset in range(days):
            end = current[1]
            if end < DAY_MINUTES:
                return datetime.combine(day, time(end // 60, end % 60), tzinfo=zone)
            day += timedelta(days=1)
            current = next(((s, e) for s, e in self.ranges_on(day) if s == 0), None)
            if current is None:
                return datetime.combine(day, time(0), tzinfo=zone)
        return None

    def _open_at_end_of(self, day: date) -> bool:
        return any(end == DAY_MINUTES for _start, end in self.ranges_on(day))


def special_days_read(days: Iterable[tuple[date, str]]) -> dict[date, tuple[Range, ...]]:
    """(day, ranges text) pairs as stored → OpeningHours.special_days; text that cannot be read closes the day (it
    was checked when saved, so only a hand-edited row could hold it)."""
    special = {}
    for day, text in days:
        try:
            special[day] = parse_ranges(text)
        except HoursProblem:
            special[day] = ()
    return special

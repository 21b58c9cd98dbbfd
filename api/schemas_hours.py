"""What the business hours routes take and give: a name, seven days of ranges, the closed days, the queues that use
the hours, and whether they are open now."""

import re
from datetime import date, datetime
from typing import Annotated

from django.utils.translation import gettext_noop
from ninja import Schema
from pydantic import BeforeValidator, Field, StringConstraints

from api.schemas import NO_NUL, BodyId, BodyIn, text
from calls.business_hours import WEEKDAYS
from calls.forms_hours import EARLIEST, LATEST
from calls.selectors_hours import HoursRow

DAY_DESCRIPTION = "Ranges in the company's time zone (`09:00-12:00, 13:00-18:00`); '' closed all day."
Day = Annotated[str, Field(description=DAY_DESCRIPTION)]
DayIn = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL), Field(description=DAY_DESCRIPTION)]
# A closed day's name is one line: no control characters, nor the separators Python splits lines at.
ClosedDayName = text(100, pattern=r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$")


def _date_text(value):
    # JSON has no dates: one is text written YYYY-MM-DD, not a number pydantic would read as a Unix time.
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError(gettext_noop("must be a date written YYYY-MM-DD"))
    return value


BodyDate = Annotated[date, BeforeValidator(_date_text)]


class ClosedDayOut(Schema):
    day: date
    hours: str = Field(description="Open only these ranges that day (`09:00-12:00`); '' closed all day.")
    name: str


class BusinessHoursOut(Schema):
    id: int
    company_id: int
    name: str
    monday: Day
    tuesday: Day
    wednesday: Day
    thursday: Day
    friday: Day
    saturday: Day
    sunday: Day
    closed_days: list[ClosedDayOut] = Field(
        description="Days whose hours are not their weekday's (closed all day, or open other hours), earliest first."
    )
    queue_ids: list[int] = Field(description="The queues that use these hours (a queue without any is always open).")
    open_now: bool
    opens_at: datetime | None = Field(
        description="When closed: the next opening, in the company's time zone; null when open now or when the "
        "hours do not open within a year."
    )


class BusinessHoursPage(Schema):
    items: list[BusinessHoursOut]


class ClosedDayIn(BodyIn):
    day: BodyDate = Field(ge=EARLIEST, le=LATEST, description="YYYY-MM-DD, from 2000-01-01 to 2100-12-31.")
    hours: DayIn = Field(default="", description="Open only these ranges that day (`09:00-12:00`); '' closed all day.")
    name: ClosedDayName = Field(default="", description="A public holiday's name, a company day off (one line).")


class BusinessHoursIn(BodyIn):
    company_id: BodyId | None = Field(
        default=None, description="The company the hours are for: required for system admins; managers may omit it."
    )
    name: text(100, min_length=1)
    monday: DayIn = ""
    tuesday: DayIn = ""
    wednesday: DayIn = ""
    thursday: DayIn = ""
    friday: DayIn = ""
    saturday: DayIn = ""
    sunday: DayIn = ""
    closed_days: list[ClosedDayIn] = Field(default_factory=list, description="At most 1,000, each day once.")


class BusinessHoursPatchIn(BodyIn):
    name: text(100, min_length=1) = None
    monday: DayIn = None
    tuesday: DayIn = None
    wednesday: DayIn = None
    thursday: DayIn = None
    friday: DayIn = None
    saturday: DayIn = None
    sunday: DayIn = None
    closed_days: list[ClosedDayIn] = Field(
        default=None, description="The whole list: it replaces the closed days (at most 1,000, each day once)."
    )


def business_hours_out(row: HoursRow) -> dict:
    hours = row.hours
    return {
        "id": hours.pk,
        "company_id": hours.company_id,
        "name": hours.name,
        **dict(zip(WEEKDAYS, row.days, strict=True)),
        "closed_days": [
            {"day": closed.day, "hours": closed.ranges, "name": closed.name} for closed in hours.closed_days.all()
        ],
        "queue_ids": [queue.pk for queue in row.queues],
        "open_now": row.open_now,
        "opens_at": row.opens_at,
    }

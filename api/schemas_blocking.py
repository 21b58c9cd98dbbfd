"""What the blocked numbers and abuse reports routes take and give: the number as it is matched, why and until when it
is blocked, and how many calls the block has refused; an agent's report of a call's caller and what became of it."""

import re
from datetime import datetime
from typing import Annotated

from django.utils.translation import gettext_noop
from ninja import Schema
from pydantic import BeforeValidator, Field

from api.schemas import AgentRef, BodyId, BodyIn, agent_ref, local, text, zone_of
from calls.models import AbuseReport
from calls.selectors_blocking import BlockedRow

LAST_YEAR = 2100  # a time much later could not be written in UTC or another offset (year 10000)
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})"
)
_NOT_A_DATE_TIME = gettext_noop("must be a date and time with its offset, e.g. 2026-12-25T18:00:00+09:00")


def _date_time_text(value):
    # JSON has no times: one is text with its offset, not a Unix time, nor a wall-clock time of no particular zone.
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        raise ValueError(_NOT_A_DATE_TIME)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(_NOT_A_DATE_TIME) from None
    if moment.year > LAST_YEAR:
        raise ValueError(gettext_noop("must be in the year 2100 or before"))
    return moment


BodyDateTime = Annotated[datetime, BeforeValidator(_date_time_text)]


class BlockedNumberOut(Schema):
    id: int
    company_id: int
    number: str = Field(description="The digits calls are matched by, +82 written as 0 (`01012345678`).")
    reason: str
    blocked_by: AgentRef | None = Field(description="Who blocked it last (a manager or an admin).")
    blocked_at: datetime
    until: datetime | None = Field(description="When the block ends by itself; null: when someone unblocks it.")
    in_force: bool = Field(description="Whether the number's calls are refused now (false once `until` has passed).")
    refused_calls: int = Field(description="The company's calls from this number that were refused (BLOCKED).")


class BlockedNumberPage(Schema):
    items: list[BlockedNumberOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last page.")


class BlockedNumberIn(BodyIn):
    company_id: BodyId | None = Field(
        default=None, description="The company the number calls: required for system admins; managers may omit it."
    )
    number: text(40) = Field(description="As written (`010-1234-5678`, `+82 10-1234-5678`): 3 to 20 digits.")
    reason: text(200) = ""
    until: BodyDateTime | None = Field(
        default=None,
        description="When the block ends, with its offset (`2026-12-25T18:00:00+09:00`), later than now; null or "
        "left out: until someone unblocks it.",
    )


def blocked_number_out(row: BlockedRow) -> dict:
    blocked = row.blocked
    zone = zone_of(blocked.company)
    return {
        "id": blocked.pk,
        "company_id": blocked.company_id,
        "number": blocked.number,
        "reason": blocked.reason,
        "blocked_by": agent_ref(blocked.blocked_by),
        "blocked_at": local(blocked.blocked_at, zone),
        "until": local(blocked.until, zone),
        "in_force": row.in_force,
        "refused_calls": row.refused,
    }


# --- abuse reports ----------------------------------------------------------------------------------------------


class AbuseReportOut(Schema):
    id: int
    company_id: int
    call_id: int
    caller_number: str = Field(description="The number the call came from, as the call log shows it ('' when none).")
    reason: str = Field(description="What happened, in the reporter's words.")
    reported_by: AgentRef | None = Field(description="Who reported it last (null once their account is deleted).")
    reported_at: datetime
    outcome: AbuseReport.Outcome | None = Field(description="BLOCKED or DISMISSED; null while the report is open.")
    handled_by: AgentRef | None = Field(description="The manager or admin who answered it; null while it is open.")
    handled_at: datetime | None


class AbuseReportPage(Schema):
    items: list[AbuseReportOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same `open`) for the next page; null on the last page."
    )


class AbuseReportIn(BodyIn):
    reason: text(200) = Field(description="What happened: 1 to 200 characters, not only spaces.")


class AbuseReportBlockIn(BodyIn):
    until: BodyDateTime | None = Field(
        default=None,
        description="When the block ends, with its offset (`2026-12-25T18:00:00+09:00`), later than now; null or "
        "left out: until someone unblocks it.",
    )


def abuse_report_out(report: AbuseReport) -> dict:
    zone = zone_of(report.company)
    return {
        "id": report.pk,
        "company_id": report.company_id,
        "call_id": report.call_id,
        "caller_number": report.call.caller_number or "",
        "reason": report.reason,
        "reported_by": agent_ref(report.reported_by),
        "reported_at": local(report.reported_at, zone),
        "outcome": report.outcome or None,
        "handled_by": agent_ref(report.handled_by),
        "handled_at": local(report.handled_at, zone),
    }

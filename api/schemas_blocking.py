"""What the blocked numbers routes take and give: the number as it is matched, why and until when it is blocked, and
how many calls the block has refused."""

import re
from datetime import datetime
from typing import Annotated

from django.utils.translation import gettext_noop
from ninja import Schema
from pydantic import BeforeValidator, Field

from api.schemas import AgentRef, BodyId, BodyIn, agent_ref, local, text, zone_of
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

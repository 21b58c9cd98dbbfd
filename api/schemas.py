"""What goes in and out of the JSON API, and how each model is shown to an integrator.

Times are ISO 8601 with the offset of the company they belong to (Asia/Seoul by default), enums are their names,
phone numbers are plain text for whoever may see the row, and nothing encrypted, hashed or secret ever leaves.
"""

import re
from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.utils.translation import gettext_noop
from ninja import Schema
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
)

from accounts.models import Role, User
from accounts.states import ActivityState
from calls.models import (
    NOTE_MAX_CHARS,
    Call,
    CallEvent,
    CallNote,
    CallState,
    Direction,
    Disposition,
    HangupSide,
    Offer,
    OfferResult,
)
from companies.models import MAX_RETENTION_DAYS, MIN_RETENTION_DAYS, Company
from pbx.validators import BUSINESS_NUMBER_PATTERN, PHONE_PATTERN

MAX_ID = 2**63 - 1


# Query strings and paths are text; these accept exactly what the OpenAPI document says (pydantic alone would also
# take "1e3", "yes" or a Unix time for a date).
def _whole_number(value):
    if isinstance(value, str) and not re.fullmatch(r"[0-9]+", value):
        raise ValueError(gettext_noop("must be a whole number"))
    return value


def _true_or_false(value):
    if isinstance(value, str) and value not in ("true", "false"):
        raise ValueError(gettext_noop("must be true or false"))
    return value


def _iso_date(value):
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError(gettext_noop("must be a date written YYYY-MM-DD"))
    return value


Id = Annotated[int, BeforeValidator(_whole_number), Field(ge=1, le=MAX_ID)]
QueryInt = Annotated[int, BeforeValidator(_whole_number)]
QueryBool = Annotated[bool, BeforeValidator(_true_or_false)]
QueryDate = Annotated[date, BeforeValidator(_iso_date)]
# Bodies are JSON: a number or a boolean must be one, not a string or 0/1 that happens to convert.
BodyId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
# PostgreSQL text cannot hold NUL; refusing it in the schema makes it a 422 instead of a database error.
NO_NUL = r"^[^\x00]*$"


def text(max_length: int, *, min_length: int = 0, pattern: str = NO_NUL):
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=pattern)]


def _known_time_zone(name: str) -> str:
    if name not in _time_zones():
        raise ValueError(gettext_noop("not an IANA time zone name (e.g. Asia/Seoul)"))
    return name


_zones: set[str] = set()


def _time_zones() -> set[str]:
    if not _zones:
        _zones.update(available_timezones())
    return _zones


TimeZoneName = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL), AfterValidator(_known_time_zone)
]
Extension = Annotated[str, StringConstraints(pattern=r"^([0-9]{2,10})?$")]
Phone = text(40, pattern=PHONE_PATTERN)


class BodyIn(BaseModel):
    """A request body: a JSON object of the request's fields and nothing else.

    Plain pydantic, not ninja's Schema: that one reads attributes (for ORM objects), so a list or a number would pass
    as an object whose fields all took their defaults. A field the request does not have is refused, not ignored: a
    client that misspells one (`activty_state`) would otherwise be told 200 for a change that never happened.
    """

    model_config = ConfigDict(extra="forbid")


# --- errors -----------------------------------------------------------------------------------------------------


class ErrorDetail(Schema):
    code: str = Field(description="Stable, for programs: not_authenticated, permission_denied, not_found, …")
    message: str = Field(description="For people, in the request's language (Accept-Language: ko or en).")
    fields: dict[str, list[str]] = Field(description="The inputs at fault and what is wrong with each.")


class ErrorOut(Schema):
    error: ErrorDetail


def responses(ok: dict, *statuses: int) -> dict:
    return {**ok, **dict.fromkeys(statuses, ErrorOut)}


# --- times ------------------------------------------------------------------------------------------------------


def zone_of(company: Company | None) -> ZoneInfo:
    name = (company.time_zone if company is not None else "") or settings.TIME_ZONE
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return moment.astimezone(zone) if moment is not None else None


# --- auth -------------------------------------------------------------------------------------------------------


class LoginIn(BodyIn):
    username: text(150, min_length=1)
    password: text(4096, min_length=1)


class PauseReasonRef(Schema):
    id: int
    code: str
    name: str


class ActivityOut(Schema):
    state: ActivityState
    since: datetime
    pause_reason: PauseReasonRef | None


class UserOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    full_name: str
    email: str
    phone: str
    role: Role
    company_id: int | None
    extension: str | None
    is_active: bool
    activity: ActivityOut | None = Field(description="Agents only: their activity state; null for managers and admins.")
    phone_registered: bool | None = Field(description="Agents only: whether their SIP phone is registered.")
    date_joined: datetime
    last_login: datetime | None


class LoginOut(Schema):
    token: str
    token_type: Literal["Bearer"]
    expires_at: datetime
    user: UserOut


class ActivityIn(BodyIn):
    state: ActivityState = Field(description="READY, AWAY or TRAINING for an agent; wrap-up ends with any of them.")
    pause_reason: BodyId | text(40, min_length=1) | None = Field(
        default=None, description="Needed for AWAY: the id or the code (LUNCH, BREAK, MEETING, OTHER) of a reason."
    )
    note: text(200) = ""


class PauseReasonOut(Schema):
    id: int
    company_id: int
    code: str
    name_ko: str
    name_en: str
    is_automatic: bool = Field(
        description="Set only by the product (a missed call, an account enabled again); a person cannot choose it."
    )
    is_active: bool
    max_minutes: int | None = Field(description="Agents away longer for this reason are flagged (null: no limit).")


class PauseReasonPage(Schema):
    items: list[PauseReasonOut]


def pause_reason_out(reason) -> dict:
    return {
        "id": reason.pk,
        "company_id": reason.company_id,
        "code": reason.code,
        "name_ko": reason.name_ko,
        "name_en": reason.name_en,
        "is_automatic": reason.is_automatic,
        "is_active": reason.is_active,
        "max_minutes": reason.max_minutes,
    }


def pause_reason_ref(reason) -> dict | None:
    if reason is None:
        return None
    return {"id": reason.pk, "code": reason.code, "name": reason.name}


def user_out(user: User) -> dict:
    zone = zone_of(user.company if user.company_id else None)
    is_agent = user.role == Role.AGENT
    return {
        "id": user.pk,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "full_name": user.get_full_name(),
        "email": user.email,
        "phone": user.phone or "",
        "role": user.role,
        "company_id": user.company_id,
        "extension": user.extension,
        "is_active": user.is_active,
        "activity": {
            "state": user.activity_state,
            "since": local(user.activity_changed_at, zone),
            "pause_reason": pause_reason_ref(user.pause_reason),
        }
        if is_agent
        else None,
        "phone_registered": user.endpoint_online if is_agent else None,
        "date_joined": local(user.date_joined, zone),
        "last_login": local(user.last_login, zone),
    }


# --- users ------------------------------------------------------------------------------------------------------


class UserCreateIn(BodyIn):
    username: text(150, min_length=1, pattern=r"^[\w.@+-]+$")
    password: text(4096, min_length=1)
    role: Role
    company_id: BodyId | None = Field(
        default=None, description="Required for managers and agents; managers may omit it."
    )
    extension: Extension | None = None
    first_name: text(150) = ""
    last_name: text(150) = ""
    email: text(254) = ""
    phone: Phone = ""


class UserPatchIn(BodyIn):
    password: text(4096, min_length=1) = None
    role: Role = None
    company_id: BodyId | None = None
    extension: Extension | None = None
    first_name: text(150) = None
    last_name: text(150) = None
    email: text(254) = None
    phone: Phone = None
    is_active: StrictBool = None


class UserPage(Schema):
    items: list[UserOut]
    total: int
    limit: int
    offset: int


# --- companies --------------------------------------------------------------------------------------------------


class CompanyOut(Schema):
    id: int
    name: str
    business_number: str
    phone: str
    fax: str
    address: str
    time_zone: str
    extension_start: str
    extension_end: str
    wrapup_seconds: int
    record_retention_days: int | None = Field(description="Days call records are kept (null: until deleted by hand).")
    is_active: bool
    created_at: datetime
    updated_at: datetime


class CompanyIn(BodyIn):
    name: text(200, min_length=1)
    business_number: text(20, pattern=BUSINESS_NUMBER_PATTERN) = ""
    phone: Phone = ""
    fax: Phone = ""
    address: text(300) = ""
    time_zone: TimeZoneName = "Asia/Seoul"
    extension_start: Extension = ""
    extension_end: Extension = ""
    wrapup_seconds: StrictInt = Field(default=10, ge=0, le=3600)
    record_retention_days: StrictInt | None = Field(
        default=None, ge=MIN_RETENTION_DAYS, le=MAX_RETENTION_DAYS,
        description="Calls and agents' state changes older than this are deleted every night; null keeps them.",
    )  # fmt: skip
    is_active: StrictBool = True


class CompanyPatchIn(BodyIn):
    name: text(200, min_length=1) = None
    business_number: text(20, pattern=BUSINESS_NUMBER_PATTERN) = None
    phone: Phone = None
    fax: Phone = None
    address: text(300) = None
    time_zone: TimeZoneName = None
    extension_start: Extension = None
    extension_end: Extension = None
    wrapup_seconds: StrictInt = Field(default=None, ge=0, le=3600)
    record_retention_days: StrictInt | None = Field(default=None, ge=MIN_RETENTION_DAYS, le=MAX_RETENTION_DAYS)
    is_active: StrictBool = None


class CompanyPage(Schema):
    items: list[CompanyOut]
    total: int
    limit: int
    offset: int


def company_out(company: Company) -> dict:
    zone = zone_of(company)
    return {
        "id": company.pk,
        "name": company.name,
        "business_number": company.business_number or "",
        "phone": company.phone or "",
        "fax": company.fax or "",
        "address": company.address,
        "time_zone": company.time_zone,
        "extension_start": company.extension_start,
        "extension_end": company.extension_end,
        "wrapup_seconds": company.wrapup_seconds,
        "record_retention_days": company.record_retention_days,
        "is_active": company.is_active,
        "created_at": local(company.created_at, zone),
        "updated_at": local(company.updated_at, zone),
    }


# --- calls ------------------------------------------------------------------------------------------------------


class QueueRef(Schema):
    id: int
    name: str
    number: str


class AgentRef(Schema):
    id: int
    username: str
    full_name: str
    extension: str | None


class CallOut(Schema):
    id: int
    company_id: int | None
    direction: Direction
    state: CallState
    caller_number: str
    caller_name: str
    dialed_number: str
    queue: QueueRef | None
    agent: AgentRef | None
    started_at: datetime = Field(description="When the call reached the system (entered the queue).")
    answered_at: datetime | None
    ended_at: datetime | None
    wait_seconds: float | None
    talk_seconds: float | None
    wrapup_seconds: float | None
    disposition: Disposition | None
    hangup_cause: int | None = Field(description="The Q.850 cause code Asterisk reported.")
    hangup_cause_text: str
    hung_up_by: HangupSide | None
    callback_of_id: int | None
    closed_by_reconciliation: bool


class OfferOut(Schema):
    id: int
    agent: AgentRef | None
    offered_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    result: OfferResult | None
    hangup_cause: int | None


class CallEventOut(Schema):
    at: datetime
    kind: str
    channel_id: str
    detail: dict


class CallNoteOut(Schema):
    text: str = Field(description="What the agent or a manager wrote about the call; '' when nobody did.")
    updated_at: datetime | None
    updated_by: AgentRef | None = Field(description="Who wrote it last (an agent or a manager).")


NoteText = text(NOTE_MAX_CHARS)  # named outside the class: its field `text` would hide the function there


class CallNoteIn(BodyIn):
    text: NoteText = Field(description="The whole note; '' removes it.")


class CallDetailOut(CallOut):
    offers: list[OfferOut]
    events: list[CallEventOut]
    note: CallNoteOut


# Every list that pages does it alike: `limit` rows at most from after `cursor`, and the response's `next_cursor` to
# pass as `cursor` for the next page (null on the last one).
Cursor = text(500, min_length=1)
PhoneSearch = text(40, min_length=1, pattern=r"^[0-9+() .-]+$")


class CallPageOut(Schema):
    items: list[CallOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last page.")


class CallQuery(Schema):
    date_from: QueryDate | None = Field(default=None, description="First day (inclusive), in the company's time zone.")
    date_to: QueryDate | None = Field(default=None, description="Last day (inclusive), in the company's time zone.")
    company_id: Id | None = Field(
        default=None, description="One company's calls (for system admins; others see their own company's only)."
    )
    agent_id: Id | None = None
    queue_id: Id | None = None
    disposition: Disposition | None = None
    direction: Direction | None = None
    state: CallState | None = None
    phone: PhoneSearch | None = Field(
        default=None, description="The caller's number, exactly (010-1234-5678 and +82 10 1234 5678 match alike)."
    )
    cursor: Cursor | None = None
    limit: QueryInt = Field(default=50, ge=1, le=200)


def agent_ref(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "full_name": user.get_full_name(), "extension": user.extension}


def call_out(call: Call) -> dict:
    zone = zone_of(call.company)
    return {
        "id": call.pk,
        "company_id": call.company_id,
        "direction": call.direction,
        "state": call.state,
        "caller_number": call.caller_number or "",
        "caller_name": call.caller_name or "",
        "dialed_number": call.dialed_number,
        "queue": {"id": call.queue.pk, "name": call.queue.name, "number": call.queue.number} if call.queue else None,
        "agent": agent_ref(call.agent),
        "started_at": local(call.enqueued_at, zone),
        "answered_at": local(call.answered_at, zone),
        "ended_at": local(call.ended_at, zone),
        "wait_seconds": call.wait_seconds,
        "talk_seconds": call.talk_seconds,
        "wrapup_seconds": call.wrapup_seconds,
        "disposition": call.disposition or None,
        "hangup_cause": call.hangup_cause,
        "hangup_cause_text": call.hangup_cause_text,
        "hung_up_by": call.hangup_by or None,
        "callback_of_id": call.callback_of_id,
        "closed_by_reconciliation": call.reconciled,
    }


def offer_out(offer: Offer, zone: ZoneInfo) -> dict:
    return {
        "id": offer.pk,
        "agent": agent_ref(offer.agent),
        "offered_at": local(offer.offered_at, zone),
        "answered_at": local(offer.answered_at, zone),
        "ended_at": local(offer.ended_at, zone),
        "result": offer.result or None,
        "hangup_cause": offer.hangup_cause,
    }


def event_out(event: CallEvent, zone: ZoneInfo) -> dict:
    detail = event.detail if isinstance(event.detail, dict) else {"value": event.detail}
    return {"at": local(event.at, zone), "kind": event.kind, "channel_id": event.channel_id, "detail": detail}


def call_note_out(note: CallNote | None, zone) -> dict:
    if note is None:
        return {"text": "", "updated_at": None, "updated_by": None}
    return {"text": note.text, "updated_at": local(note.updated_at, zone), "updated_by": agent_ref(note.updated_by)}


def call_detail_out(call: Call, *, offers, events, note: CallNote | None) -> dict:
    zone = zone_of(call.company)
    return {
        **call_out(call),
        "offers": [offer_out(offer, zone) for offer in offers],
        "events": [event_out(event, zone) for event in events],
        "note": call_note_out(note, zone),
    }

"""Reads the API makes beyond one model's queryset: the call log page behind a cursor."""

import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import User
from api.errors import ApiError
from calls import selectors as call_log
from calls.models import Call, Offer

CURSOR_SALT = "api.calls.cursor"


@dataclass(frozen=True)
class CallFilters:
    date_from: date | None = None
    date_to: date | None = None
    agent_id: int | None = None
    queue_id: int | None = None
    disposition: str | None = None
    direction: str | None = None
    state: str | None = None
    phone: str | None = None


def reader_time_zone(user: User) -> ZoneInfo:
    """Days in filters are the reader's company days (Asia/Seoul unless the company says otherwise)."""
    name = (user.company.time_zone if user.company_id else "") or settings.TIME_ZONE
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def cursor_encode(call: Call) -> str:
    return signing.dumps([call.enqueued_at.isoformat(), call.pk], salt=CURSOR_SALT, compress=False)


def cursor_decode(cursor: str) -> tuple[datetime, int]:
    invalid = ApiError(
        400, "invalid_cursor", _("This cursor is not one the API gave out."), fields={"cursor": [_("Invalid cursor.")]}
    )
    try:
        at, call_id = signing.loads(cursor, salt=CURSOR_SALT)
        moment = datetime.fromisoformat(at)
    except (signing.BadSignature, ValueError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeError):
        raise invalid from None
    if moment.tzinfo is None or not isinstance(call_id, int) or not 0 < call_id < 2**63:
        raise invalid
    return moment, call_id


def calls_filtered(*, user: User, filters: CallFilters):
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ApiError(
            422,
            "validation_error",
            _("Some fields are not valid."),
            fields={"date_from": [_("The first day comes after the last day.")]},
        )
    return call_log.calls_filtered(
        user=user,
        zone=reader_time_zone(user),
        filters=call_log.CallFilters(
            date_from=filters.date_from,
            date_to=filters.date_to,
            agent_id=filters.agent_id,
            queue_id=filters.queue_id,
            disposition=filters.disposition or "",
            direction=filters.direction or "",
            state=filters.state or "",
            phone=filters.phone or "",
        ),
    )


@dataclass(frozen=True)
class CallPage:
    calls: list[Call]
    next_cursor: str | None


def calls_page(*, user: User, filters: CallFilters, cursor: str | None, limit: int) -> CallPage:
    """Newest first; the cursor is the last (enqueued_at, id) seen, so pages stay stable while calls arrive."""
    calls = calls_filtered(user=user, filters=filters)
    if cursor:
        at, call_id = cursor_decode(cursor)
        calls = calls.filter(Q(enqueued_at__lt=at) | Q(enqueued_at=at, pk__lt=call_id))
    rows = list(calls.select_related("company", "queue", "agent").order_by("-enqueued_at", "-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return CallPage(calls=rows, next_cursor=cursor_encode(rows[-1]) if more and rows else None)


def call_offers(*, user: User, call: Call):
    return Offer.objects.visible_to(user).filter(call=call).select_related("agent").order_by("offered_at", "id")

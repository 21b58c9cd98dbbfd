"""Reads the API makes beyond one model's queryset: the call log, blocked numbers and abuse reports a page at a time
behind a cursor (the console's own selectors, with the API's errors), and queues with the callers waiting in them
(the wallboard's own figures)."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _

from accounts.models import User
from api.errors import ApiError
from calls import selectors as call_log
from calls.models import AbuseReport, Call, Offer, Queue
from calls.selectors_blocking import BlockedRow, blocked_page, open_reports_page
from pbx.keyset_cursor import InvalidCursor, cursor_decode, cursor_encode

BLOCKED_CURSOR_SALT = "api.blocked-numbers.cursor"
# Open reports are listed oldest first, the others newest first: a cursor of one order means nothing in the other.
OLDEST_REPORTS_CURSOR_SALT = "api.abuse-reports.oldest.cursor"
NEWEST_REPORTS_CURSOR_SALT = "api.abuse-reports.newest.cursor"


def _invalid_cursor() -> ApiError:
    message = _("This cursor is not one the API gave out.")
    return ApiError(400, "invalid_cursor", message, fields={"cursor": [_("Invalid cursor.")]})


def _cursor_decode(salt: str, cursor: str) -> tuple[datetime, int]:
    try:
        return cursor_decode(cursor, salt=salt)
    except InvalidCursor:
        raise _invalid_cursor() from None


@dataclass(frozen=True)
class CallFilters:
    date_from: date | None = None
    date_to: date | None = None
    company_id: int | None = None
    agent_id: int | None = None
    queue_id: int | None = None
    disposition: str | None = None
    direction: str | None = None
    state: str | None = None
    phone: str | None = None


def calls_page(*, user: User, filters: CallFilters, cursor: str | None, limit: int) -> call_log.CallPage:
    """Newest first; the cursor is the last (enqueued_at, id) seen, so pages stay stable while calls arrive."""
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ApiError(
            422,
            "validation_error",
            _("Some fields are not valid."),
            fields={"date_from": [_("The first day comes after the last day.")]},
        )
    log_filters = call_log.CallFilters(
        date_from=filters.date_from,
        date_to=filters.date_to,
        company_id=filters.company_id,
        agent_id=filters.agent_id,
        queue_id=filters.queue_id,
        disposition=filters.disposition or "",
        direction=filters.direction or "",
        state=filters.state or "",
        phone=filters.phone or "",
    )
    try:
        return call_log.calls_page(user=user, filters=log_filters, cursor=cursor or "", limit=limit)
    except InvalidCursor:
        raise _invalid_cursor() from None


@dataclass(frozen=True)
class BlockedNumbersPage:
    rows: list[BlockedRow]
    next_cursor: str | None


def blocked_numbers_page(
    blocked_list, *, number: str, include_ended: bool, cursor: str | None, limit: int
) -> BlockedNumbersPage:
    """The blocked numbers page's own rows (`blocked_page`: newest first, those in force unless `include_ended`,
    `number` by blind index however it is written), from after the cursor: the last (blocked_at, id) shown, so blocks
    added or lifted meanwhile make no row come twice or be skipped. `limit` up to the page's 50."""
    blocked_list = blocked_list.order_by("-blocked_at", "-id")
    if cursor:
        at, pk = _cursor_decode(BLOCKED_CURSOR_SALT, cursor)
        blocked_list = blocked_list.filter(Q(blocked_at__lt=at) | Q(blocked_at=at, pk__lt=pk))
    listing = blocked_page(blocked_list, number=number, show_ended=include_ended)
    rows = listing.rows[:limit]
    more = len(listing.rows) > limit or listing.page.has_next()
    last = rows[-1].blocked if rows else None
    next_cursor = cursor_encode(last.blocked_at, last.pk, salt=BLOCKED_CURSOR_SALT) if more and last else None
    return BlockedNumbersPage(rows=rows, next_cursor=next_cursor)


@dataclass(frozen=True)
class AbuseReportsPage:
    reports: list[AbuseReport]
    next_cursor: str | None


def abuse_reports_page(reports, *, open: bool | None, cursor: str | None, limit: int) -> AbuseReportsPage:
    """Open reports oldest first, as the blocked numbers page lists them (`open_reports_page`: they have waited
    longest); answered ones, or all, newest first. The cursor is the last (reported_at, id) shown."""
    if open:
        if cursor:
            at, pk = _cursor_decode(OLDEST_REPORTS_CURSOR_SALT, cursor)
            reports = reports.filter(Q(reported_at__gt=at) | Q(reported_at=at, pk__gt=pk))
        shown, waiting = open_reports_page(reports)  # at most 100 (more than a page), and how many are left
        rows, more, salt = shown[:limit], waiting > limit, OLDEST_REPORTS_CURSOR_SALT
    else:
        if open is False:
            reports = reports.filter(handled_at__isnull=False)
        if cursor:
            at, pk = _cursor_decode(NEWEST_REPORTS_CURSOR_SALT, cursor)
            reports = reports.filter(Q(reported_at__lt=at) | Q(reported_at=at, pk__lt=pk))
        reports = reports.select_related("company", "call", "reported_by", "handled_by")
        rows = list(reports.order_by("-reported_at", "-id")[: limit + 1])
        rows, more, salt = rows[:limit], len(rows) > limit, NEWEST_REPORTS_CURSOR_SALT
    next_cursor = cursor_encode(rows[-1].reported_at, rows[-1].pk, salt=salt) if more and rows else None
    return AbuseReportsPage(reports=rows, next_cursor=next_cursor)


def call_offers(*, user: User, call: Call):
    return Offer.objects.visible_to(user).filter(call=call).select_related("agent").order_by("offered_at", "id")


def queues_with_waiting(queues) -> list[tuple[Queue, call_log.QueueWaiting | None]]:
    """Each queue with its waiting line as the wallboard counts it (from the calls table, not the telephony engine):
    one read per company listed; None for an inactive queue, which the wallboard does not show."""
    members = Prefetch("members", queryset=User.objects.only("id"))  # ids only: no phone number to decrypt
    queues = list(queues.select_related("company").prefetch_related(members))
    waiting = {}
    for company_id in sorted({queue.company_id for queue in queues}):
        waiting.update({row.queue.pk: row for row in call_log.queues_waiting(company_id=company_id)})
    return [(queue, waiting.get(queue.pk)) for queue in queues]

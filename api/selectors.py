"""Reads the API makes beyond one model's queryset: the call log page behind a cursor (the console's own selector,
with the API's errors)."""

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from accounts.models import User
from api.errors import ApiError
from calls import selectors as call_log
from calls.models import Call, Offer


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
    except call_log.InvalidCursor:
        message = _("This cursor is not one the API gave out.")
        raise ApiError(400, "invalid_cursor", message, fields={"cursor": [_("Invalid cursor.")]}) from None


def call_offers(*, user: User, call: Call):
    return Offer.objects.visible_to(user).filter(call=call).select_related("agent").order_by("offered_at", "id")

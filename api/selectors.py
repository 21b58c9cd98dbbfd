"""Reads the API makes beyond one model's queryset: the call log page behind a cursor (the console's own selector,
with the API's errors), and queues with the callers waiting in them (the wallboard's own figures)."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from accounts.models import User
from api.errors import ApiError
from calls import selectors as call_log
from calls.models import Call, Offer, Queue


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


def queues_with_waiting(queues) -> list[tuple[Queue, call_log.QueueWaiting | None]]:
    """Each queue with its waiting line as the wallboard counts it (from the calls table, not the telephony engine):
    one read per company listed; None for an inactive queue, which the wallboard does not show."""
    members = Prefetch("members", queryset=User.objects.only("id"))  # ids only: no phone number to decrypt
    queues = list(queues.select_related("company").prefetch_related(members))
    waiting = {}
    for company_id in sorted({queue.company_id for queue in queues}):
        waiting.update({row.queue.pk: row for row in call_log.queues_waiting(company_id=company_id)})
    return [(queue, waiting.get(queue.pk)) for queue in queues]

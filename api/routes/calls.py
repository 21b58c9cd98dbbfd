"""The call log: filtered, newest first, cursor-paginated; one call with its offers, event timeline and note; reporting
a call's abusive caller."""

from django.shortcuts import get_object_or_404
from ninja import Path, Query, Router, Status

from api.schemas import (
    CallDetailOut,
    CallNoteIn,
    CallNoteOut,
    CallPageOut,
    CallQuery,
    Id,
    call_detail_out,
    call_note_out,
    call_out,
    responses,
    zone_of,
)
from api.schemas_blocking import AbuseReportIn, AbuseReportOut, abuse_report_out
from api.selectors import CallFilters, call_offers, calls_page
from api.services import abuse_report_by
from calls.models import Call, CallNote
from calls.services_notes import call_note_save

router = Router(tags=["calls"])


@router.get("", response=responses({200: CallPageOut}, 400, 401, 422), summary="List calls (call log)")
def list_calls(request, query: Query[CallQuery]):
    """Admins see every call, managers their company's, agents the calls they took."""
    filters = CallFilters(**query.dict(exclude={"cursor", "limit"}))
    page = calls_page(user=request.user, filters=filters, cursor=query.cursor, limit=query.limit)
    return {"items": [call_out(call) for call in page.calls], "next_cursor": page.next_cursor}


@router.get(
    "/{call_id}",
    response=responses({200: CallDetailOut}, 401, 404, 422),
    summary="Get a call with its offers and timeline",
)
def get_call(request, call_id: Path[Id]):
    call = _visible_call(request, call_id)
    return call_detail_out(
        call,
        offers=call_offers(user=request.user, call=call),
        events=call.events.order_by("at", "id"),
        note=CallNote.objects.select_related("updated_by").filter(call=call).first(),
    )


@router.put(
    "/{call_id}/note",
    response=responses({200: CallNoteOut}, 400, 401, 404, 422),
    summary="Write a call's note",
)
def put_call_note(request, call_id: Path[Id], payload: CallNoteIn):
    """Whoever may see the call may write its note (the agent who took it, the company's managers, admins). The text
    replaces the note; an empty one removes it."""
    call = _visible_call(request, call_id)
    note = call_note_save(call=call, text=payload.text, by=request.user)
    return call_note_out(note, zone_of(call.company))


@router.post(
    "/{call_id}/abuse-report",
    response=responses({200: AbuseReportOut, 201: AbuseReportOut}, 400, 401, 404, 422),
    summary="Report an abusive caller",
    tags=["abuse reports"],
)
def report_abusive_caller(request, call_id: Path[Id], payload: AbuseReportIn):
    """Whoever may see the call (the agent who took it, the company's managers, admins) reports its caller to the
    company's managers, who may block the number. 201 with a new report; 200 when the call was reported already: that
    report gets this reason and reporter and is open again, whatever became of it."""
    call = _visible_call(request, call_id)
    report, new = abuse_report_by(actor=request.user, call=call, reason=payload.reason)
    return Status(201 if new else 200, abuse_report_out(report))


def _visible_call(request, call_id: int) -> Call:
    return get_object_or_404(
        Call.objects.visible_to(request.user).select_related("company", "queue", "agent"), pk=call_id
    )

"""The call log: filtered, newest first, cursor-paginated; one call with its offers and event timeline."""

from django.shortcuts import get_object_or_404
from ninja import Path, Query, Router

from api.schemas import CallDetailOut, CallPageOut, CallQuery, Id, call_detail_out, call_out, responses
from api.selectors import CallFilters, call_offers, calls_page
from calls.models import Call

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
    call = get_object_or_404(
        Call.objects.visible_to(request.user).select_related("company", "queue", "agent"), pk=call_id
    )
    return call_detail_out(
        call, offers=call_offers(user=request.user, call=call), events=call.events.order_by("at", "id")
    )

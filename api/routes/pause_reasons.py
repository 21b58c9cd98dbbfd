"""The pause reasons an agent may give for AWAY (PATCH /auth/activity takes their id or code)."""

from ninja import Query, Router, Schema

from api.schemas import Id, PauseReasonPage, QueryBool, pause_reason_out, responses
from companies.models import PauseReason

router = Router(tags=["pause reasons"])


class PauseReasonQuery(Schema):
    company_id: Id | None = None
    selectable: QueryBool | None = None


@router.get("", response=responses({200: PauseReasonPage}, 401, 422), summary="List pause reasons")
def list_pause_reasons(request, filters: Query[PauseReasonQuery]):
    """My company's reasons (every company's for admins); `selectable=true` keeps those a person may pick."""
    reasons = PauseReason.objects.visible_to(request.user).order_by("company_id", "position", "id")
    if filters.company_id is not None:
        reasons = reasons.filter(company_id=filters.company_id)
    if filters.selectable is True:
        reasons = reasons.selectable()
    elif filters.selectable is False:
        reasons = reasons.exclude(pk__in=PauseReason.objects.selectable())
    return {"items": [pause_reason_out(reason) for reason in reasons]}

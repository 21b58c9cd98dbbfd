"""Queues: the numbers callers dial, with their timeouts, member agents and business hours. A company's managers
(admins: any company's) list, create and change them with the queue page's rules; agents see none of it, as on the
pages. There is no DELETE: a queue with calls behind it is deactivated instead."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from accounts.models import Role
from api.schemas import Id, responses
from api.schemas_queues import QueueIn, QueueOut, QueuePage, QueuePatchIn, queue_out
from api.selectors import queues_with_waiting
from api.services import queue_create_by, queue_update_by
from calls.models import Queue

router = Router(tags=["queues"])


class QueueQuery(Schema):
    company_id: Id | None = Field(
        default=None, description="One company's queues (for system admins; managers see their own company's only)."
    )


def _to_manage(request):
    # Checked before any lookup, so an agent is told their role, not which ids exist.
    if request.user.role not in (Role.SYSTEM_ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only managers and admins manage queues."))
    return Queue.objects.visible_to(request.user)


def _out(queue: Queue) -> dict:
    ((found, waiting),) = queues_with_waiting(Queue.objects.filter(pk=queue.pk))
    return queue_out(found, waiting)


@router.get("", response=responses({200: QueuePage}, 401, 403, 422), summary="List queues")
def list_queues(request, filters: Query[QueueQuery]):
    """My company's queues (every company's for admins), by number, inactive ones included, each with the callers
    waiting in it now."""
    queues = _to_manage(request).order_by("company_id", "number", "id")
    if filters.company_id is not None:
        queues = queues.filter(company_id=filters.company_id)
    return {"items": [queue_out(queue, waiting) for queue, waiting in queues_with_waiting(queues)]}


@router.post("", response=responses({201: QueueOut}, 400, 401, 403, 409, 422), summary="Create a queue")
def create_queue(request, payload: QueueIn):
    """Managers create queues in their own company; system admins name the company. What is left out takes the
    queue page's defaults: every agent of the company takes the calls, always open, active."""
    changes = payload.model_dump(exclude={"company_id"})
    queue = queue_create_by(actor=request.user, company_id=payload.company_id, changes=changes)
    return Status(201, _out(queue))


@router.get("/{queue_id}", response=responses({200: QueueOut}, 401, 403, 404, 422), summary="Get a queue")
def get_queue(request, queue_id: Path[Id]):
    return _out(get_object_or_404(_to_manage(request), pk=queue_id))


@router.patch(
    "/{queue_id}", response=responses({200: QueueOut}, 400, 401, 403, 404, 409, 422), summary="Change a queue"
)
def patch_queue(request, queue_id: Path[Id], payload: QueuePatchIn):
    """Only the fields sent change; `member_ids` replaces the whole list ([]: every agent of the company),
    `business_hours_id: null` makes the queue always open. Queues are not deleted (their calls keep them in the call
    log and reports): `is_active: false` deactivates one, and it takes no more calls."""
    queue = get_object_or_404(_to_manage(request), pk=queue_id)
    changes = payload.model_dump(exclude_unset=True)
    return _out(queue_update_by(actor=request.user, queue=queue, changes=changes))

"""Business hours: when a company's queues take calls. Its people read them; its managers (admins: any company's)
write them, with the pages' rules."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status

from accounts.models import Role
from api.schemas import Id, responses
from api.schemas_hours import (
    BusinessHoursIn,
    BusinessHoursOut,
    BusinessHoursPage,
    BusinessHoursPatchIn,
    business_hours_out,
)
from api.services import business_hours_create_by, business_hours_delete_by, business_hours_update_by
from calls.business_hours import WEEKDAYS
from calls.models import BusinessHours
from calls.selectors_hours import hours_rows

router = Router(tags=["business hours"])


class BusinessHoursQuery(Schema):
    company_id: Id | None = None


def _visible(request):
    return BusinessHours.objects.visible_to(request.user)


def _to_change(request):
    # Checked before any lookup, so an agent is told their role, not which ids exist.
    if request.user.role not in (Role.SYSTEM_ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only managers and admins manage business hours."))
    return _visible(request)


def _out(hours: BusinessHours) -> dict:
    (row,) = hours_rows(BusinessHours.objects.filter(pk=hours.pk))
    return business_hours_out(row)


@router.get("", response=responses({200: BusinessHoursPage}, 401, 422), summary="List business hours")
def list_business_hours(request, filters: Query[BusinessHoursQuery]):
    """My company's hours (every company's for admins), each with its closed days, the queues that use it and whether
    it is open now."""
    hours = _visible(request).order_by("company_id", "name", "id")
    if filters.company_id is not None:
        hours = hours.filter(company_id=filters.company_id)
    return {"items": [business_hours_out(row) for row in hours_rows(hours)]}


@router.post("", response=responses({201: BusinessHoursOut}, 400, 401, 403, 422), summary="Create business hours")
def create_business_hours(request, payload: BusinessHoursIn):
    """Managers create hours in their own company; system admins name the company. Ranges are stored as read back
    (`9:00~18:00` becomes `09:00-18:00`)."""
    hours = business_hours_create_by(
        actor=request.user,
        company_id=payload.company_id,
        name=payload.name,
        week={day: getattr(payload, day) for day in WEEKDAYS},
        closed_days=[(closed.day, closed.hours, closed.name) for closed in payload.closed_days],
    )
    return Status(201, _out(hours))


@router.get("/{hours_id}", response=responses({200: BusinessHoursOut}, 401, 404, 422), summary="Get business hours")
def get_business_hours(request, hours_id: Path[Id]):
    return _out(get_object_or_404(_visible(request), pk=hours_id))


@router.patch(
    "/{hours_id}",
    response=responses({200: BusinessHoursOut}, 400, 401, 403, 404, 422),
    summary="Change business hours",
)
def patch_business_hours(request, hours_id: Path[Id], payload: BusinessHoursPatchIn):
    """Only the fields sent change; `closed_days` replaces the whole list."""
    hours = get_object_or_404(_to_change(request), pk=hours_id)
    changes = payload.model_dump(exclude_unset=True, exclude={"closed_days"})
    if payload.closed_days is not None:
        changes["closed_days"] = [(closed.day, closed.hours, closed.name) for closed in payload.closed_days]
    return _out(business_hours_update_by(actor=request.user, hours=hours, changes=changes))


@router.delete("/{hours_id}", response=responses({204: None}, 401, 403, 404, 422), summary="Delete business hours")
def delete_business_hours(request, hours_id: Path[Id]):
    """The queues that used them are always open from now on."""
    hours = get_object_or_404(_to_change(request), pk=hours_id)
    business_hours_delete_by(actor=request.user, hours=hours)
    return Status(204, None)

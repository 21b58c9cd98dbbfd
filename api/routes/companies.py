"""Companies (the tenants): system admins only."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from accounts.models import Role
from api.schemas import (
    CompanyIn,
    CompanyOut,
    CompanyPage,
    CompanyPatchIn,
    Id,
    QueryBool,
    QueryInt,
    company_out,
    responses,
    text,
)
from api.services import company_create_by, company_update_by
from companies.models import Company

router = Router(tags=["companies"])


class CompanyQuery(Schema):
    is_active: QueryBool | None = None
    search: text(200, min_length=1) | None = Field(default=None, description="Part of the name.")
    limit: QueryInt = Field(default=50, ge=1, le=200)
    offset: QueryInt = Field(default=0, ge=0, le=1_000_000)


def _companies(request):
    # Checked before any lookup, so a manager learns nothing about which ids exist.
    if request.user.role != Role.SYSTEM_ADMIN:
        raise PermissionDenied(_("Only system admins manage companies."))
    return Company.objects.visible_to(request.user)


@router.get("", response=responses({200: CompanyPage}, 401, 403, 422), summary="List companies")
def list_companies(request, filters: Query[CompanyQuery]):
    companies = _companies(request).order_by("name", "id")
    if filters.is_active is not None:
        companies = companies.filter(is_active=filters.is_active)
    if filters.search:
        companies = companies.filter(name__icontains=filters.search.strip())
    total = companies.count()
    page = companies[filters.offset : filters.offset + filters.limit]
    return {"items": [company_out(c) for c in page], "total": total, "limit": filters.limit, "offset": filters.offset}


@router.post("", response=responses({201: CompanyOut}, 400, 401, 403, 422), summary="Create a company")
def create_company(request, payload: CompanyIn):
    """A new company, with the default pause reasons (LUNCH, BREAK, MEETING, OTHER)."""
    _companies(request)
    company = company_create_by(actor=request.user, **payload.model_dump())
    return Status(201, company_out(company))


@router.get("/{company_id}", response=responses({200: CompanyOut}, 401, 403, 404, 422), summary="Get a company")
def get_company(request, company_id: Path[Id]):
    return company_out(get_object_or_404(_companies(request), pk=company_id))


@router.patch(
    "/{company_id}", response=responses({200: CompanyOut}, 400, 401, 403, 404, 422), summary="Change a company"
)
def patch_company(request, company_id: Path[Id], payload: CompanyPatchIn):
    """Only the fields sent change."""
    company = get_object_or_404(_companies(request), pk=company_id)
    return company_out(
        company_update_by(actor=request.user, company=company, changes=payload.model_dump(exclude_unset=True))
    )

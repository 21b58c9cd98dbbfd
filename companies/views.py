"""Companies, for system admins only: list, create, edit, deactivate."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from companies.forms import CompanyForm
from companies.models import Company
from companies.services import company_create, company_update


def _admin_only(request):
    if not request.user.is_system_admin:
        raise PermissionDenied(_("Only system admins manage companies."))


@login_required
def company_list(request):
    _admin_only(request)
    return render(request, "companies/list.html", {"companies": Company.objects.all()})


@login_required
def company_edit(request, company_id: int | None = None):
    _admin_only(request)
    company = get_object_or_404(Company, pk=company_id) if company_id is not None else None
    form = CompanyForm(request.POST or None, instance=company)
    if request.method == "POST" and form.is_valid():
        values = form.values()
        if company is None:
            company = company_create(**values)
        else:
            company_update(company=Company.objects.get(pk=company.pk), **values)
        messages.success(request, _("Company %(name)s saved.") % {"name": values["name"]})
        return redirect("companies:list")
    return render(
        request,
        "companies/form.html",
        {"form": form, "company": company},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@login_required
def company_toggle_active(request, company_id: int):
    _admin_only(request)
    company = get_object_or_404(Company, pk=company_id)
    company_update(company=company, is_active=not company.is_active)
    if company.is_active:
        messages.success(request, _("%(name)s is active again.") % {"name": company.name})
    else:
        messages.success(request, _("%(name)s is deactivated.") % {"name": company.name})
    return redirect("companies:list")

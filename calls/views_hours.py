"""Business hours for managers (their company's) and system admins (every company's)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calls.forms_hours import BusinessHoursForm, PublicHolidaysForm
from calls.models import BusinessHours
from calls.selectors import zone_of
from calls.selectors_hours import hours_rows
from calls.services_hours import business_hours_delete, business_hours_save
from calls.views_queues import company_for_new, company_pick, staff_only


@login_required
def hours_list(request):
    staff_only(request, _("Only managers and admins manage business hours."))
    rows = hours_rows(BusinessHours.objects.visible_to(request.user))
    return render(request, "calls/hours.html", {"rows": rows, "weekday_names": list(WEEKDAYS_ABBR.values())})


@login_required
def hours_edit(request, hours_id: int | None = None):
    staff_only(request, _("Only managers and admins manage business hours."))
    hours = None
    if hours_id is not None:
        hours = get_object_or_404(BusinessHours.objects.visible_to(request.user), pk=hours_id)
        company = hours.company
    else:
        company = company_for_new(request)
        if company is None:
            return company_pick(request)
    form = BusinessHoursForm(request.POST or None, instance=hours, company=company)
    holidays_form = PublicHolidaysForm(request.POST or None, initial={"holidays_year": _next_year(company)})
    if request.method == "POST" and "add_holidays" in request.POST:
        # Nothing is saved yet: the form comes back with the holidays in its closed days, to look over and save.
        status = 400
        if holidays_form.is_valid():
            status = 200
            text = holidays_form.closed_days_with_holidays(request.POST.get("closed_days_text", ""))
            form = BusinessHoursForm(initial={**request.POST.dict(), "closed_days_text": text}, instance=hours,
                                     company=company)  # fmt: skip
        context = {"form": form, "holidays_form": holidays_form, "hours": hours, "company": company}
        return render(request, "calls/hours_form.html", context, status=status)
    context = {"form": form, "holidays_form": holidays_form, "hours": hours, "company": company}
    if request.method == "POST":
        if form.is_valid():
            saved = business_hours_save(form=form, company=company)
            messages.success(request, _("Business hours %(name)s saved.") % {"name": saved.name})
            return redirect("calls:hours")
        return render(request, "calls/hours_form.html", context, status=400)
    return render(request, "calls/hours_form.html", context)


@login_required
@require_POST
def hours_delete(request, hours_id: int):
    staff_only(request, _("Only managers and admins manage business hours."))
    hours = get_object_or_404(BusinessHours.objects.visible_to(request.user), pk=hours_id)
    name = hours.name
    queues = business_hours_delete(hours)
    if queues:
        messages.success(
            request,
            _("Business hours %(name)s deleted; these queues are now always open: %(queues)s")
            % {"name": name, "queues": ", ".join(queues)},
        )
    else:
        messages.success(request, _("Business hours %(name)s deleted.") % {"name": name})
    return redirect("calls:hours")


def _next_year(company) -> int:
    """The year whose holidays one adds next: this year's until October, then the coming one's."""
    today = timezone.now().astimezone(zone_of(company)).date()
    return today.year + (today.month >= 10)

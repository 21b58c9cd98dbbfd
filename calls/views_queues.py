"""Queues for managers (their company's) and system admins (every company's)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from calls.forms import QueueForm
from calls.models import Queue
from calls.services_queues import queue_save
from companies.models import Company
from pbx.ids import parse_id


def staff_only(request, refusal: str = ""):
    """Managers and system admins only; `refusal` says what the others may not do (default: manage queues)."""
    if request.user.role not in ("MANAGER", "SYSTEM_ADMIN"):
        raise PermissionDenied(refusal or _("Only managers and admins manage queues."))


def company_for_new(request) -> Company | None:
    """The company something new belongs to: the manager's own; the one a system admin picked (None: not yet)."""
    if not request.user.is_system_admin:
        return request.user.company
    company_id = parse_id(request.GET.get("company") or request.POST.get("company"))
    if company_id is None:
        return None
    return get_object_or_404(Company.objects.visible_to(request.user), pk=company_id)


def company_pick(request):
    companies = Company.objects.visible_to(request.user).active()
    return render(request, "console/company_pick.html", {"companies": companies})


@login_required
def queue_list(request):
    staff_only(request)
    queues = (
        Queue.objects.visible_to(request.user)
        .select_related("company", "business_hours", "overflow_queue")
        .prefetch_related("members")
    )
    return render(request, "calls/queues.html", {"queues": queues})


@login_required
def queue_edit(request, queue_id: int | None = None):
    staff_only(request)
    queue = None
    if queue_id is not None:
        queue = get_object_or_404(Queue.objects.visible_to(request.user), pk=queue_id)
        company = queue.company
    else:
        company = company_for_new(request)
        if company is None:
            return company_pick(request)
    form = QueueForm(request.POST or None, instance=queue, company=company)
    if request.method == "POST":
        if form.is_valid():
            saved = queue_save(form=form, company=company)
            messages.success(request, _("Queue %(name)s saved.") % {"name": saved.name})
            return redirect("calls:queues")
        return render(request, "calls/queue_form.html", {"form": form, "queue": queue, "company": company}, status=400)
    return render(request, "calls/queue_form.html", {"form": form, "queue": queue, "company": company})

"""Blocked numbers, for managers (their company's) and system admins (every company's): the list, blocking a typed
number or a call's, and lifting a block."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calls.forms_blocking import AbuseReportForm, BlockForm
from calls.models import AbuseReport, BlockedCaller
from calls.selectors_blocking import blocked_page, open_reports_page
from calls.services_abuse import ReportAnswered, abuse_report, abuse_report_block, abuse_report_dismiss
from calls.services_blocking import caller_block, caller_unblock
from calls.views import _visible_call
from calls.views_queues import company_for_new, staff_only
from companies.models import Company


@login_required
def blocked_list(request):
    staff_only(request, _("Only managers and admins manage blocked numbers."))
    company = company_for_new(request)  # where a typed number is blocked (a system admin picks the company first)
    form = BlockForm(request.POST or None)
    status = 200
    if request.method == "POST" and company is not None and form.is_valid():
        try:
            caller_block(company=company, number=form.cleaned_data["number"], reason=form.cleaned_data["reason"],
                         until=form.until(), by=request.user)  # fmt: skip
        except ValidationError as error:
            form.add_error("number", error.message_dict["number"])
        else:
            messages.success(request, _("Calls from this number are refused from now on."))
            return redirect(request.get_full_path())
    if request.method == "POST":
        status = 400
    listing = blocked_page(BlockedCaller.objects.visible_to(request.user), number=request.GET.get("number", ""),
                           show_ended=request.GET.get("ended") == "1", page=request.GET.get("page", 1))  # fmt: skip
    companies = Company.objects.visible_to(request.user).active() if company is None else None
    reports, open_reports = open_reports_page(AbuseReport.objects.visible_to(request.user))
    context = {"form": form, "company": company, "companies": companies, "listing": listing,
               "rows": listing.rows, "reports": reports, "open_reports": open_reports,
               "report_form": BlockForm(with_number=False)}  # fmt: skip
    return render(request, "calls/blocked.html", context, status=status)


@login_required
@require_POST
def blocked_delete(request, blocked_id: int):
    staff_only(request, _("Only managers and admins manage blocked numbers."))
    caller_unblock(get_object_or_404(BlockedCaller.objects.visible_to(request.user), pk=blocked_id))
    messages.success(request, _("The number is unblocked: its calls are taken again."))
    return redirect("calls:blocked")


@login_required
@require_POST
def call_block(request, call_id: int):
    """Block the number a call came from, for that call's company."""
    staff_only(request, _("Only managers and admins manage blocked numbers."))
    call = _visible_call(request, call_id)
    form = BlockForm(request.POST, with_number=False)
    if not form.is_valid() or call.company is None:
        messages.error(request, _("This number could not be blocked."))
        return redirect("calls:detail", call_id=call.pk)
    try:
        caller_block(company=call.company, number=call.caller_number, reason=form.cleaned_data["reason"],
                     until=form.until(), by=request.user)  # fmt: skip
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Calls from this number are refused from now on."))
    return redirect("calls:detail", call_id=call.pk)


@login_required
@require_POST
def call_report_abuse(request, call_id: int):
    """Anyone who may see the call (its agent first of all) reports its caller to the managers."""
    call = _visible_call(request, call_id)
    form = AbuseReportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what happened, in up to 200 characters."))
        return redirect("calls:detail", call_id=call.pk)
    try:
        abuse_report(call=call, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Reported: a manager will decide whether to block the number."))
    return redirect("calls:detail", call_id=call.pk)


@login_required
@require_POST
def abuse_report_answer(request, report_id: int):
    """A manager blocks the reported number (for the time chosen) or dismisses the report, once."""
    staff_only(request, _("Only managers and admins manage blocked numbers."))
    report = get_object_or_404(AbuseReport.objects.visible_to(request.user).open(), pk=report_id)
    form = BlockForm(request.POST, with_number=False)
    try:
        if request.POST.get("answer") == "dismiss":
            abuse_report_dismiss(report=report, by=request.user)
            messages.success(request, _("The report is dismissed."))
        elif not form.is_valid():
            messages.error(request, _("This number could not be blocked."))
        else:
            abuse_report_block(report=report, by=request.user, until=form.until())
            messages.success(request, _("Calls from this number are refused from now on."))
    except ReportAnswered as answered:
        messages.error(request, str(answered))
    except ValidationError:
        messages.error(request, _("The call came without a number: there is nothing to block."))
    return redirect("calls:blocked")

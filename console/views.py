"""The agent console, the wallboard, missed calls with callbacks, and pause reasons: thin views over services.

Each view renders a whole page, or, for an htmx request, only the panel that changed (the same partial a socket push
or a reload shows).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.decorators import role_required
from accounts.models import Role, User
from accounts.services import ActivityChangeRefused, Actor, activity_change, agent_choose_after_call
from accounts.states import ActivityState
from calls.selectors import missed_calls_today
from calls.selectors_blocking import open_abuse_reports
from calls.services_callbacks import CallbackRefused, callback_request
from companies.models import Company, PauseReason
from console import panels
from console.forms import PauseReasonForm
from console.selectors import pause_time_today
from pbx.ids import parse_id


def _reason(request, company_id) -> PauseReason | None:
    reason_id = parse_id(request.POST.get("pause_reason"))
    if reason_id is None:
        return None
    return PauseReason.objects.filter(pk=reason_id, company_id=company_id).first()


# --- agent console ----------------------------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
@role_required(Role.AGENT)
def agent_console(request):
    return render(request, panels.AGENT_TEMPLATE, panels.agent_context(request.user))


@require_POST
@role_required(Role.AGENT)
def agent_state(request):
    """The agent's own state buttons: READY, AWAY with a reason, TRAINING, and ending wrap-up."""
    agent = request.user
    error = ""
    to_state = request.POST.get("to_state", "")
    if to_state not in ActivityState.values:
        error = _("Choose a state.")
    else:
        try:
            activity_change(
                agent_id=agent.pk,
                to_state=to_state,
                actor=Actor.person(user=agent, agent=agent),
                pause_reason=_reason(request, agent.company_id),
            )
        except ActivityChangeRefused as refused:
            error = str(refused)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("console:agent")
    context = panels.agent_context(agent)
    context["state_error"] = error
    return render(request, f"{panels.AGENT_TEMPLATE}#agent-state", context, status=200)


@require_POST
@role_required(Role.AGENT)
def after_call(request):
    """What wrap-up turns into: READY (default), AWAY with a reason or TRAINING."""
    agent = request.user
    error = ""
    state, _sep, reason_id = request.POST.get("choice", "").partition(":")
    reason = None
    if (reason_id := parse_id(reason_id)) is not None:
        reason = PauseReason.objects.filter(pk=reason_id, company_id=agent.company_id).first()
    try:
        agent_choose_after_call(agent=agent, state=state, pause_reason=reason)
    except ActivityChangeRefused as refused:
        error = str(refused)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("console:agent")
    context = panels.agent_context(agent)
    context["after_call_error"] = error
    return render(request, f"{panels.AGENT_TEMPLATE}#current-call", context)


# --- wallboard -------------------------------------------------------------------------------------------------


def _wallboard_company(request) -> Company | None:
    """A manager's own company; a system admin's pick (`?company=`), None while they have not picked."""
    user = request.user
    if user.role == Role.MANAGER:
        return user.company
    company_id = parse_id(request.GET.get("company") or request.POST.get("company"))
    if company_id is None:
        return None
    return get_object_or_404(Company.objects.visible_to(user), pk=company_id)


@require_GET
@vary_on_headers("HX-Request")
@role_required(Role.MANAGER, Role.SYSTEM_ADMIN)
def wallboard(request):
    company = _wallboard_company(request)
    if company is None:
        companies = Company.objects.visible_to(request.user).active()
        return render(request, "console/company_pick.html", {"companies": companies})
    context = panels.wallboard_context(company, viewer=request.user)
    context["open_abuse_reports"] = open_abuse_reports(company_id=company.pk)
    return render(request, panels.WALLBOARD_TEMPLATE, context)


@require_POST
@role_required(Role.MANAGER, Role.SYSTEM_ADMIN)
def wallboard_agent_state(request, agent_id: int):
    """A manager sets an agent READY, AWAY (with a reason) or DISABLED; the audit log records the manager."""
    agent = get_object_or_404(User.objects.visible_to(request.user).agents(), pk=agent_id)
    error = ""
    choice = request.POST.get("choice", "")
    to_state, _sep, reason_id = choice.partition(":")
    reason = None
    if (reason_id := parse_id(reason_id)) is not None:
        reason = PauseReason.objects.filter(pk=reason_id, company_id=agent.company_id).first()
    if to_state not in (ActivityState.READY, ActivityState.AWAY, ActivityState.TRAINING, ActivityState.DISABLED):
        error = _("Choose a state.")
    else:
        try:
            activity_change(
                agent_id=agent.pk,
                to_state=to_state,
                actor=Actor.person(user=request.user, agent=agent),
                pause_reason=reason,
            )
        except ActivityChangeRefused as refused:
            error = str(refused)
    if not request.htmx:
        if error:
            messages.error(request, error)
        target = redirect("console:wallboard")
        if request.user.is_system_admin:
            target["Location"] += f"?company={agent.company_id}"
        return target
    context = panels.agent_row_context(
        agent.pk, company_id=agent.company_id, viewer=request.user, reasons=panels.selectable_reasons(agent.company_id)
    )
    context["row_error"] = error
    return render(request, f"{panels.WALLBOARD_TEMPLATE}#agent-row", context)


# --- missed and abandoned calls -------------------------------------------------------------------------------------


@require_GET
@login_required
def missed_calls(request):
    """The page, or (`?part=list`) just its list: the live socket asks the page to fetch it again when calls end."""
    calls = list(missed_calls_today(user=request.user)[:500])
    agents = []
    if request.user.role != Role.AGENT:
        agents = User.objects.visible_to(request.user).agents().filter(is_active=True).exclude(extension=None)
        # Ready agents first: a callback can only ring an agent who is free.
        agents = sorted(agents, key=lambda agent: (agent.activity_state != ActivityState.READY, str(agent)))
    template = "console/missed.html#missed-list" if request.GET.get("part") == "list" else "console/missed.html"
    return render(request, template, {"calls": calls, "agents": agents})


@require_POST
@login_required
def call_back(request, call_id: int):
    missed = get_object_or_404(missed_calls_today(user=request.user), pk=call_id)
    if request.user.role == Role.AGENT:
        agent = request.user
    else:
        agent_id = parse_id(request.POST.get("agent"))
        agent = User.objects.visible_to(request.user).agents().filter(pk=agent_id or 0).first()
        if agent is None:
            messages.error(request, _("Choose the agent whose phone rings first."))
            return redirect("console:missed")
    try:
        callback_request(missed_call=missed, agent=agent, requested_by=request.user)
    except CallbackRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Calling back: %(agent)s's phone rings first.") % {"agent": agent})
    return redirect("console:missed")


# --- pause reasons ---------------------------------------------------------------------------------------------------


def _reasons_company(request) -> Company:
    if request.user.role == Role.MANAGER:
        return request.user.company
    company_id = parse_id(request.GET.get("company") or request.POST.get("company"))
    if company_id is None:
        raise Http404(_("Choose a company."))
    return get_object_or_404(Company.objects.visible_to(request.user), pk=company_id)


@role_required(Role.MANAGER, Role.SYSTEM_ADMIN)
def pause_reasons(request):
    """The company's reasons (editable, the automatic one shown but fixed) and today's time per reason per agent."""
    if request.user.is_system_admin and not (request.GET.get("company") or request.POST.get("company")):
        companies = Company.objects.visible_to(request.user).active()
        return render(request, "console/company_pick.html", {"companies": companies, "target": "console:pause_reasons"})
    company = _reasons_company(request)
    reasons = list(PauseReason.objects.filter(company=company).order_by("position", "id"))
    raw = request.POST.get("reason_id", "") if request.method == "POST" else request.GET.get("edit", "")
    edit = next((r for r in reasons if str(r.pk) == raw), None)
    form = PauseReasonForm(request.POST if request.method == "POST" else None, instance=edit, company=company)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Pause reason saved."))
        target = redirect("console:pause_reasons")
        if request.user.is_system_admin:
            target["Location"] += f"?company={company.pk}"
        return target
    return render(
        request,
        "console/pause_reasons.html",
        {
            "company": company,
            "reasons": reasons,
            "form": form,
            "report": pause_time_today(company=company),
        },
        status=400 if request.method == "POST" else 200,
    )

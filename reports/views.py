"""The report page and its CSV tables, for managers (their company) and system admins (the company they pick), and an
agent's day of state changes (also for the agent): thin views over reports.selectors."""

from datetime import timedelta

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.decorators import role_required
from accounts.models import Role, User
from accounts.states import ActivityState
from reports import selectors, tables
from reports.forms import DayForm, ReportForm, quick_spans


@require_GET
@role_required(Role.MANAGER, Role.SYSTEM_ADMIN)
def report(request):
    form = ReportForm.for_request(request.GET, user=request.user)
    context = {"form": form, "report": None, "state_labels": selectors.reported_state_labels()}
    if form.is_valid():
        context["report"] = selectors.company_report(**form.choice())
        context["spans"] = quick_spans(selectors.company_today(form.company()))
        context["query"] = form.query()
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "reports/report.html", context, status=status)


@require_GET
@role_required(Role.AGENT, Role.MANAGER, Role.SYSTEM_ADMIN)
def agent_activity(request, agent_id: int):
    """One agent's day: each state change, how long the state lasted, who made the change, and the day's totals.
    Managers see their company's agents, admins everyone's, an agent their own (visible_to decides)."""
    agent = get_object_or_404(User.objects.visible_to(request.user).agents().select_related("company"), pk=agent_id)
    today = selectors.company_today(agent.company)
    form = DayForm(request.GET if "day" in request.GET else {"day": today})
    status = 200
    if form.is_valid():
        day = form.cleaned_data["day"]
    else:
        day, status = today, 400
    the_day = selectors.agent_day(agent=agent, day=day)
    labels = dict(ActivityState.choices)
    by_state = the_day.time.seconds_by_state if the_day.time else {}
    context = {
        "form": form,
        "agent_day": the_day,
        # In the order agents go through the states, as in the report's columns.
        "totals": [(state, labels[state], by_state[state]) for state in ActivityState.values if state in by_state],
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1) if day < today else None,
        "state_labels": labels,
    }
    return render(request, "reports/agent_activity.html", context, status=status)


@require_GET
@role_required(Role.MANAGER, Role.SYSTEM_ADMIN)
def export(request, table: str):
    if table not in tables.TABLES:
        raise Http404(_("There is no such table."))
    form = ReportForm.for_request(request.GET, user=request.user)
    if not form.is_valid():
        context = {"form": form, "report": None}
        return render(request, "reports/report.html", context, status=400)
    report = selectors.company_report(**form.choice())
    response = HttpResponse(tables.table_csv(report, table), content_type="text/csv; charset=utf-8")
    name = f"report-{table}-{report.first_day:%Y%m%d}-{report.last_day:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

"""The report page and its CSV tables: thin views over reports.selectors, for managers (their company) and system
admins (the company they pick)."""

import csv
import io
from datetime import timedelta

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.decorators import role_required
from accounts.models import Role, User
from accounts.states import ActivityState
from calls.views import spreadsheet_safe
from reports import selectors
from reports.forms import DayForm, ReportForm, quick_spans

TABLES = ("days", "hours", "queues", "agents")


@require_GET
@role_required(Role.MANAGER, Role.SYSTEM_ADMIN)
def report(request):
    form = ReportForm.for_request(request.GET, user=request.user)
    context = {"form": form, "report": None, "state_labels": selectors.reported_state_labels()}
    if form.is_valid():
        company = form.company()
        context["report"] = selectors.company_report(
            company=company, first_day=form.cleaned_data["date_from"], last_day=form.cleaned_data["date_to"]
        )
        context["spans"] = quick_spans(selectors.company_today(company))
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
    if table not in TABLES:
        raise Http404(_("There is no such table."))
    form = ReportForm.for_request(request.GET, user=request.user)
    if not form.is_valid():
        context = {"form": form, "report": None}
        return render(request, "reports/report.html", context, status=400)
    company = form.company()
    report = selectors.company_report(
        company=company, first_day=form.cleaned_data["date_from"], last_day=form.cleaned_data["date_to"]
    )
    out = io.StringIO()
    out.write("\ufeff")  # the BOM makes spreadsheet programs read the Korean text as UTF-8
    writer = csv.writer(out)
    for row in _ROWS[table](report):
        writer.writerow([spreadsheet_safe(value) for value in row])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"report-{table}-{report.first_day:%Y%m%d}-{report.last_day:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _figure_cells(f) -> list:
    def share(ratio):
        return "" if ratio is None else f"{ratio * 100:.1f}"

    def seconds(value):
        return "" if value is None else f"{value:.0f}"

    return [
        f.offered,
        f.answered,
        f.abandoned,
        share(f.abandon_rate),
        seconds(f.average_speed_of_answer),
        seconds(f.average_handle_time),
        share(f.service_level),
    ]


def _figure_headers() -> list:
    return [_("Offered"), _("Answered"), _("Abandoned"), _("Abandon rate (%)"), _("ASA (s)"), _("AHT (s)"),
            _("Service level (%)")]  # fmt: skip


def _days(report):
    yield [_("Day"), *_figure_headers()]
    for day, figures in report.days:
        yield [day.isoformat(), *_figure_cells(figures)]


def _hours(report):
    yield [_("Hour"), *_figure_headers()]
    for hour, figures in report.hours:
        yield [f"{hour:02d}:00", *_figure_cells(figures)]


def _queues(report):
    yield [_("Queue"), _("Number"), *_figure_headers()]
    for queue, figures in report.per_queue:
        yield [queue.name, queue.number, *_figure_cells(figures)]
    yield [_("All queues"), "", *_figure_cells(report.total)]


def _agents(report):
    states = [f"{label} (s)" for label in selectors.reported_state_labels()]
    yield [_("Agent"), _("Username"), _("Extension"), _("Answered"), _("Missed offers"), _("Handle time (s)"),
           _("AHT (s)"), *states, _("Occupancy (%)")]  # fmt: skip
    for row in report.agents:
        f = row.figures
        yield [
            str(row.agent),
            row.agent.username,
            row.agent.extension or "",
            f.answered,
            f.missed_offers,
            f"{f.handle_total:.0f}",
            "" if f.average_handle_time is None else f"{f.average_handle_time:.0f}",
            *(f"{seconds:.0f}" for seconds in row.seconds_per_state),
            "" if row.occupancy is None else f"{row.occupancy * 100:.1f}",
        ]


_ROWS = {"days": _days, "hours": _hours, "queues": _queues, "agents": _agents}

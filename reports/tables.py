"""The report's tables as CSV: headers in the active language, seconds as whole numbers, shares as percentages, and
every text cell safe to open in a spreadsheet. Used by the page's CSV links and by `manage.py export_report`."""

import csv
import io

from django.utils.translation import gettext as _

from pbx.spreadsheet import spreadsheet_safe
from reports import selectors

TABLES = ("days", "hours", "queues", "agents")


def table_csv(report: selectors.CompanyReport, table: str) -> str:
    """The table as CSV text, with a BOM so that spreadsheet programs read the Korean text as UTF-8."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    for row in _ROWS[table](report):
        writer.writerow([spreadsheet_safe(value) for value in row])
    return out.getvalue()


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
        f.after_hours,
        f.overflowed,
    ]


def _figure_headers() -> list:
    return [_("Offered"), _("Answered"), _("Abandoned"), _("Abandon rate (%)"), _("ASA (s)"), _("AHT (s)"),
            _("Service level (%)"), _("After hours"), _("Overflowed")]  # fmt: skip


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
           _("AHT (s)"), *states, _("Away over limit (s)"), _("Occupancy (%)")]  # fmt: skip
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
            f"{row.time.away_over_limit:.0f}",
            "" if row.occupancy is None else f"{row.occupancy * 100:.1f}",
        ]


_ROWS = {"days": _days, "hours": _hours, "queues": _queues, "agents": _agents}

"""Write one table of a company's report as CSV, for a scheduled export (cron) or a spreadsheet: the page's tables."""

import sys
from datetime import date, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from calls.models import Queue
from companies.management.company_argument import company_argument
from reports import selectors, tables
from reports.forms import span_problems


class Command(BaseCommand):
    help = (
        "Write a table of a company's report (days, hours, queues or agents) as CSV, the same as the report page's "
        "CSV links. Days are the company's (Asia/Seoul midnight to midnight); without --from and --to, yesterday."
    )

    def add_arguments(self, parser):
        parser.add_argument("--company", required=True, help="the company's id or exact name")
        parser.add_argument("--from", dest="first_day", type=_day, help="first day, YYYY-MM-DD (default: yesterday)")
        parser.add_argument("--to", dest="last_day", type=_day, help="last day, YYYY-MM-DD (default: --from)")
        parser.add_argument("--table", choices=tables.TABLES, default="days")
        parser.add_argument("--queue", help="only this queue's days and hours (the queue's number)")
        parser.add_argument("--output", type=Path, help="the CSV file to write (default: standard output)")
        parser.add_argument("--language", choices=["ko", "en"], default="ko", help="the headers' language")

    def handle(self, *args, **options):
        company = company_argument(options["company"])
        yesterday = selectors.company_today(company) - timedelta(days=1)
        first = options["first_day"] or yesterday
        last = options["last_day"] or (first if options["first_day"] else yesterday)
        if problems := span_problems(first, last):
            raise CommandError(" ".join(str(message) for _field, message in problems))
        queue = None
        if options["queue"]:
            queue = Queue.objects.filter(company=company, number=options["queue"]).first()
            if queue is None:
                message = _("%(company)s has no queue %(number)s.")
                raise CommandError(message % {"company": company.name, "number": options["queue"]})
        report = selectors.company_report(company=company, first_day=first, last_day=last, queue=queue)
        with translation.override(options["language"]):
            text = tables.table_csv(report, options["table"])
        if options["output"] is None:
            sys.stdout.write(text)  # not self.stdout: it would add a line ending of its own
            return
        try:
            options["output"].write_text(text, encoding="utf-8")
        except OSError as error:
            message = _("Cannot write %(path)s: %(error)s.")
            raise CommandError(message % {"path": options["output"], "error": error.strerror}) from None
        message = _("%(table)s of %(company)s, %(first)s to %(last)s, written to %(path)s.")
        self.stdout.write(
            message
            % {
                "table": options["table"],
                "company": company.name,
                "first": report.first_day,
                "last": report.last_day,
                "path": options["output"],
            }  # fmt: skip
        )


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(_("%(value)s is not a day written YYYY-MM-DD.") % {"value": value}) from None

"""Delete what each company no longer keeps (its record retention), for a nightly job."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from calls.selectors import zone_of
from calls.services_retention import records_prune, retention_cutoff
from companies.management.company_argument import company_argument
from companies.models import Company


class Command(BaseCommand):
    help = (
        "Delete the ended calls (with their timelines, offers and notes) and the agents' state changes that are older "
        "than each company's record retention. Companies without one keep everything. Run it nightly."
    )

    def add_arguments(self, parser):
        parser.add_argument("--company", help="only this company (its id or exact name)")
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")

    def handle(self, *args, **options):
        if options["company"]:
            companies = [company_argument(options["company"])]
        else:
            companies = Company.objects.filter(record_retention_days__isnull=False).order_by("name")
        for company in companies:
            cutoff = retention_cutoff(company)
            if cutoff is None:
                self.stdout.write(_("%(company)s keeps every record.") % {"company": company.name})
                continue
            pruned = records_prune(company=company, dry_run=options["dry_run"])
            if options["dry_run"]:
                message = _("%(company)s: would delete %(calls)d call(s), %(changes)d state change(s) (< %(cutoff)s).")
            else:
                message = _("%(company)s: deleted %(calls)d call(s), %(changes)d state change(s) (< %(cutoff)s).")
            cutoff = cutoff.astimezone(zone_of(company)).strftime("%Y-%m-%d %H:%M")
            values = {"company": company.name, "calls": pruned.calls, "changes": pruned.state_changes, "cutoff": cutoff}
            self.stdout.write(message % values)

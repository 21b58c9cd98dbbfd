"""Delete what each company no longer keeps (its record retention), for a nightly job."""

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.security import login_record_cutoff, login_records_prune
from calls.selectors import zone_of
from calls.services_retention import records_prune, retention_cutoff
from companies.management.company_argument import company_argument
from companies.models import Company


class Command(BaseCommand):
    help = (
        "Delete the ended calls (with their timelines, offers and notes) and the agents' state changes that are older "
        "than each company's record retention (companies without one keep everything), and the login records "
        "older than LOGIN_RECORD_RETENTION_DAYS (at least a year). Run it nightly."
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
        if not options["company"]:
            self._prune_login_records(dry_run=options["dry_run"])

    def _prune_login_records(self, *, dry_run: bool) -> None:
        cutoff = login_record_cutoff()
        if cutoff is None:
            self.stdout.write(_("Login records are kept forever."))
            return
        count = login_records_prune(dry_run=dry_run)
        if dry_run:
            message = _("Login records: would delete %(count)d (< %(cutoff)s).")
        else:
            message = _("Login records: deleted %(count)d (< %(cutoff)s).")
        self.stdout.write(message % {"count": count, "cutoff": timezone.localtime(cutoff).strftime("%Y-%m-%d %H:%M")})

"""Deletes API tokens that expired or were revoked long ago (run daily from cron or a timer)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from api.services import tokens_prune

# Ten years: far past any token's life, and far below the dates Python can count back to.
MAX_DAYS = 3650


class Command(BaseCommand):
    help = "Delete API tokens that expired or were revoked more than --days days ago (default 30)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=30, help=f"days a dead token is kept (0 to {MAX_DAYS}, default 30)"
        )

    def handle(self, *args, days: int, **options):
        if not 0 <= days <= MAX_DAYS:
            message = _("--days must be between 0 and %(max)d, not %(days)d.")
            raise CommandError(message % {"max": MAX_DAYS, "days": days})
        deleted = tokens_prune(before=timezone.now() - timedelta(days=days))
        self.stdout.write(f"{deleted} API tokens deleted.")

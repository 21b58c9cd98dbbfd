"""Deletes API tokens that expired or were revoked long ago (run daily from cron or a timer)."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from api.services import tokens_prune


class Command(BaseCommand):
    help = "Delete API tokens that expired or were revoked more than --days days ago (default 30)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args, days: int, **options):
        deleted = tokens_prune(before=timezone.now() - timedelta(days=max(days, 0)))
        self.stdout.write(f"{deleted} API tokens deleted.")

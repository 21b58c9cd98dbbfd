"""Deleting what a company no longer keeps: its ended calls (with their timelines, offers and notes) and its agents'
state changes older than its retention (Company.record_retention_days).

Deleted in batches, each its own transaction, so a first run over years of records never holds one huge
transaction (nor locks the rows the telephony writer needs) for minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import ActivityChange
from calls.models import Call, CallState
from companies.models import Company

BATCH = 2_000


@dataclass
class Pruned:
    calls: int = 0
    state_changes: int = 0


def retention_cutoff(company: Company, *, now: datetime | None = None) -> datetime | None:
    """Records from before this moment are no longer kept; None: the company keeps everything."""
    if not company.record_retention_days:
        return None
    return (now or timezone.now()) - timedelta(days=company.record_retention_days)


def records_prune(*, company: Company, now: datetime | None = None, dry_run: bool = False) -> Pruned:
    """Delete (or, with dry_run, count) the company's records older than its retention."""
    cutoff = retention_cutoff(company, now=now)
    if cutoff is None:
        return Pruned()
    # A call still in progress is never deleted under the engine, however old (a reconcile will end it first).
    calls = Call.objects.filter(company=company, enqueued_at__lt=cutoff, state=CallState.ENDED)
    changes = ActivityChange.objects.filter(company=company, changed_at__lt=cutoff)
    if dry_run:
        return Pruned(calls=calls.count(), state_changes=changes.count())
    pruned = Pruned()
    while ids := list(calls.order_by("enqueued_at", "id").values_list("id", flat=True)[:BATCH]):
        with transaction.atomic():
            # The call's timeline, offers and note go with it (on_delete CASCADE); callbacks of it keep their own
            # record and lose only the link (SET_NULL).
            Call.objects.filter(id__in=ids).delete()
        pruned.calls += len(ids)
    while ids := list(changes.order_by("changed_at", "id").values_list("id", flat=True)[:BATCH]):
        pruned.state_changes += ActivityChange.objects.filter(id__in=ids).delete()[0]
    return pruned

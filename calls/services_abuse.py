"""Agents' reports of abusive callers, and a manager's answer: block the number, or dismiss the report."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from calls.models import AbuseReport, BlockedCaller
from calls.services_blocking import caller_block


def abuse_report(*, call, by, reason: str) -> AbuseReport:
    """Report the call's caller; reporting a call again gives it the new reason and puts it back in front of the
    managers, whatever became of the first report."""
    report, _created = AbuseReport.objects.update_or_create(
        call=call,
        defaults={"company_id": call.company_id, "reported_by": by, "reason": reason, "reported_at": timezone.now(),
                  "handled_by": None, "handled_at": None, "outcome": ""},
    )  # fmt: skip
    return report


@transaction.atomic
def abuse_report_block(*, report: AbuseReport, by, until: datetime | None = None) -> BlockedCaller:
    """Block the reported call's number for its company (ValidationError when the call came without a number)."""
    blocked = caller_block(
        company=report.company, number=report.call.caller_number, reason=report.reason, until=until, by=by
    )
    _handled(report, by, AbuseReport.Outcome.BLOCKED)
    return blocked


def abuse_report_dismiss(*, report: AbuseReport, by) -> None:
    _handled(report, by, AbuseReport.Outcome.DISMISSED)


def _handled(report: AbuseReport, by, outcome: str) -> None:
    report.handled_by, report.handled_at, report.outcome = by, timezone.now(), outcome
    report.save(update_fields=["handled_by", "handled_at", "outcome"])

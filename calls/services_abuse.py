"""Agents' reports of abusive callers, and a manager's answer: block the number, or dismiss the report."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from calls.models import AbuseReport, BlockedCaller
from calls.services_blocking import caller_block


class ReportAnswered(Exception):
    """Another manager answered the report first; it is answered once."""

    def __init__(self, report: AbuseReport):
        super().__init__(
            _("This report has been answered already (%(outcome)s).") % {"outcome": report.get_outcome_display()}
        )
        self.report = report


def abuse_report(*, call, by, reason: str) -> AbuseReport:
    """Report the call's caller; reporting a call again gives it the new reason and puts it back in front of the
    managers, whatever became of the first report."""
    if call.company_id is None:
        # A call the engine could place nowhere (only a system admin sees it): no manager would see its report.
        raise ValidationError(
            _("This call belongs to no company: there are no managers to report it to."), code="no_company"
        )
    report, _created = AbuseReport.objects.update_or_create(
        call=call,
        defaults={"company_id": call.company_id, "reported_by": by, "reason": reason, "reported_at": timezone.now(),
                  "handled_by": None, "handled_at": None, "outcome": ""},
    )  # fmt: skip
    return report


@transaction.atomic
def abuse_report_block(*, report: AbuseReport, by, until: datetime | None = None) -> BlockedCaller:
    """Block the reported call's number for its company (ValidationError when the call came without a number) and
    close the report; ReportAnswered if someone answered it first."""
    report = _open_locked(report)
    blocked = caller_block(
        company=report.company, number=report.call.caller_number, reason=report.reason, until=until, by=by
    )
    _handled(report, by, AbuseReport.Outcome.BLOCKED)
    return blocked


@transaction.atomic
def abuse_report_dismiss(*, report: AbuseReport, by) -> None:
    _handled(_open_locked(report), by, AbuseReport.Outcome.DISMISSED)


def _open_locked(report: AbuseReport) -> AbuseReport:
    """The report's row, locked until the answer is written, so that two managers cannot both answer it
    (AbuseReport.DoesNotExist if its call was deleted meanwhile)."""
    locked = AbuseReport.objects.select_for_update(of=("self",)).select_related("call", "company").get(pk=report.pk)
    if locked.handled_at is not None:
        raise ReportAnswered(locked)
    return locked


def _handled(report: AbuseReport, by, outcome: str) -> None:
    report.handled_by, report.handled_at, report.outcome = by, timezone.now(), outcome
    report.save(update_fields=["handled_by", "handled_at", "outcome"])

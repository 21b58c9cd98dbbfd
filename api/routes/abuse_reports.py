"""Abuse reports: agents report an abusive caller from a call (`POST /calls/{id}/abuse-report`), its company's managers
(admins: any company's) block the number or dismiss the report, with the pages' rules. Agents see the reports they made
and what became of them, and answer none."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from accounts.models import Role
from api.schemas import Cursor, Id, QueryBool, QueryInt, responses
from api.schemas_blocking import (
    AbuseReportBlockIn,
    AbuseReportPage,
    BlockedNumberOut,
    abuse_report_out,
    blocked_number_out,
)
from api.selectors import abuse_reports_page
from api.services import abuse_report_block_by, abuse_report_dismiss_by
from calls.models import AbuseReport, BlockedCaller
from calls.selectors_blocking import BLOCKED_PAGE_SIZE, blocked_rows

router = Router(tags=["abuse reports"])


class AbuseReportQuery(Schema):
    open: QueryBool | None = Field(
        default=None,
        description="true: only the reports waiting for an answer, oldest first; false: only the answered ones.",
    )
    company_id: Id | None = Field(
        default=None, description="One company's reports (for system admins; others see their own company's only)."
    )
    cursor: Cursor | None = Field(default=None, description="The `next_cursor` of the page before (the same `open`).")
    limit: QueryInt = Field(
        default=BLOCKED_PAGE_SIZE, ge=1, le=BLOCKED_PAGE_SIZE, description="Rows a page holds at most (as on the page)."
    )


def _to_answer(request):
    # Checked before any lookup, so an agent is told their role, not which ids exist.
    if request.user.role not in (Role.SYSTEM_ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only managers and admins answer abuse reports."))
    return AbuseReport.objects.visible_to(request.user)


@router.get("", response=responses({200: AbuseReportPage}, 400, 401, 422), summary="List abuse reports")
def list_abuse_reports(request, filters: Query[AbuseReportQuery]):
    """Managers see their company's reports, admins every company's, agents the ones they made. Newest first; with
    `open=true` the oldest first, as the blocked numbers page lists them: those have waited longest. `next_cursor` for
    the next page; 400 (`invalid_cursor`) for a cursor the API did not give out for this list and order."""
    reports = AbuseReport.objects.visible_to(request.user)
    if filters.company_id is not None:
        reports = reports.filter(company_id=filters.company_id)
    page = abuse_reports_page(reports, open=filters.open, cursor=filters.cursor, limit=filters.limit)
    return {"items": [abuse_report_out(report) for report in page.reports], "next_cursor": page.next_cursor}


@router.post(
    "/{report_id}/block",
    response=responses({200: BlockedNumberOut}, 400, 401, 403, 404, 409, 422),
    summary="Block the reported number",
)
def block_reported_number(request, report_id: Path[Id], payload: AbuseReportBlockIn):
    """Blocks the number the reported call came from, for the report's company and with the report's reason (a number
    blocked there already gets this reason and `until`), and closes the report as BLOCKED; `{}` blocks it until
    someone unblocks it. 409 when the report has been answered already; 422 (`nothing_to_block`) when the call came
    without a number."""
    report = get_object_or_404(_to_answer(request), pk=report_id)
    blocked = abuse_report_block_by(actor=request.user, report=report, until=payload.until)
    (row,) = blocked_rows(BlockedCaller.objects.filter(pk=blocked.pk))
    return blocked_number_out(row)


@router.post(
    "/{report_id}/dismiss",
    response=responses({204: None}, 401, 403, 404, 409, 422),
    summary="Dismiss an abuse report",
)
def dismiss_abuse_report(request, report_id: Path[Id]):
    """Closes the report as DISMISSED; nothing is blocked. 409 when the report has been answered already."""
    report = get_object_or_404(_to_answer(request), pk=report_id)
    abuse_report_dismiss_by(actor=request.user, report=report)
    return Status(204, None)

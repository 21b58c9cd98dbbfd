"""Blocked numbers as the pages show them, with how many calls each block has refused."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Count
from django.utils import timezone

from calls.models import AbuseReport, BlockedCaller, Call, Disposition
from pbx.encryption import blind_index, normalize_phone

BLOCKED_PAGE_SIZE = 50
# Open reports are a manager's to-do list: the oldest first, and this many at a time.
OPEN_REPORTS_SHOWN = 100


@dataclass
class BlockedRow:
    blocked: BlockedCaller
    in_force: bool
    refused: int  # the number's calls this company refused as blocked (under this block or an earlier one)


def blocked_rows(blocked_list) -> list[BlockedRow]:
    """One row per block (a queryset visible to the reader); the refused calls of all of them in one grouped read."""
    now = timezone.now()
    blocks = list(blocked_list.select_related("company", "blocked_by"))
    refused = {}
    if blocks:
        counts = (
            Call.objects.filter(
                disposition=Disposition.BLOCKED,
                company_id__in={b.company_id for b in blocks},
                caller_number_index__in={b.number_index for b in blocks},
            )
            .values("company_id", "caller_number_index")
            .annotate(n=Count("id"))
        )
        refused = {(row["company_id"], row["caller_number_index"]): row["n"] for row in counts}
    return [
        BlockedRow(
            blocked=b,
            in_force=b.until is None or b.until > now,
            refused=refused.get((b.company_id, b.number_index), 0),
        )
        for b in blocks
    ]


@dataclass
class BlockedPage:
    rows: list[BlockedRow]
    page: Page
    ended: int  # blocks that no longer hold, left out unless asked for
    searched: str  # the number searched for, as matched ("" when none)


def blocked_page(blocked_list, *, number: str = "", show_ended: bool = False, page: str | int = 1) -> BlockedPage:
    """A page of blocks (newest first) from a queryset visible to the reader: those in force, or every one with
    `show_ended`; `number` finds one number's block however it is written (+82 10-… is 010-…)."""
    searched = normalize_phone(number) if number else ""
    if number:
        blocked_list = blocked_list.filter(number_index=blind_index(searched))
    in_force = blocked_list.in_force()
    ended = blocked_list.count() - in_force.count()
    paginator = Paginator(blocked_list if show_ended else in_force, BLOCKED_PAGE_SIZE)
    shown = paginator.get_page(page)  # a page out of range or not a number: the nearest one, never an error
    return BlockedPage(rows=blocked_rows(shown.object_list), page=shown, ended=ended, searched=searched)


def open_reports_page(reports) -> tuple[list, int]:
    """The open reports to show (oldest first: they have waited longest) and how many there are in all."""
    reports = reports.open()
    return list(reports.select_related("call", "reported_by", "company").order_by("reported_at", "id")[
        :OPEN_REPORTS_SHOWN]), reports.count()  # fmt: skip


def call_number_blocked(call) -> BlockedCaller | None:
    """The block on the number this call came from, in its company, if any (in force or ended)."""
    if not call.company_id or not call.caller_number:
        return None
    index = blind_index(call.caller_number)
    return BlockedCaller.objects.filter(company_id=call.company_id, number_index=index).first()


def open_abuse_reports(*, company_id: int) -> int:
    """Agents' reports of abusive callers no manager has answered yet (index `abuse_report_open`)."""
    return AbuseReport.objects.filter(company_id=company_id).open().count()

"""Blocked numbers as the pages show them, with how many calls each block has refused."""

from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone

from calls.models import AbuseReport, BlockedCaller, Call, Disposition
from pbx.encryption import blind_index


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


def call_number_blocked(call) -> BlockedCaller | None:
    """The block on the number this call came from, in its company, if any (in force or ended)."""
    if not call.company_id or not call.caller_number:
        return None
    index = blind_index(call.caller_number)
    return BlockedCaller.objects.filter(company_id=call.company_id, number_index=index).first()


def open_abuse_reports(*, company_id: int) -> int:
    """Agents' reports of abusive callers no manager has answered yet (index `abuse_report_open`)."""
    return AbuseReport.objects.filter(company_id=company_id).open().count()

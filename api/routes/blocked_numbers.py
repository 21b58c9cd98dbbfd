"""Blocked numbers: callers a company refuses. Its managers (admins: any company's) list, block and unblock them, with
the pages' rules; agents see none of it, as on the pages."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from accounts.models import Role
from api.schemas import Cursor, Id, PhoneSearch, QueryBool, QueryInt, responses
from api.schemas_blocking import BlockedNumberIn, BlockedNumberOut, BlockedNumberPage, blocked_number_out
from api.selectors import blocked_numbers_page
from api.services import caller_block_by, caller_unblock_by
from calls.models import BlockedCaller
from calls.selectors_blocking import BLOCKED_PAGE_SIZE, blocked_rows

router = Router(tags=["blocked numbers"])


class BlockedNumberQuery(Schema):
    company_id: Id | None = Field(
        default=None, description="One company's blocks (for system admins; managers see their own company's only)."
    )
    number: PhoneSearch | None = Field(
        default=None,
        description="One number's block, however it is written (010-1234-5678 and +82 10 1234 5678 match alike).",
    )
    include_ended: QueryBool = Field(
        default=False, description="true: list the blocks whose `until` has passed too (left out by default)."
    )
    cursor: Cursor | None = Field(default=None, description="The `next_cursor` of the page before.")
    limit: QueryInt = Field(
        default=BLOCKED_PAGE_SIZE, ge=1, le=BLOCKED_PAGE_SIZE, description="Rows a page holds at most (as on the page)."
    )


def _to_manage(request):
    # Checked before any lookup, so an agent is told their role, not which ids exist.
    if request.user.role not in (Role.SYSTEM_ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only managers and admins manage blocked numbers."))
    return BlockedCaller.objects.visible_to(request.user)


def _out(blocked: BlockedCaller) -> dict:
    (row,) = blocked_rows(BlockedCaller.objects.filter(pk=blocked.pk))
    return blocked_number_out(row)


@router.get("", response=responses({200: BlockedNumberPage}, 400, 401, 403, 422), summary="List blocked numbers")
def list_blocked_numbers(request, filters: Query[BlockedNumberQuery]):
    """My company's blocks in force (every company's for admins), newest first, as the blocked numbers page lists
    them. Blocks that have ended (their `until` has passed) are left out unless `include_ended=true`; they stay, not in
    force, until someone unblocks the number. `next_cursor` for the next page; 400 (`invalid_cursor`) for a cursor
    the API did not give out for this list."""
    blocked = _to_manage(request)
    if filters.company_id is not None:
        blocked = blocked.filter(company_id=filters.company_id)
    page = blocked_numbers_page(
        blocked,
        number=filters.number or "",
        include_ended=filters.include_ended,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": [blocked_number_out(row) for row in page.rows], "next_cursor": page.next_cursor}


@router.post(
    "",
    response=responses({200: BlockedNumberOut, 201: BlockedNumberOut}, 400, 401, 403, 422),
    summary="Block a number",
)
def block_number(request, payload: BlockedNumberIn):
    """Managers block numbers for their own company; system admins name the company. 201 with a new block; 200 when
    the number was blocked already: that block gets this reason and `until` (left out: until unblocked)."""
    blocked, new = caller_block_by(
        actor=request.user,
        company_id=payload.company_id,
        number=payload.number,
        reason=payload.reason,
        until=payload.until,
    )
    return Status(201 if new else 200, _out(blocked))


@router.delete("/{blocked_id}", response=responses({204: None}, 401, 403, 404, 422), summary="Unblock a number")
def unblock_number(request, blocked_id: Path[Id]):
    """The number's calls are taken again from now on."""
    blocked = get_object_or_404(_to_manage(request), pk=blocked_id)
    caller_unblock_by(actor=request.user, blocked=blocked)
    return Status(204, None)

"""Blocking a caller's number for a company, and lifting the block (pages and API alike)."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from calls.models import BlockedCaller
from pbx.encryption import blind_index, normalize_phone

MIN_DIGITS, MAX_DIGITS = 3, 20


def blockable_number(number: str) -> str:
    """The number as it will be matched (digits, +82 as 0), or ValidationError saying why it cannot be."""
    digits = normalize_phone(number)
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise ValidationError(
            {"number": _("Write a phone number of %(min)d to %(max)d digits.") % {"min": MIN_DIGITS, "max": MAX_DIGITS}}
        )
    return digits


@transaction.atomic
def caller_block(*, company, number: str, reason: str = "", until: datetime | None = None, by=None) -> BlockedCaller:
    """Block the number for the company; a number blocked already gets the new reason, end and author (its row
    locked meanwhile, so two people blocking at once leave one block)."""
    digits = blockable_number(number)
    blocked, created = BlockedCaller.objects.select_for_update().get_or_create(
        company=company,
        number_index=blind_index(digits),
        defaults={"number": digits, "reason": reason, "until": until, "blocked_by": by},
    )
    if not created:
        blocked.reason, blocked.until, blocked.blocked_by = reason, until, by
        blocked.save(update_fields=["reason", "until", "blocked_by"])
    return blocked


def caller_unblock(blocked: BlockedCaller) -> None:
    blocked.delete()

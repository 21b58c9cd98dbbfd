"""Blocking a caller's number for a company, and lifting the block (pages and API alike)."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
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


def caller_block(*, company, number: str, reason: str = "", until: datetime | None = None, by=None) -> BlockedCaller:
    """Block the number for the company; a number blocked already gets the new reason and end instead."""
    digits = blockable_number(number)
    existing = BlockedCaller.objects.filter(company=company, number_index=blind_index(digits)).first()
    if existing is not None:
        existing.reason, existing.until, existing.blocked_by = reason, until, by
        existing.save(update_fields=["reason", "until", "blocked_by"])
        return existing
    try:
        with transaction.atomic():
            return BlockedCaller.objects.create(
                company=company, number=digits, reason=reason, until=until, blocked_by=by
            )
    except IntegrityError:
        # Blocked by someone else a moment ago: that block stands, with this reason and end.
        return caller_block(company=company, number=digits, reason=reason, until=until, by=by)


def caller_unblock(blocked: BlockedCaller) -> None:
    blocked.delete()

"""Every write to companies and their pause reasons."""

from django.db import transaction

from companies.models import Company, PauseReason

# A new company starts with these (code, Korean, English, automatic). The automatic ones are the product's own: the
# auto-pause after a missed offer, and the AWAY a disabled agent comes back in when their account is enabled again.
DEFAULT_PAUSE_REASONS = [
    (PauseReason.Code.LUNCH, "점심", "Lunch", False),
    (PauseReason.Code.BREAK, "휴식", "Break", False),
    (PauseReason.Code.MEETING, "회의", "Meeting", False),
    (PauseReason.Code.OTHER, "기타", "Other", False),
    (PauseReason.Code.MISSED_OFFER, "부재 (자동)", "Missed call (automatic)", True),
    (PauseReason.Code.ENABLED_AGAIN, "계정 재활성화 (자동)", "Enabled again (automatic)", True),
]


@transaction.atomic
def company_create(*, name: str, **fields) -> Company:
    company = Company.objects.create(name=name, **fields)
    PauseReason.objects.bulk_create(
        PauseReason(company=company, code=code, name_ko=ko, name_en=en, is_automatic=automatic, position=i)
        for i, (code, ko, en, automatic) in enumerate(DEFAULT_PAUSE_REASONS)
    )
    return company


@transaction.atomic
def company_update(*, company: Company, **fields) -> Company:
    for name, value in fields.items():
        setattr(company, name, value)
    company.full_clean()
    company.save()
    return company


def pause_reason_for(*, company_id: int, code: str) -> PauseReason:
    """The company's reason with this code, created from the defaults if the company predates it."""
    reason = PauseReason.objects.filter(company_id=company_id, code=code).first()
    if reason is not None:
        return reason
    defaults = {row[0]: row for row in DEFAULT_PAUSE_REASONS}
    _code, ko, en, automatic = defaults.get(code, (code, code, code, False))
    reason, _created = PauseReason.objects.get_or_create(
        company_id=company_id, code=code, defaults={"name_ko": ko, "name_en": en, "is_automatic": automatic}
    )
    return reason

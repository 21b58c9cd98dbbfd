"""company_create and friends: a company starts with its pause reasons; numbers are stored encrypted."""

import pytest
from django.core.exceptions import ValidationError

from companies.models import Company, PauseReason
from companies.services import company_create, company_update, pause_reason_for


def test_a_new_company_gets_the_default_pause_reasons(db):
    company = company_create(name="감마 콜센터", phone="02-111-2222")
    reasons = list(company.pause_reasons.order_by("position").values_list("code", "name_ko", "is_automatic"))
    assert reasons == [
        ("LUNCH", "점심", False),
        ("BREAK", "휴식", False),
        ("MEETING", "회의", False),
        ("OTHER", "기타", False),
        ("MISSED_OFFER", "부재 (자동)", True),
        ("ENABLED_AGAIN", "계정 재활성화 (자동)", True),
    ]
    assert Company.objects.get(pk=company.pk).phone == "02-111-2222"


def test_company_update_refreshes_the_blind_index(company_a):
    company_update(company=company_a, phone="02-7777-0000", fax="02-7777-0001")
    assert list(Company.objects.with_phone("+82 2-7777-0000")) == [company_a]
    assert not Company.objects.with_phone("02-1234-5678").exists()
    assert Company.objects.get(pk=company_a.pk).fax == "02-7777-0001"


def test_company_update_refuses_an_empty_name(company_a):
    with pytest.raises(ValidationError):
        company_update(company=company_a, name="")
    assert Company.objects.get(pk=company_a.pk).name == "Alpha Contact"


def test_pause_reason_for_recreates_a_missing_default(company_a):
    PauseReason.objects.filter(company=company_a, code="MISSED_OFFER").delete()
    reason = pause_reason_for(company_id=company_a.pk, code="MISSED_OFFER")
    assert (reason.company, reason.is_automatic, reason.name_en) == (company_a, True, "Missed call (automatic)")
    assert pause_reason_for(company_id=company_a.pk, code="MISSED_OFFER") == reason

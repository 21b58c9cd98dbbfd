"""The companies pages belong to system admins only."""

import pytest
from django.urls import reverse

from companies.models import Company, PauseReason

pytestmark = pytest.mark.django_db


def test_only_admins_see_companies(client, manager_a, agent_a, admin_user, company_a, company_b):
    for user in (manager_a, agent_a):
        client.force_login(user)
        assert client.get(reverse("companies:list")).status_code == 403
        assert client.get(reverse("companies:edit", args=[company_b.pk])).status_code == 403
        assert client.post(reverse("companies:toggle_active", args=[company_b.pk])).status_code == 403
    client.force_login(admin_user)
    body = client.get(reverse("companies:list")).content.decode()
    assert "Alpha Contact" in body and "Beta Support" in body


def test_admin_creates_a_company_with_default_pause_reasons(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("companies:new"),
        {
            "name": "감마 콜센터",
            "time_zone": "Asia/Seoul",
            "wrapup_seconds": 15,
            "phone": "02-555-0000",
            "record_retention_days": 1095,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    company = Company.objects.get(name="감마 콜센터")
    assert company.phone == "02-555-0000"
    assert company.record_retention_days == 1095
    assert PauseReason.objects.filter(company=company).count() == 6


def test_company_form_says_what_is_wrong(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("companies:new"),
        {
            "name": "",
            "time_zone": "Mars/Base",
            "wrapup_seconds": -1,
            "extension_start": "2000",
            "extension_end": "1000",
            "record_retention_days": 29,
        },
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"name", "time_zone", "wrapup_seconds", "extension_end", "record_retention_days"} <= set(errors)


def test_admin_deactivates_and_reactivates_a_company(client, admin_user, company_b):
    client.force_login(admin_user)
    client.post(reverse("companies:toggle_active", args=[company_b.pk]))
    company_b.refresh_from_db()
    assert not company_b.is_active
    client.post(reverse("companies:toggle_active", args=[company_b.pk]))
    company_b.refresh_from_db()
    assert company_b.is_active

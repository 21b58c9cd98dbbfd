"""Company admin: numbers shown decrypted and found by their exact value; only system admins get in."""

import pytest
from django.urls import reverse

from companies.models import Company


def changelist(client, **query):
    return client.get(reverse("admin:companies_company_changelist"), query)


def test_company_numbers_are_shown_decrypted(client, admin_user, company_a):
    client.force_login(admin_user)
    assert "02-1234-5678" in changelist(client).content.decode()
    content = client.get(reverse("admin:companies_company_change", args=[company_a.pk])).content.decode()
    assert "02-1234-5678" in content and "123-45-67890" in content
    assert "gAAAA" not in content


@pytest.mark.parametrize("search", ["02-1234-5678", "+82 2 1234 5678", "123-45-67890", "Alpha"])
def test_a_company_is_found_by_name_or_an_exact_number(client, admin_user, company_a, company_b, search):
    client.force_login(admin_user)
    assert list(changelist(client, q=search).context["cl"].result_list) == [company_a]


def test_a_company_is_found_by_exact_fax(client, admin_user, company_a, company_b):
    company_a.fax = "02-1234-9999"
    company_a.save()
    client.force_login(admin_user)
    assert list(changelist(client, q="0212349999").context["cl"].result_list) == [company_a]


def test_a_number_fragment_finds_no_company(client, admin_user, company_a):
    client.force_login(admin_user)
    assert list(changelist(client, q="1234").context["cl"].result_list) == []


def test_the_admin_adds_a_company_with_encrypted_numbers(client, admin_user):
    client.force_login(admin_user)
    data = {
        "name": "델타 고객센터",
        "business_number": "555-66-77777",
        "phone": "1588-0000",
        "fax": "",
        "address": "부산",
        "time_zone": "Asia/Seoul",
        "extension_start": "3000",
        "extension_end": "3099",
        "wrapup_seconds": "10",
        "is_active": "on",
        "pause_reasons-TOTAL_FORMS": "0",
        "pause_reasons-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("admin:companies_company_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    company = Company.objects.get(name="델타 고객센터")
    assert company.phone == "1588-0000"
    assert list(Company.objects.with_phone("15880000")) == [company]


@pytest.mark.parametrize("zone", ["Mars/Base", "localtime"])
def test_the_admin_refuses_a_time_zone_that_is_no_zone_name(client, admin_user, company_a, zone):
    client.force_login(admin_user)
    data = {"name": company_a.name, "time_zone": zone, "wrapup_seconds": "10", "is_active": "on",
            "pause_reasons-TOTAL_FORMS": "0", "pause_reasons-INITIAL_FORMS": "0"}  # fmt: skip
    response = client.post(reverse("admin:companies_company_change", args=[company_a.pk]), data)
    assert response.status_code == 200 and "time_zone" in response.context["adminform"].form.errors
    assert Company.objects.get(pk=company_a.pk).time_zone == "Asia/Seoul"


@pytest.mark.parametrize("role", ["manager_a", "agent_a"])
def test_managers_and_agents_cannot_open_their_own_company_in_the_admin(client, request, role, company_a):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("admin:companies_company_change", args=[company_a.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))

"""/api/v1/companies: system admins only; everyone else is refused before any lookup."""

import pytest

from companies.models import Company, PauseReason

pytestmark = pytest.mark.django_db


@pytest.fixture
def everyone(admin_user, manager_a, agent_a, manager_b, agent_b):
    return {"admin": admin_user, "manager_a": manager_a, "agent_a": agent_a, "manager_b": manager_b, "agent_b": agent_b}


def test_admin_lists_every_company_with_plain_phone_numbers(everyone, api_as):
    response = api_as(everyone["admin"]).get("companies")

    assert response.status_code == 200
    items = {c["name"]: c for c in response.json()["items"]}
    assert set(items) == {"Alpha Contact", "Beta Support"}
    alpha = items["Alpha Contact"]
    assert alpha["phone"] == "02-1234-5678" and alpha["business_number"] == "123-45-67890"
    assert alpha["created_at"].endswith("+09:00")
    assert not any(key.endswith("_index") for key in alpha)


def test_admin_creates_a_company_with_its_default_pause_reasons(everyone, api_as):
    response = api_as(everyone["admin"]).post(
        "companies",
        {
            "name": "감마 콜센터",
            "phone": "051-000-1111",
            "time_zone": "Asia/Seoul",
            "extension_start": "3000",
            "extension_end": "3099",
        },
    )

    assert response.status_code == 201
    company = Company.objects.get(pk=response.json()["id"])
    assert company.phone == "051-000-1111"
    assert set(PauseReason.objects.filter(company=company).values_list("code", flat=True)) >= {"LUNCH", "BREAK"}


def test_admin_reads_and_patches_one_company(everyone, api_as):
    client, company_b = api_as(everyone["admin"]), everyone["agent_b"].company

    assert client.get(f"companies/{company_b.pk}").json()["name"] == "Beta Support"
    response = client.patch(f"companies/{company_b.pk}", {"wrapup_seconds": 30, "is_active": False})

    assert response.status_code == 200
    company_b.refresh_from_db()
    assert (company_b.wrapup_seconds, company_b.is_active, company_b.name) == (30, False, "Beta Support")


def test_admin_sets_and_clears_the_record_retention(everyone, api_as):
    client, company_b = api_as(everyone["admin"]), everyone["agent_b"].company

    assert (
        client.patch(f"companies/{company_b.pk}", {"record_retention_days": 1095}).json()["record_retention_days"]
        == 1095
    )
    too_short = client.patch(f"companies/{company_b.pk}", {"record_retention_days": 29})
    assert too_short.status_code == 422 and "record_retention_days" in too_short.json()["error"]["fields"]
    assert client.patch(f"companies/{company_b.pk}", {"name": "Beta Support"}).json()["record_retention_days"] == 1095
    assert (
        client.patch(f"companies/{company_b.pk}", {"record_retention_days": None}).json()["record_retention_days"]
        is None
    )


@pytest.mark.parametrize("reader", ["manager_a", "agent_a", "manager_b", "agent_b"])
@pytest.mark.parametrize("target", ["own", "other"])
def test_everyone_but_admins_is_refused_on_every_company_route(everyone, api_as, reader, target):
    user = everyone[reader]
    company = user.company if target == "own" else Company.objects.exclude(pk=user.company_id).get()
    client = api_as(user)

    answers = [
        client.get("companies"),
        client.post("companies", {"name": "Mine now"}),
        client.get(f"companies/{company.pk}"),
        client.patch(f"companies/{company.pk}", {"name": "Renamed"}),
    ]

    assert [r.status_code for r in answers] == [403, 403, 403, 403]
    assert not Company.objects.filter(name__in=["Mine now", "Renamed"]).exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "X", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"name": "X", "wrapup_seconds": 99999}, "wrapup_seconds"),
        ({"name": "X", "extension_start": "12ab"}, "extension_start"),
        ({"name": "X" * 201}, "name"),
    ],
)
def test_invalid_company_gets_field_errors(everyone, api_as, fields, field):
    response = api_as(everyone["admin"]).post("companies", fields)

    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]


def test_unknown_company_is_a_404_for_admins(everyone, api_as):
    assert api_as(everyone["admin"]).get("companies/987654").status_code == 404

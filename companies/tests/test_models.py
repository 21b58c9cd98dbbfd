"""Tenancy of companies and their pause reasons: admins see all, everyone else only their own company."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from companies.models import Company, PauseReason


@pytest.fixture
def people(admin_user, manager_a, agent_a, manager_b, agent_b):
    return {"admin": admin_user, "manager_a": manager_a, "agent_a": agent_a, "manager_b": manager_b, "agent_b": agent_b}


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [
        ("admin", {"Alpha Contact", "Beta Support"}),
        ("manager_a", {"Alpha Contact"}),
        ("agent_a", {"Alpha Contact"}),
        ("manager_b", {"Beta Support"}),
        ("agent_b", {"Beta Support"}),
    ],
)
def test_companies_visible_to_each_role(people, viewer, sees):
    assert set(Company.objects.visible_to(people[viewer]).values_list("name", flat=True)) == sees
    assert set(PauseReason.objects.visible_to(people[viewer]).values_list("company__name", flat=True)) == sees


def test_visitors_see_no_company_and_no_pause_reason(company_a):
    assert not Company.objects.visible_to(AnonymousUser()).exists()
    assert not PauseReason.objects.visible_to(AnonymousUser()).exists()


def test_selectable_reasons_leave_out_the_automatic_and_retired_ones(company_a):
    PauseReason.objects.filter(company=company_a, code="OTHER").update(is_active=False)
    codes = set(PauseReason.objects.filter(company=company_a).selectable().values_list("code", flat=True))
    assert codes == {"LUNCH", "BREAK", "MEETING"}


def test_a_pause_reason_is_named_in_the_reader_language(company_a):
    lunch = PauseReason.objects.get(company=company_a, code="LUNCH")
    with translation.override("ko"):
        assert lunch.name == "점심"
    with translation.override("en"):
        assert lunch.name == "Lunch"

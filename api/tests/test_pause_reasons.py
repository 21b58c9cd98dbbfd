"""/api/v1/pause-reasons: each reader sees their own company's reasons (admins every company's)."""

import pytest

from companies.models import PauseReason

pytestmark = pytest.mark.django_db


def codes(response):
    assert response.status_code == 200
    return [(reason["company_id"], reason["code"]) for reason in response.json()["items"]]


@pytest.mark.parametrize("reader", ["agent_a", "manager_a"])
def test_agents_and_managers_see_their_own_companys_reasons(request, api_as, company_b, reader):
    user = request.getfixturevalue(reader)

    found = codes(api_as(user).get("pause-reasons"))

    assert {company for company, _code in found} == {user.company_id}
    assert {code for _company, code in found} == {"LUNCH", "BREAK", "MEETING", "OTHER", "MISSED_OFFER", "ENABLED_AGAIN"}


def test_another_companys_reasons_stay_hidden_even_when_asked_for(agent_a, company_b, api_as):
    assert codes(api_as(agent_a).get("pause-reasons", company_id=company_b.pk)) == []


def test_admin_sees_every_company_and_filters_by_one(admin_user, company_a, company_b, api_as):
    client = api_as(admin_user)

    assert {company for company, _ in codes(client.get("pause-reasons"))} == {company_a.pk, company_b.pk}
    assert {company for company, _ in codes(client.get("pause-reasons", company_id=company_b.pk))} == {company_b.pk}


def test_selectable_reasons_leave_out_the_automatic_ones(agent_a, api_as):
    client = api_as(agent_a)

    selectable = {code for _, code in codes(client.get("pause-reasons", selectable="true"))}
    automatic = {code for _, code in codes(client.get("pause-reasons", selectable="false"))}

    assert "LUNCH" in selectable
    assert automatic == {"MISSED_OFFER", "ENABLED_AGAIN"} and not automatic & selectable


def test_pause_reasons_need_a_token(db):
    from api.tests.conftest import JsonClient

    assert JsonClient().get("pause-reasons").status_code == 401


def test_a_reasons_time_limit_is_shown(agent_a, company_a, api_as):
    PauseReason.objects.filter(company=company_a, code="LUNCH").update(max_minutes=60)

    items = {reason["code"]: reason for reason in api_as(agent_a).get("pause-reasons").json()["items"]}

    assert items["LUNCH"]["max_minutes"] == 60 and items["BREAK"]["max_minutes"] is None

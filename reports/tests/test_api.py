"""GET /api/v1/reports: the report page's figures as JSON, with its rules (roles, one company, at most 92 days)."""

import pytest

from api.tests.conftest import JsonClient
from calls.models import Queue
from reports.tests.conftest import api_as

pytestmark = pytest.mark.django_db

DAY = {"date_from": "2026-11-21", "date_to": "2026-11-21"}


def test_manager_gets_their_company_day_as_json(manager_a, agent_a, day_of_calls, day_of_states):
    response = api_as(manager_a).get("reports", **DAY)
    assert response.status_code == 200
    body = response.json()
    assert body["company_id"] == manager_a.company_id
    [day] = body["days"]
    assert day["day"] == "2026-11-21"
    assert (day["offered"], day["answered"], day["abandoned"]) == (3, 2, 1)
    assert day["average_speed_of_answer_seconds"] == 20 and day["service_level"] == pytest.approx(1 / 3)
    assert [(hour["hour"], hour["offered"]) for hour in body["hours"] if hour["offered"]] == [(0, 1), (10, 1), (11, 1)]
    [queue] = body["queues"]
    assert queue["number"] == "7000" and queue["offered"] == 3 and queue["overflowed"] == day["overflowed"] == 0
    agent = next(row for row in body["agents"] if row["agent"]["username"] == "agent_a")
    assert agent["answered"] == 2 and agent["missed_offers"] == 1 and agent["handle_seconds"] == 190
    assert sum(agent["seconds_by_state"].values()) == 24 * 3600
    assert agent["away_seconds_by_reason"] == {"BREAK": 9 * 3600, "LUNCH": 3600}
    assert agent["away_over_limit_seconds"] == 0  # no reason has a limit


def test_admin_names_the_company(admin_user, company_b, day_of_calls):
    client = api_as(admin_user)
    missing = client.get("reports", **DAY)
    assert missing.status_code == 422 and "company_id" in missing.json()["error"]["fields"]
    assert client.get("reports", company_id=company_b.pk, **DAY).json()["company_id"] == company_b.pk
    unknown = client.get("reports", company_id=999999, **DAY)
    assert unknown.status_code == 422 and "company_id" in unknown.json()["error"]["fields"]


def test_a_manager_asking_for_another_company_finds_nothing(manager_a, company_b):
    assert api_as(manager_a).get("reports", company_id=company_b.pk, **DAY).status_code == 404


def test_agents_may_not_read_reports(agent_a):
    response = api_as(agent_a).get("reports", **DAY)
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date_from": "2026-11-21", "date_to": "2026-11-20"}, "date_to"),
        ({"date_from": "2026-01-01", "date_to": "2026-11-20"}, "date_to"),
        ({"date_from": "21/11/2026", "date_to": "2026-11-20"}, "date_from"),
        ({"date_to": "2026-11-20"}, "date_from"),
    ],
)
def test_bad_days_are_422_at_their_field(manager_a, query, field):
    response = api_as(manager_a).get("reports", **query)
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]


def test_one_queue_of_the_company(manager_a, queue_a, company_b, day_of_calls):
    client = api_as(manager_a)
    body = client.get("reports", queue_id=queue_a.pk, **DAY).json()
    assert body["queue_id"] == queue_a.pk and body["days"][0]["offered"] == 3
    foreign = Queue.objects.create(company=company_b, name="Theirs", number="8100")
    refused = client.get("reports", queue_id=foreign.pk, **DAY)
    assert refused.status_code == 422 and "queue_id" in refused.json()["error"]["fields"]


def test_without_a_token_it_is_401():
    assert JsonClient().get("reports", **DAY).status_code == 401

"""One agent's day of state changes (/reports/agents/<id>/), for managers of their company and admins."""

from datetime import date

import pytest
from django.urls import reverse

from companies.models import PauseReason
from reports.selectors import agent_day
from reports.tests.conftest import NOW, api_as, at, change

pytestmark = pytest.mark.django_db


def test_the_day_begins_in_the_state_of_the_evening_before_and_each_state_lasts_until_the_next(agent_a, day_of_states):
    day = agent_day(agent=agent_a, day=date(2026, 11, 21), now=NOW)
    assert (day.began_state, day.began_reason.code, day.began_since) == ("AWAY", "BREAK", at(20, 23))
    assert day.began_seconds == 9 * 3600
    assert [(s.change.to_state, s.seconds) for s in day.stretches] == [
        ("READY", 600),
        ("CALLING", 20),
        ("ON_CALL", 300),
        ("POST_PROCESSING", 30),
        ("READY", 9850),
        ("AWAY", 3600),
        ("READY", 11 * 3600),  # until midnight: the next change is the next day's
    ]
    assert not any(s.still_going for s in day.stretches)
    assert sum(day.time.seconds_by_state.values()) == 24 * 3600


def test_today_the_last_state_is_still_going(agent_a):
    change(agent_a, "READY", at(25, 11))
    day = agent_day(agent=agent_a, day=date(2026, 11, 25), now=NOW)
    [stretch] = day.stretches
    assert stretch.still_going and stretch.seconds == 3600


def test_manager_reads_their_agent_day(client, manager_a, agent_a, day_of_states):
    client.force_login(manager_a)
    response = client.get(reverse("reports:agent_activity", args=[agent_a.pk]), {"day": "2026-11-21"})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-change="') == 7 and 'data-began-in="AWAY"' in page
    assert 'href="?day=2026-11-20"' in page and 'href="?day=2026-11-22"' in page


def test_the_report_links_each_agent_to_their_day(client, manager_a, agent_a, day_of_states):
    client.force_login(manager_a)
    page = client.get(reverse("reports:report"), {"date_from": "2026-11-21", "date_to": "2026-11-21"}).content
    assert f"{reverse('reports:agent_activity', args=[agent_a.pk])}?day=2026-11-21" in page.decode()


def test_another_company_agent_is_not_found(client, manager_a, agent_b):
    client.force_login(manager_a)
    assert client.get(reverse("reports:agent_activity", args=[agent_b.pk])).status_code == 404


def test_an_agent_reads_only_their_own_day(client, agent_a, make_user, company_a, day_of_states):
    colleague = make_user(company=company_a, username="colleague", extension="1007")
    client.force_login(agent_a)
    mine = client.get(reverse("reports:agent_activity", args=[agent_a.pk]), {"day": "2026-11-21"})
    assert mine.status_code == 200 and mine.content.decode().count('data-change="') == 7
    assert f'href="{reverse("reports:report")}"' not in mine.content.decode()  # not a page of theirs
    assert client.get(reverse("reports:agent_activity", args=[colleague.pk])).status_code == 404
    assert (
        f'href="{reverse("reports:agent_activity", args=[agent_a.pk])}"'
        in client.get(reverse("console:agent")).content.decode()
    )


def test_admin_reads_any_agent_day(client, admin_user, agent_b):
    client.force_login(admin_user)
    assert client.get(reverse("reports:agent_activity", args=[agent_b.pk])).status_code == 200


@pytest.mark.parametrize("day", ["2026-02-30", "yesterday", "1969-12-31", "9999-12-31"])
def test_a_bad_day_is_refused_and_today_shown(client, manager_a, agent_a, day):
    client.force_login(manager_a)
    response = client.get(reverse("reports:agent_activity", args=[agent_a.pk]), {"day": day})
    assert response.status_code == 400
    assert "day" in response.context["form"].errors
    assert response.context["next_day"] is None  # today's page: no next day


def test_a_first_change_ever_shows_the_state_it_left(agent_a):
    agent_a.__class__.objects.filter(pk=agent_a.pk).update(activity_state="AWAY", activity_changed_at=at(25, 8))
    change(agent_a, "READY", at(25, 9))
    day = agent_day(agent=agent_a, day=date(2026, 11, 25), now=NOW)
    assert (day.began_state, day.began_since, day.began_seconds) == ("AWAY", at(25, 8), 3600)
    assert day.time.seconds_by_state == {"AWAY": 3600, "READY": 3 * 3600}


def test_a_day_still_to_come_is_empty(client, manager_a, agent_a):
    day = agent_day(agent=agent_a, day=date(2026, 11, 26), now=NOW)
    assert day.stretches == [] and day.time is None and not day.began_state
    client.force_login(manager_a)
    response = client.get(reverse("reports:agent_activity", args=[agent_a.pk]), {"day": "2099-01-01"})
    assert response.status_code == 200 and response.context["totals"] == []


def test_the_api_gives_the_day_as_json(manager_a, agent_a, day_of_states):
    response = api_as(manager_a).get(f"users/{agent_a.pk}/activity", day="2026-11-21")
    assert response.status_code == 200
    body = response.json()
    assert (body["began_state"], body["began_pause_reason"], body["began_seconds"]) == ("AWAY", "BREAK", 9 * 3600)
    assert body["began_since"] == "2026-11-20T23:00:00+09:00"
    assert [(c["to_state"], c["seconds"]) for c in body["changes"]][:2] == [("READY", 600), ("CALLING", 20)]
    assert body["changes"][5]["pause_reason"] == "LUNCH" and body["changes"][0]["source"] == "SELF"
    assert sum(body["seconds_by_state"].values()) == 24 * 3600


def test_the_api_keeps_each_reader_to_their_agents(manager_a, agent_a, agent_b, make_user, company_a):
    assert api_as(manager_a).get(f"users/{agent_b.pk}/activity").status_code == 404
    assert api_as(agent_a).get(f"users/{agent_a.pk}/activity").status_code == 200
    colleague = make_user(company=company_a, username="colleague", extension="1007")
    assert api_as(agent_a).get(f"users/{colleague.pk}/activity").status_code == 404
    assert api_as(manager_a).get(f"users/{manager_a.pk}/activity").status_code == 404  # not an agent


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2026-02-30", "today"])
def test_the_api_refuses_a_bad_day_at_its_field(manager_a, agent_a, day):
    response = api_as(manager_a).get(f"users/{agent_a.pk}/activity", day=day)
    assert response.status_code == 422 and "day" in response.json()["error"]["fields"]


def test_a_stretch_past_its_reason_limit_is_marked(client, manager_a, agent_a, company_a, day_of_states):
    PauseReason.objects.filter(company=company_a, code="LUNCH").update(max_minutes=45)
    day = agent_day(agent=agent_a, day=date(2026, 11, 21), now=NOW)
    assert [s.change.to_state for s in day.stretches if s.over_limit] == ["AWAY"]
    client.force_login(manager_a)
    page = client.get(reverse("reports:agent_activity", args=[agent_a.pk]), {"day": "2026-11-21"}).content.decode()
    assert page.count("data-over-limit") == 1

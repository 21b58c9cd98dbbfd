"""The report page and its CSV tables, for each role, in and across companies, and with bad input."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from calls.models import Queue
from reports.tests.conftest import at, make_call

pytestmark = pytest.mark.django_db

DAY = {"date_from": "2026-11-21", "date_to": "2026-11-21"}


def rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_manager_sees_their_company_day(client, manager_a, day_of_calls, agent_a, agent_b):
    client.force_login(manager_a)
    response = client.get(reverse("reports:report"), DAY)
    assert response.status_code == 200
    report = response.context["report"]
    assert report.company == manager_a.company
    assert [agent.username for agent in (row.agent for row in report.agents)] == ["agent_a"]
    page = response.content.decode()
    assert 'data-day="2026-11-21"' in page and "agent_b" not in page


def test_a_manager_cannot_ask_for_another_company(client, manager_a, company_b, day_of_calls):
    client.force_login(manager_a)
    response = client.get(reverse("reports:report"), {**DAY, "company": company_b.pk})
    assert response.context["report"].company == manager_a.company


def test_a_bare_visit_shows_the_last_seven_days(client, manager_a):
    client.force_login(manager_a)
    report = client.get(reverse("reports:report")).context["report"]
    today = timezone.now().astimezone(timezone.get_current_timezone()).date()
    assert report.last_day == today and len(report.days) == 7


def test_agents_may_not_open_reports(client, agent_a):
    client.force_login(agent_a)
    assert client.get(reverse("reports:report")).status_code == 403
    assert client.get(reverse("reports:export", args=["days"]), DAY).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("reports:report"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_an_admin_picks_the_company_first(client, admin_user, company_b, day_of_calls):
    client.force_login(admin_user)
    first = client.get(reverse("reports:report"))
    assert first.status_code == 200 and first.context["report"] is None
    assert not first.context["form"].errors  # a first visit is not scolded
    response = client.get(reverse("reports:report"), {**DAY, "company": company_b.pk})
    assert response.context["report"].company == company_b


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"date_from": "2026-11-21", "date_to": "2026-11-20"}, "date_to", "The last day comes before the first day."),
        ({"date_from": "2026-01-01", "date_to": "2026-11-20"}, "date_to", "at most 92 days"),
        ({"date_from": "2026-13-01", "date_to": "2026-11-20"}, "date_from", "Enter a valid date."),
        ({"date_from": "1969-12-31", "date_to": "1970-01-02"}, "date_from", "from 1970 on"),
    ],
)
def test_bad_days_are_refused_at_their_field(client, manager_a, query, field, message):
    client.force_login(manager_a)
    response = client.get(reverse("reports:report"), query)
    assert response.status_code == 400
    assert response.context["report"] is None
    assert message in " ".join(response.context["form"].errors[field])
    assert client.get(reverse("reports:export", args=["days"]), query).status_code == 400


def test_an_admin_asking_for_an_unknown_company_is_told(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("reports:report"), {**DAY, "company": "999999"})
    assert response.status_code == 400 and "company" in response.context["form"].errors


def test_csv_of_days_has_the_figures(client, manager_a, day_of_calls):
    client.force_login(manager_a)
    response = client.get(reverse("reports:export", args=["days"]), DAY)
    assert 'filename="report-days-20261121-20261121.csv"' in response["Content-Disposition"]
    header, day = rows(response)
    assert header[0] == "Day" and header[1] == "Offered"
    assert day == ["2026-11-21", "3", "2", "1", "33.3", "20", "95", "33.3", "0", "0"]


def test_csv_of_hours_has_every_hour(client, manager_a, day_of_calls):
    client.force_login(manager_a)
    table = rows(client.get(reverse("reports:export", args=["hours"]), DAY))
    assert table[0][0] == "Hour" and len(table) == 25
    assert table[11][:4] == ["10:00", "1", "1", "0"]


def test_csv_of_queues_ends_with_the_total(client, manager_a, day_of_calls):
    client.force_login(manager_a)
    table = rows(client.get(reverse("reports:export", args=["queues"]), DAY))
    assert table[1][:3] == ["Support", "7000", "3"]
    assert table[-1][0] == "All queues"


def test_csv_of_agents_is_spreadsheet_safe(client, manager_a, agent_a, queue_a, company_a):
    User.objects.filter(pk=agent_a.pk).update(last_name="=HYPERLINK(1)")
    make_call(company_a, enqueued_at=at(21, 10), queue=queue_a, agent=agent_a, talk=60)
    client.force_login(manager_a)
    table = rows(client.get(reverse("reports:export", args=["agents"]), DAY))
    assert table[0][-1] == "Occupancy (%)"
    row = next(row for row in table if row[1] == "agent_a")
    assert row[0].startswith("'=")
    assert row[3] == "1"  # answered


def test_korean_headers_in_korean(client, manager_a):
    client.force_login(manager_a)
    client.cookies["django_language"] = "ko"
    header = rows(client.get(reverse("reports:export", args=["days"]), DAY))[0]
    assert header[:2] == ["날짜", "인입"]


def test_an_unknown_table_is_not_found(client, manager_a):
    client.force_login(manager_a)
    assert client.get(reverse("reports:export", args=["salaries"]), DAY).status_code == 404


def test_the_nav_links_reports_for_managers_only(client, manager_a, agent_a):
    client.force_login(manager_a)
    assert reverse("reports:report") in client.get(reverse("calls:log")).content.decode()
    client.force_login(agent_a)
    assert reverse("reports:report") not in client.get(reverse("calls:log")).content.decode()


def test_a_span_far_in_the_future_is_empty_not_an_error(client, manager_a):
    client.force_login(manager_a)
    response = client.get(reverse("reports:report"), {"date_from": "9999-12-01", "date_to": "9999-12-31"})
    assert response.status_code == 200 and response.context["report"].days == []
    assert (
        client.get(
            reverse("reports:export", args=["days"]), {"date_from": "9999-12-01", "date_to": "9999-12-31"}
        ).status_code
        == 200
    )


def test_one_queue_gives_its_own_days_and_hours(client, manager_a, company_a, queue_a, day_of_calls):
    other = Queue.objects.create(company=company_a, name="Sales", number="7100")
    make_call(company_a, enqueued_at=at(21, 15), queue=other, talk=30)
    client.force_login(manager_a)
    every = client.get(reverse("reports:report"), DAY).context["report"]
    assert every.days_total.offered == 4
    only = client.get(reverse("reports:report"), {**DAY, "queue": other.pk}).context["report"]
    assert only.queue == other and only.days_total.offered == 1
    assert [hour for hour, figures in only.hours if figures.offered] == [15]
    assert only.total.offered == 4  # the per-queue table still shows every queue
    table = rows(client.get(reverse("reports:export", args=["days"]), {**DAY, "queue": other.pk}))
    assert table[1][1] == "1"


def test_another_companys_queue_is_refused(client, manager_a, company_b):
    foreign = Queue.objects.create(company=company_b, name="Theirs", number="8100")
    client.force_login(manager_a)
    response = client.get(reverse("reports:report"), {**DAY, "queue": foreign.pk})
    assert response.status_code == 400 and "queue" in response.context["form"].errors

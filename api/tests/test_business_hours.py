"""/api/v1/business-hours: each reader sees their own company's hours, managers write them (admins any company's),
agents only read; ranges and closed days are refused at their field with the pages' words; deleting hours leaves
their queues always open."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from django.utils import translation

from api.tests.conftest import error_code, fields
from calls import selectors_hours
from calls.forms_hours import BusinessHoursForm
from calls.models import BusinessHours, ClosedDay, Queue

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}
WEEK = {"monday": "09:00-12:00, 13:00-18:00", "tuesday": "9:00~18:00", "wednesday": "09:00-18:00",
        "thursday": "09:00-18:00", "friday": "09:00-18:00", "saturday": "", "sunday": ""}  # fmt: skip
CLOSED = [{"day": "2026-12-25", "hours": "", "name": "성탄절"}, {"day": "2027-01-01", "hours": "", "name": "신정"}]


@pytest.fixture
def everyone(admin_user, manager_a, agent_a, manager_b, agent_b):
    return {"admin": admin_user, "manager_a": manager_a, "agent_a": agent_a, "manager_b": manager_b, "agent_b": agent_b}


@pytest.fixture
def hours_a(company_a):
    hours = BusinessHours.objects.create(company=company_a, name="Weekdays", **{**WEEK, "tuesday": "09:00-18:00"})
    hours.closed_days.create(day=date(2026, 12, 25), name="성탄절")
    return hours


# --- reads ------------------------------------------------------------------------------------------------------


def test_manager_creates_hours_with_a_lunch_break_and_closed_days(manager_a, api_as):
    response = api_as(manager_a).post("business-hours", {"name": "Weekdays", **WEEK, "closed_days": CLOSED})

    assert response.status_code == 201, response.json()
    body = response.json()
    hours = BusinessHours.objects.get(pk=body["id"])
    assert hours.company_id == manager_a.company_id == body["company_id"]
    assert (body["monday"], body["tuesday"], body["saturday"]) == ("09:00-12:00, 13:00-18:00", "09:00-18:00", "")
    assert hours.tuesday == "09:00-18:00"  # stored as read back
    assert body["closed_days"] == CLOSED
    assert list(hours.closed_days.values_list("day", "name")) == [
        (date(2026, 12, 25), "성탄절"),
        (date(2027, 1, 1), "신정"),
    ]
    assert body["queue_ids"] == [] and isinstance(body["open_now"], bool)


@pytest.mark.parametrize("reader", ["agent_a", "manager_a"])
def test_agents_and_managers_see_their_own_companys_hours(everyone, api_as, hours_a, hours_b, reader):
    client = api_as(everyone[reader])

    listed = client.get("business-hours")
    asked_for_theirs = client.get("business-hours", company_id=hours_b.company_id)

    assert [h["id"] for h in listed.json()["items"]] == [hours_a.pk]
    assert asked_for_theirs.json()["items"] == []
    assert client.get(f"business-hours/{hours_a.pk}").json()["name"] == "Weekdays"
    assert client.get(f"business-hours/{hours_b.pk}").status_code == 404


def test_admin_sees_every_company_and_filters_by_one(admin_user, api_as, hours_a, hours_b):
    client = api_as(admin_user)

    assert {h["id"] for h in client.get("business-hours").json()["items"]} == {hours_a.pk, hours_b.pk}
    only_b = client.get("business-hours", company_id=hours_b.company_id).json()["items"]
    assert [h["id"] for h in only_b] == [hours_b.pk]


def test_hours_say_whether_open_now_and_when_they_open_in_the_companys_time(
    manager_a, company_a, api_as, hours_a, monkeypatch
):
    always = BusinessHours.objects.create(company=company_a, name="Always", **dict.fromkeys(WEEK, "00:00-24:00"))
    christmas_morning = datetime(2026, 12, 25, 1, 0, tzinfo=UTC)  # Friday 10:00 in Seoul, a closed day
    monkeypatch.setattr(selectors_hours, "timezone", SimpleNamespace(now=lambda: christmas_morning))

    items = {h["name"]: h for h in api_as(manager_a).get("business-hours").json()["items"]}

    assert items["Weekdays"]["open_now"] is False
    assert items["Weekdays"]["opens_at"] == "2026-12-28T09:00:00+09:00"  # Monday: the weekend is closed too
    assert items["Weekdays"]["closed_days"] == [{"day": "2026-12-25", "hours": "", "name": "성탄절"}]
    assert (items["Always"]["id"], items["Always"]["open_now"], items["Always"]["opens_at"]) == (always.pk, True, None)


def test_the_queues_using_the_hours_are_listed(manager_a, company_a, api_as, hours_a):
    sales = Queue.objects.create(company=company_a, name="Sales", number="5000", business_hours=hours_a)
    support = Queue.objects.create(company=company_a, name="Support", number="5001", business_hours=hours_a)
    Queue.objects.create(company=company_a, name="Always open", number="5002")

    body = api_as(manager_a).get(f"business-hours/{hours_a.pk}").json()

    assert body["queue_ids"] == [sales.pk, support.pk]


def test_hours_need_a_token(db):
    from api.tests.conftest import JsonClient

    assert JsonClient().get("business-hours").status_code == 401


# --- writes -----------------------------------------------------------------------------------------------------


def test_bad_ranges_are_refused_at_their_field_with_the_pages_words(manager_a, api_as):
    bad = {"monday": "9 to 6", "tuesday": "18:00-09:00", "wednesday": "09:00-13:00, 12:00-18:00"}

    response = api_as(manager_a).post("business-hours", {"name": "Weekdays", **WEEK, **bad}, headers=EN)

    with translation.override("en"):
        form = BusinessHoursForm({"name": "Weekdays", **WEEK, **bad}, company=manager_a.company)
        page_errors = {day: form.errors[day] for day in bad}
    assert fields(response) == page_errors
    assert "09:00-18:00" in page_errors["monday"][0] and "next day" in page_errors["tuesday"][0]
    assert not BusinessHours.objects.exists()


def test_ranges_too_long_once_written_back_are_refused_not_a_server_error(manager_a, api_as):
    short_ranges = ",".join(f"9:{m:02d}-9:{m + 1:02d}" for m in range(0, 40, 2))  # 199 characters, 258 written back

    response = api_as(manager_a).post("business-hours", {"name": "Busy", "monday": short_ranges}, headers=EN)

    assert list(fields(response)) == ["monday"]
    assert "at most 200 characters" in fields(response)["monday"][0]


@pytest.mark.parametrize(
    ("closed_days", "field", "message"),
    [
        ([{"day": "2026-12-25"}, {"day": "2026-12-25", "name": "again"}], "closed_days.1.day",
         "2026-12-25 is already listed."),
        ([{"day": "1999-12-31"}], "closed_days.0.day", "Must be at least 2000-01-01."),
        ([{"day": "2101-01-01"}], "closed_days.0.day", "Must be at most 2100-12-31."),
        ([{"day": "2026-02-30"}], "closed_days.0.day", "Must be a date written YYYY-MM-DD."),
        ([{"day": 20261225}], "closed_days.0.day", "must be a date written YYYY-MM-DD"),
        ([{"day": "2026-12-25", "name": "two\nlines"}], "closed_days.0.name", "Not in the expected format."),
        ([{"day": "2026-12-25", "name": "x" * 101}], "closed_days.0.name", "At most 100 characters."),
        ([{"day": "2026-12-25", "when": "all day"}], "closed_days.0.when", "Not a field of this request."),
        (["2026-12-25"], "closed_days.0", "Must be an object."),
        ("2026-12-25", "closed_days", "Must be a list."),
    ],
)  # fmt: skip
def test_closed_days_are_refused_at_their_item(manager_a, api_as, closed_days, field, message):
    response = api_as(manager_a).post("business-hours", {"name": "Weekdays", "closed_days": closed_days}, headers=EN)

    assert fields(response) == {field: [message]}
    assert not BusinessHours.objects.exists()


def test_at_most_a_thousand_closed_days(manager_a, api_as):
    days = [{"day": date.fromordinal(date(2030, 1, 1).toordinal() + n).isoformat()} for n in range(1001)]

    response = api_as(manager_a).post("business-hours", {"name": "Weekdays", "closed_days": days}, headers=EN)

    assert fields(response) == {"closed_days": ["At most 1000 closed days."]}


def test_the_same_name_twice_in_a_company_is_refused_in_any_case(manager_a, manager_b, api_as, hours_a):
    refused = api_as(manager_a).post("business-hours", {"name": "WEEKDAYS"}, headers=EN)

    assert fields(refused) == {"name": ["This company already has business hours with this name."]}
    assert api_as(manager_b).post("business-hours", {"name": "Weekdays"}).status_code == 201  # another company may


def test_admin_names_the_company(admin_user, company_b, api_as):
    client = api_as(admin_user)

    unnamed = client.post("business-hours", {"name": "Weekdays"}, headers=EN)
    unknown = client.post("business-hours", {"name": "Weekdays", "company_id": 987654}, headers=EN)
    created = client.post("business-hours", {"name": "Weekdays", "company_id": company_b.pk})

    assert fields(unnamed) == {"company_id": ["This field is required."]}
    assert fields(unknown) == {"company_id": ["There is no such company."]}
    assert created.status_code == 201 and created.json()["company_id"] == company_b.pk


def test_managers_create_hours_only_in_their_own_company(manager_a, company_a, company_b, api_as):
    client = api_as(manager_a)

    theirs = client.post("business-hours", {"name": "Theirs", "company_id": company_b.pk})
    own = client.post("business-hours", {"name": "Ours", "company_id": company_a.pk})

    assert theirs.status_code == 403 and error_code(theirs) == "permission_denied"
    assert own.status_code == 201
    assert list(BusinessHours.objects.values_list("company_id", flat=True)) == [company_a.pk]


def test_patch_changes_only_the_fields_sent(manager_a, api_as, hours_a):
    client = api_as(manager_a)

    monday_only = client.patch(f"business-hours/{hours_a.pk}", {"monday": "8:30~17:30"})
    new_closed_days = client.patch(f"business-hours/{hours_a.pk}", {"closed_days": CLOSED[1:]})

    assert monday_only.status_code == 200, monday_only.json()
    assert monday_only.json()["monday"] == "08:30-17:30"
    assert monday_only.json()["friday"] == "09:00-18:00" and monday_only.json()["name"] == "Weekdays"
    assert monday_only.json()["closed_days"] == [{"day": "2026-12-25", "hours": "", "name": "성탄절"}]
    assert new_closed_days.json()["closed_days"] == CLOSED[1:] and new_closed_days.json()["monday"] == "08:30-17:30"
    assert list(ClosedDay.objects.filter(hours=hours_a).values_list("day", flat=True)) == [date(2027, 1, 1)]


def test_patch_is_checked_like_a_create(manager_a, company_a, api_as, hours_a):
    BusinessHours.objects.create(company=company_a, name="Weekends")
    client = api_as(manager_a)

    clash = client.patch(f"business-hours/{hours_a.pk}", {"name": "weekends"}, headers=EN)
    bad = client.patch(f"business-hours/{hours_a.pk}", {"friday": "25:00-26:00", "company_id": 1}, headers=EN)
    renamed_itself = client.patch(f"business-hours/{hours_a.pk}", {"name": "WEEKDAYS"})

    assert list(fields(clash)) == ["name"]
    assert fields(bad) == {"company_id": ["Not a field of this request."]}
    assert renamed_itself.status_code == 200 and renamed_itself.json()["name"] == "WEEKDAYS"
    hours_a.refresh_from_db()
    assert hours_a.friday == "09:00-18:00"


def test_deleting_hours_leaves_their_queues_always_open(manager_a, company_a, api_as, hours_a):
    queue = Queue.objects.create(company=company_a, name="Sales", number="5000", business_hours=hours_a)
    client = api_as(manager_a)

    response = client.delete(f"business-hours/{hours_a.pk}")

    assert response.status_code == 204
    assert Queue.objects.get(pk=queue.pk).business_hours is None
    assert client.get(f"business-hours/{hours_a.pk}").status_code == 404


def test_agents_are_refused_every_write_whatever_the_hours(agent_a, api_as, hours_a, hours_b):
    client = api_as(agent_a)

    answers = [
        client.post("business-hours", {"name": "Mine"}),
        client.patch(f"business-hours/{hours_a.pk}", {"name": "Renamed"}),
        client.patch(f"business-hours/{hours_b.pk}", {"name": "Renamed"}),
        client.delete(f"business-hours/{hours_a.pk}"),
        client.delete(f"business-hours/{hours_b.pk}"),
    ]

    assert [r.status_code for r in answers] == [403] * 5
    assert {error_code(r) for r in answers} == {"permission_denied"}
    assert set(BusinessHours.objects.values_list("name", flat=True)) == {"Weekdays", "Theirs"}


def test_the_refusal_is_in_korean_for_a_korean_reader(agent_a, api_as):
    response = api_as(agent_a).post("business-hours", {"name": "Mine"}, headers={"Accept-Language": "ko"})

    assert response.json()["error"]["message"] == "영업시간은 관리자와 시스템 관리자만 관리할 수 있습니다."


def test_another_companys_hours_are_not_found(manager_b, api_as, hours_a):
    client = api_as(manager_b)

    answers = [
        client.get(f"business-hours/{hours_a.pk}"),
        client.patch(f"business-hours/{hours_a.pk}", {"name": "Mine now"}),
        client.delete(f"business-hours/{hours_a.pk}"),
    ]

    assert [r.status_code for r in answers] == [404, 404, 404]
    assert BusinessHours.objects.get(pk=hours_a.pk).name == "Weekdays"


def test_a_special_day_keeps_its_own_hours(manager_a, api_as):
    special = [{"day": "2026-12-31", "hours": "9:00~12:00", "name": "단축 근무"}]
    response = api_as(manager_a).post("business-hours", {"name": "Weekdays", **WEEK, "closed_days": special})
    assert response.status_code == 201, response.json()
    assert response.json()["closed_days"] == [{"day": "2026-12-31", "hours": "09:00-12:00", "name": "단축 근무"}]
    refused = api_as(manager_a).post(
        "business-hours", {"name": "Other", **WEEK, "closed_days": [{"day": "2026-12-31", "hours": "12:00-09:00"}]}
    )
    assert refused.status_code == 422 and "closed_days" in refused.json()["error"]["fields"]

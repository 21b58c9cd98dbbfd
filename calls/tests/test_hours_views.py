"""The business hours pages: a manager's own company only, ranges and closed days refused at their field in plain
words, a queue given hours, and deleting hours leaving their queues always open."""

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from calls.models import BusinessHours, ClosedDay, Queue
from calls.selectors_hours import hours_rows

pytestmark = pytest.mark.django_db

WEEK = {"monday": "09:00-12:00, 13:00-18:00", "tuesday": "9:00~18:00", "wednesday": "09:00-18:00",
        "thursday": "09:00-18:00", "friday": "09:00-18:00", "saturday": "", "sunday": ""}  # fmt: skip


def hours_fields(name="Weekdays", closed="2026-12-25 Christmas\n2027-01-01 New year", **days) -> dict:
    return {"name": name, **WEEK, **days, "closed_days_text": closed}


def test_manager_creates_hours_with_a_lunch_break_and_closed_days(client, manager_a):
    client.force_login(manager_a)
    response = client.post(reverse("calls:hours_new"), hours_fields())
    assert response.status_code == 302
    hours = BusinessHours.objects.get(name="Weekdays")
    assert hours.company == manager_a.company
    assert (hours.monday, hours.tuesday, hours.saturday) == ("09:00-12:00, 13:00-18:00", "09:00-18:00", "")
    assert list(hours.closed_days.values_list("day", "name")) == [
        (date(2026, 12, 25), "Christmas"),
        (date(2027, 1, 1), "New year"),
    ]


def test_editing_closed_days_keeps_the_list_exact(client, manager_a):
    client.force_login(manager_a)
    client.post(reverse("calls:hours_new"), hours_fields())
    hours = BusinessHours.objects.get(name="Weekdays")
    page = client.get(reverse("calls:hours_edit", args=[hours.pk]))
    assert page.context["form"].initial["closed_days_text"] == "2026-12-25 Christmas\n2027-01-01 New year"
    response = client.post(
        reverse("calls:hours_edit", args=[hours.pk]), hours_fields(closed="2027-01-01 신정\n2027-02-16 설날")
    )
    assert response.status_code == 302
    assert list(ClosedDay.objects.filter(hours=hours).values_list("day", "name")) == [
        (date(2027, 1, 1), "신정"),
        (date(2027, 2, 16), "설날"),
    ]


def test_bad_ranges_and_closed_days_are_refused_at_their_field(client, manager_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("calls:hours_new"),
        hours_fields(monday="9 to 6", tuesday="18:00-09:00", closed="2026-13-01 nothing\n\n2026-12-25 a\n2026-12-25 b"),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "09:00-18:00" in errors["monday"][0]
    assert "next day" in errors["tuesday"][0]
    assert errors["closed_days_text"] == [
        "Line 1: write a date as 2026-12-25, then its name.",
        "Line 4: 2026-12-25 is already listed.",
    ]
    assert not BusinessHours.objects.exists()


def test_the_same_name_twice_in_a_company_is_refused_in_any_case(client, manager_a, manager_b):
    client.force_login(manager_a)
    client.post(reverse("calls:hours_new"), hours_fields())
    response = client.post(reverse("calls:hours_new"), hours_fields(name="WEEKDAYS"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["form"].errors["name"] == ["This company already has business hours with this name."]
    client.force_login(manager_b)
    assert client.post(reverse("calls:hours_new"), hours_fields()).status_code == 302  # another company may


def test_a_queue_takes_hours_of_its_own_company_only(client, manager_a, company_b, queue_a):
    theirs = BusinessHours.objects.create(company=company_b, name="Theirs", monday="09:00-18:00")
    ours = BusinessHours.objects.create(company=queue_a.company, name="Ours", monday="09:00-18:00")
    client.force_login(manager_a)
    form = client.get(reverse("calls:queue_edit", args=[queue_a.pk])).context["form"]
    assert list(form.fields["business_hours"].queryset) == [ours]
    fields = {"name": "Support", "number": "7000", "ring_timeout_seconds": 15, "wrapup_seconds": 10,
              "max_wait_seconds": 300, "service_level_seconds": 20, "is_active": "on"}  # fmt: skip
    refused = client.post(reverse("calls:queue_edit", args=[queue_a.pk]), {**fields, "business_hours": theirs.pk})
    assert refused.status_code == 400 and "business_hours" in refused.context["form"].errors
    saved = client.post(reverse("calls:queue_edit", args=[queue_a.pk]), {**fields, "business_hours": ours.pk})
    assert saved.status_code == 302
    assert Queue.objects.get(pk=queue_a.pk).business_hours == ours
    listing = client.get(reverse("calls:queues")).content.decode()
    assert "Ours" in listing


def test_deleting_hours_leaves_their_queues_always_open(client, manager_a, queue_a):
    hours = BusinessHours.objects.create(company=queue_a.company, name="Weekdays", monday="09:00-18:00")
    queue_a.business_hours = hours
    queue_a.save()
    client.force_login(manager_a)
    assert client.get(reverse("calls:hours_delete", args=[hours.pk])).status_code == 405
    response = client.post(reverse("calls:hours_delete", args=[hours.pk]), HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "these queues are now always open: Support" in response.content.decode()
    assert Queue.objects.get(pk=queue_a.pk).business_hours is None


def test_hours_are_refused_to_agents_and_invisible_to_other_companies(client, agent_a, manager_b, company_a):
    hours = BusinessHours.objects.create(company=company_a, name="Weekdays", monday="09:00-18:00")
    client.force_login(agent_a)
    assert client.get(reverse("calls:hours")).status_code == 403
    client.force_login(manager_b)
    assert client.get(reverse("calls:hours_edit", args=[hours.pk])).status_code == 404
    assert client.post(reverse("calls:hours_delete", args=[hours.pk])).status_code == 404
    assert "Weekdays" not in client.get(reverse("calls:hours")).content.decode()
    assert BusinessHours.objects.filter(pk=hours.pk).exists()


def test_admin_picks_the_company_first(client, admin_user, company_b):
    client.force_login(admin_user)
    assert client.get(reverse("calls:hours_new")).templates[0].name == "console/company_pick.html"
    response = client.post(reverse("calls:hours_new") + f"?company={company_b.pk}", hours_fields())
    assert response.status_code == 302
    assert BusinessHours.objects.get(name="Weekdays").company == company_b


def test_the_list_says_whether_open_now_and_when_it_opens(company_a, django_assert_max_num_queries):
    hours = BusinessHours.objects.create(company=company_a, name="Weekdays", **WEEK)
    hours.closed_days.create(day=date(2026, 12, 25), name="Christmas")
    BusinessHours.objects.create(company=company_a, name="Always", **dict.fromkeys(WEEK, "00:00-24:00"))
    christmas_morning = datetime(2026, 12, 25, 1, 0, tzinfo=UTC)  # Friday 10:00 in Seoul
    with django_assert_max_num_queries(3):
        rows = {row.hours.name: row for row in hours_rows(BusinessHours.objects.all(), now=christmas_morning)}
    weekdays = rows["Weekdays"]
    assert not weekdays.open_now
    assert weekdays.opens_at.isoformat() == "2026-12-28T09:00:00+09:00"  # Monday: the weekend is closed too
    assert [c.name for c in weekdays.upcoming_closed] == ["Christmas"]
    assert rows["Always"].open_now and rows["Always"].opens_at is None


def test_the_list_page_shows_the_week(client, manager_a, company_a):
    BusinessHours.objects.create(company=company_a, name="Weekdays", **{**WEEK, "tuesday": "09:00-18:00"})
    client.force_login(manager_a)
    page = client.get(reverse("calls:hours"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "09:00-12:00, 13:00-18:00" in page and "영업시간" in page


def test_the_django_admin_edits_hours_with_their_closed_days(client, admin_user, company_a):
    hours = BusinessHours.objects.create(company=company_a, name="Weekdays", monday="09:00-18:00")
    hours.closed_days.create(day=date(2026, 12, 25), name="Christmas")
    client.force_login(admin_user)
    assert "Weekdays" in client.get("/admin/calls/businesshours/").content.decode()
    page = client.get(f"/admin/calls/businesshours/{hours.pk}/change/").content.decode()
    assert "Christmas" in page and "09:00-18:00" in page


def test_ranges_that_grow_past_the_limit_once_respelled_are_refused_not_a_server_error(client, manager_a):
    # "9:00~9:01" is 9 characters, "09:00-09:01" 11: a day just under the limit as typed is over it as stored.
    typed = ",".join(f"0:{2 * n:02d}~0:{2 * n + 1:02d}" for n in range(20))
    assert len(typed) == 199
    client.force_login(manager_a)
    response = client.post(reverse("calls:hours_new"), hours_fields(monday=typed), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "at most 200 characters" in response.context["form"].errors["monday"][0]


def test_public_holidays_are_added_to_the_closed_days_to_look_over_before_saving(client, manager_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("calls:hours_new"),
        {**hours_fields(closed="2027-02-07 우리 설날 이름"), "holidays_country": "KR", "holidays_year": 2027,
         "add_holidays": "1"},
        HTTP_ACCEPT_LANGUAGE="ko",
    )  # fmt: skip
    assert response.status_code == 200 and not BusinessHours.objects.exists()  # nothing saved yet
    form = response.context["form"]
    lines = form.initial["closed_days_text"].splitlines()
    assert lines[0] == "2027-02-07 우리 설날 이름"  # a day already listed keeps its own line, once
    days = [line[:10] for line in lines]
    assert len(days) == len(set(days))
    # Seollal moves with the moon, and a holiday on a Saturday gets a substitute day on Monday.
    assert {"2027-02-06", "2027-02-08", "2027-02-09", "2027-09-15", "2027-12-25"} <= set(days)
    assert "2027-09-15 추석" in lines
    assert form.initial["name"] == "Weekdays" and form.initial["monday"] == WEEK["monday"]
    assert not form.is_bound  # no errors shown for fields still being filled in

    saved = client.post(reverse("calls:hours_new"), hours_fields(closed=form.initial["closed_days_text"]))
    assert saved.status_code == 302
    assert BusinessHours.objects.get().closed_days.count() == len(lines)


def test_holidays_of_an_unsupported_year_are_refused_at_the_field(client, manager_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("calls:hours_new"),
        {**hours_fields(), "holidays_country": "KR", "holidays_year": 1999, "add_holidays": "1"},
    )
    assert response.status_code == 400 and "holidays_year" in response.context["holidays_form"].errors
    assert not BusinessHours.objects.exists()


def test_holiday_names_follow_the_readers_language(client, manager_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("calls:hours_new"),
        {**hours_fields(closed=""), "holidays_country": "KR", "holidays_year": 2026, "add_holidays": "1"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "2026-03-01 Independence Movement Day" in response.context["form"].initial["closed_days_text"]


def test_a_special_day_keeps_other_hours_and_reads_back_in_one_spelling(client, manager_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("calls:hours_new"),
        hours_fields(closed="2026-12-31 9:00~12:00 단축 근무\n2026-12-25 성탄절\n2027-01-02 10:00-11:00"),
    )
    assert response.status_code == 302
    hours = BusinessHours.objects.get()
    assert list(hours.closed_days.values_list("day", "ranges", "name")) == [
        (date(2026, 12, 25), "", "성탄절"),
        (date(2026, 12, 31), "09:00-12:00", "단축 근무"),
        (date(2027, 1, 2), "10:00-11:00", ""),
    ]
    page = client.get(reverse("calls:hours_edit", args=[hours.pk]))
    assert page.context["form"].initial["closed_days_text"].splitlines()[1] == "2026-12-31 09:00-12:00 단축 근무"
    opening = hours.opening_hours()
    assert opening.is_open(datetime(2026, 12, 31, 2, 0, tzinfo=UTC))  # 11:00 in Seoul
    assert not opening.is_open(datetime(2026, 12, 31, 5, 0, tzinfo=UTC))  # 14:00: a Thursday, but not this one


def test_a_special_day_with_unreadable_hours_is_refused_at_its_line(client, manager_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("calls:hours_new"), hours_fields(closed="2026-12-31 12:00-09:00 거꾸로"), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    [error] = response.context["form"].errors["closed_days_text"]
    assert error.startswith("Line 1: 12:00-09:00 ends before it starts")

"""The report's figures and time per state, counted in the company's days."""

from datetime import date

import pytest

from accounts.models import Role, User
from companies.models import PauseReason
from reports.selectors import MAX_DAYS, company_report
from reports.tests.conftest import NOW, at, change, make_call

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 21)


def test_a_day_counts_its_queue_calls_in_the_company_time_zone(company_a, day_of_calls):
    report = company_report(company=company_a, first_day=DAY, last_day=DAY, now=NOW)
    [(day, figures)] = report.days
    assert day == DAY
    assert (figures.offered, figures.answered, figures.abandoned) == (3, 2, 1)
    assert figures.within_service_level == 1
    assert figures.average_speed_of_answer == 20  # (10 + 30) / 2
    assert figures.average_handle_time == 95  # (60 + 30 + 100) / 2
    assert report.total.offered == 3


def test_each_day_of_the_span_has_a_row_even_without_calls(company_a, day_of_calls):
    report = company_report(company=company_a, first_day=date(2026, 11, 19), last_day=DAY, now=NOW)
    assert [(day.day, figures.offered) for day, figures in report.days] == [(19, 0), (20, 1), (21, 3)]
    assert report.total.offered == 4


def test_days_still_to_come_are_not_listed(company_a):
    report = company_report(company=company_a, first_day=date(2026, 11, 24), last_day=date(2026, 12, 31), now=NOW)
    assert [day for day, _figures in report.days] == [date(2026, 11, 24), date(2026, 11, 25)]
    assert report.last_day == date(2026, 11, 25)


def test_per_queue_and_per_agent_figures(company_a, queue_a, agent_a, day_of_calls):
    report = company_report(company=company_a, first_day=DAY, last_day=DAY, now=NOW)
    [(queue, figures)] = report.per_queue
    assert queue == queue_a and figures.offered == 3
    row = next(row for row in report.agents if row.agent == agent_a)
    assert (row.figures.answered, row.figures.missed_offers, row.figures.handle_total) == (2, 1, 190)


def test_time_per_state_covers_the_day_from_midnight_to_midnight(company_a, agent_a, day_of_states):
    report = company_report(company=company_a, first_day=DAY, last_day=DAY, now=NOW)
    row = next(row for row in report.agents if row.agent == agent_a)
    by_state = row.time.seconds_by_state
    assert by_state == {
        "AWAY": 9 * 3600 + 3600,  # the break begun the evening before counts from midnight, then lunch
        "READY": 600 + 9850 + 11 * 3600,  # the last stretch stops at midnight, not at the next change
        "CALLING": 20,
        "ON_CALL": 300,
        "POST_PROCESSING": 30,
    }
    assert sum(by_state.values()) == 24 * 3600
    reasons = {PauseReason.objects.get(pk=pk).code: seconds for pk, seconds in row.time.seconds_by_reason.items()}
    assert reasons == {"BREAK": 9 * 3600, "LUNCH": 3600}
    assert row.occupancy == pytest.approx(350 / (350 + 600 + 9850 + 11 * 3600))
    assert [reason.code for reason in report.reasons] == ["LUNCH", "BREAK"]


def test_a_state_still_going_counts_up_to_now(company_a, agent_a):
    change(agent_a, "READY", at(25, 11))
    report = company_report(company=company_a, first_day=date(2026, 11, 25), last_day=date(2026, 11, 25), now=NOW)
    row = next(row for row in report.agents if row.agent == agent_a)
    assert row.time.seconds_by_state == {"READY": 3600}


def test_the_other_company_and_its_agents_are_not_in_the_report(company_a, agent_b, day_of_calls):
    report = company_report(company=company_a, first_day=DAY, last_day=DAY, now=NOW)
    assert agent_b not in [row.agent for row in report.agents]
    assert report.total.handle_total == 190  # not the other company's 999 s call


def test_a_disabled_agent_is_listed_only_for_days_they_worked(company_a, queue_a, make_user):
    gone = make_user(role=Role.AGENT, company=company_a, username="gone", extension="1009")
    idle = make_user(role=Role.AGENT, company=company_a, username="idle", extension="1008")
    User.objects.filter(pk__in=[gone.pk, idle.pk]).update(is_active=False)
    make_call(company_a, enqueued_at=at(21, 10), queue=queue_a, agent=gone, talk=60)
    report = company_report(company=company_a, first_day=DAY, last_day=DAY, now=NOW)
    listed = [row.agent for row in report.agents]
    assert gone in listed and idle not in listed


def test_a_span_ending_before_it_begins_is_empty(company_a):
    report = company_report(company=company_a, first_day=DAY, last_day=date(2026, 11, 20), now=NOW)
    assert report.days == [] and report.agents == []


def test_the_longest_span_is_a_quarter():
    assert MAX_DAYS == 92


@pytest.mark.parametrize(
    ("first", "last", "by_state", "by_reason"),
    [
        # Ready since 13:00 the day before until a break at 01:00, then away the rest of the day.
        (22, 22, {"READY": 3600, "AWAY": 23 * 3600}, {"BREAK": 23 * 3600}),
        # No change at all that day: the break going on since the 22nd fills it.
        (23, 23, {"AWAY": 24 * 3600}, {"BREAK": 24 * 3600}),
        # Two days: the day of the call and the next, each stretch counted once.
        (
            21,
            22,
            {
                "AWAY": 10 * 3600 + 23 * 3600,
                "READY": 600 + 9850 + 12 * 3600,
                "CALLING": 20,
                "ON_CALL": 300,
                "POST_PROCESSING": 30,
            },
            {"BREAK": 9 * 3600 + 23 * 3600, "LUNCH": 3600},
        ),  # fmt: skip
    ],
)
def test_stretches_cut_by_the_span_edges_count_inside_it(company_a, agent_a, day_of_states, first, last, by_state,
                                                         by_reason):  # fmt: skip
    report = company_report(company=company_a, first_day=date(2026, 11, first), last_day=date(2026, 11, last), now=NOW)
    row = next(row for row in report.agents if row.agent == agent_a)
    assert row.time.seconds_by_state == pytest.approx(by_state)
    assert sum(row.time.seconds_by_state.values()) == pytest.approx((last - first + 1) * 24 * 3600)
    reasons = {PauseReason.objects.get(pk=pk).code: seconds for pk, seconds in row.time.seconds_by_reason.items()}
    assert reasons == pytest.approx(by_reason)


def test_hours_of_the_day_are_the_company_hours(company_a, day_of_calls):
    report = company_report(company=company_a, first_day=date(2026, 11, 20), last_day=DAY, now=NOW)
    offered = {hour: figures.offered for hour, figures in report.hours if figures.offered}
    # 00:30 in Seoul (15:30 UTC) is hour 0; 23:59 on the 20th is hour 23; 10:00 and 11:00 on the 21st.
    assert offered == {0: 1, 10: 1, 11: 1, 23: 1}
    assert [hour for hour, _figures in report.hours] == list(range(24))


def test_away_past_the_reason_limit_is_counted_inside_the_span(company_a, agent_a, day_of_states):
    PauseReason.objects.filter(company=company_a, code="LUNCH").update(max_minutes=45)
    PauseReason.objects.filter(company=company_a, code="BREAK").update(max_minutes=15)
    report = company_report(company=company_a, first_day=DAY, last_day=DAY, now=NOW)
    row = next(row for row in report.agents if row.agent == agent_a)
    # The break begun at 23:00 the day before was past its 15 minutes at 23:15: all of its 9 hours on the 21st
    # count; lunch 12:00–13:00 is 15 minutes past its 45.
    assert row.time.away_over_limit == 9 * 3600 + 15 * 60
    # The next day: the break from 01:00 to midnight, past its limit from 01:15.
    next_day = company_report(company=company_a, first_day=date(2026, 11, 22), last_day=date(2026, 11, 22), now=NOW)
    assert next(r for r in next_day.agents if r.agent == agent_a).time.away_over_limit == 23 * 3600 - 15 * 60


def test_without_limits_nothing_is_over(company_a, agent_a, day_of_states):
    report = company_report(company=company_a, first_day=DAY, last_day=DAY, now=NOW)
    assert next(row for row in report.agents if row.agent == agent_a).time.away_over_limit == 0


def test_after_hours_calls_are_counted_apart_from_the_offered_ones(company_a, queue_a, day_of_calls):
    make_call(company_a, enqueued_at=at(21, 22, 30), queue=queue_a, disposition="CLOSED")
    make_call(company_a, enqueued_at=at(21, 23, 0), queue=queue_a, disposition="CLOSED")
    report = company_report(company=company_a, first_day=DAY, last_day=DAY, now=NOW)
    [(_day, figures)] = report.days
    assert (figures.offered, figures.after_hours) == (3, 2)
    assert figures.abandon_rate == 1 / 3 and figures.service_level == 1 / 3  # the rates are of offered calls only
    hours = dict(report.hours)
    assert (hours[22].after_hours, hours[23].after_hours, hours[22].offered) == (1, 1, 0)
    assert (report.total.offered, report.total.after_hours) == (3, 2)


def test_calls_from_blocked_numbers_are_not_offered(company_a, queue_a, day_of_calls):
    make_call(company_a, enqueued_at=at(21, 15, 0), queue=queue_a, disposition="BLOCKED")
    report = company_report(company=company_a, first_day=DAY, last_day=DAY, now=NOW)
    [(_day, figures)] = report.days
    assert (figures.offered, figures.after_hours) == (3, 0)


def test_callers_who_moved_on_count_in_the_queue_they_left_and_are_offered_in_the_one_that_took_them(
    company_a, queue_a, day_of_calls
):
    from django.utils import translation

    from calls.models import Queue
    from reports.tables import table_csv

    backup = Queue.objects.create(company=company_a, name="Backup", number="7001")
    make_call(company_a, enqueued_at=at(21, 14, 0), queue=backup, overflowed_from=queue_a, disposition="ANSWERED")
    make_call(company_a, enqueued_at=at(21, 15, 0), queue=backup, overflowed_from=queue_a, disposition="ABANDONED")
    report = company_report(company=company_a, first_day=DAY, last_day=DAY, now=NOW)
    per_queue = {queue.number: figures for queue, figures in report.per_queue}
    assert (per_queue["7000"].overflowed, per_queue["7000"].offered) == (2, 3)
    assert (per_queue["7001"].overflowed, per_queue["7001"].offered) == (0, 2)
    assert (report.total.overflowed, report.total.offered) == (2, 5)
    [(_day, figures)] = report.days
    hours = dict(report.hours)
    assert figures.overflowed == 2 and (hours[14].overflowed, hours[15].overflowed) == (1, 1)

    left = company_report(company=company_a, first_day=DAY, last_day=DAY, queue=queue_a, now=NOW)
    took = company_report(company=company_a, first_day=DAY, last_day=DAY, queue=backup, now=NOW)
    assert (left.days[0][1].overflowed, left.days[0][1].offered) == (2, 3)  # the callers it passed on
    assert (took.days[0][1].overflowed, took.days[0][1].offered) == (0, 2)
    with translation.override("en"):
        header, *_rows, total = table_csv(report, "queues").splitlines()
    assert header.endswith(",Overflowed") and total.startswith("All queues,") and total.endswith(",2")

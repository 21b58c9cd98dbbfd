"""Business hours on their own: the ranges text people type, and whether a queue is open at a moment."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from calls.business_hours import HoursProblem, OpeningHours, format_ranges, parse_ranges

WEEKDAY_9_TO_6_WITH_LUNCH = ((540, 720), (780, 1080))
SEOUL_WEEK = OpeningHours(
    zone="Asia/Seoul",
    weekly=(WEEKDAY_9_TO_6_WITH_LUNCH,) * 5 + (((600, 780),), ()),  # Saturday 10-13, Sunday closed
    special_days={date(2026, 12, 25): (), date(2026, 12, 31): ((540, 720),)},  # Christmas; New Year's Eve 9-12
)


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English; Korean is the default language."""
    with translation.override("en"):
        yield


def seoul(day: int, hour: int, minute: int = 0) -> datetime:
    """A December 2026 moment in Seoul (UTC+9), given as UTC the way the engine's events carry time."""
    return datetime(2026, 12, day, hour, minute, tzinfo=ZoneInfo("Asia/Seoul")).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        ("09:00-18:00", ((540, 1080),)),
        ("09:00-12:00, 13:00-18:00", WEEKDAY_9_TO_6_WITH_LUNCH),
        ("13:00-18:00; 9:00~12:00", WEEKDAY_9_TO_6_WITH_LUNCH),  # any order, the Korean ~, one-digit hours
        ("00:00-24:00", ((0, 1440),)),
        ("", ()),
        ("  ", ()),
    ],
)
def test_ranges_are_read_as_people_write_them(text, ranges):
    assert parse_ranges(text) == ranges


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("9 to 6", "09:00-18:00"),
        ("25:00-26:00", "no such time"),
        ("09:60-10:00", "no such time"),
        ("24:30-24:45", "no such time"),
        ("22:00-06:00", "next day"),
        ("10:00-10:00", "ends before"),
        ("09:00-13:00, 12:00-18:00", "overlap"),
    ],
)
def test_unreadable_ranges_say_what_is_wrong(text, says):
    with pytest.raises(HoursProblem) as problem:
        parse_ranges(text)
    assert says in str(problem.value)


def test_ranges_read_back_in_one_spelling():
    assert format_ranges(parse_ranges("13:00~18:00,9:00-12:00")) == "09:00-12:00, 13:00-18:00"
    assert format_ranges(parse_ranges("00:00-24:00")) == "00:00-24:00"


def test_open_follows_the_company_clock_not_utc():
    # Thursday 2026-12-03 09:00 in Seoul is 00:00 UTC; a minute before it is still Wednesday night in UTC.
    assert SEOUL_WEEK.is_open(datetime(2026, 12, 3, 0, 0, tzinfo=UTC))
    assert not SEOUL_WEEK.is_open(datetime(2026, 12, 2, 23, 59, tzinfo=UTC))


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (seoul(3, 8, 59), False),
        (seoul(3, 9, 0), True),
        (seoul(3, 11, 59), True),
        (seoul(3, 12, 0), False),  # lunch break
        (seoul(3, 13, 0), True),
        (seoul(3, 17, 59), True),
        (seoul(3, 18, 0), False),  # a range's end is closed
        (seoul(5, 10, 30), True),  # Saturday morning
        (seoul(5, 13, 0), False),
        (seoul(6, 11, 0), False),  # Sunday
        (seoul(25, 10, 0), False),  # Christmas, a Friday: a closed day wins over the weekday
        (seoul(24, 10, 0), True),
    ],
)
def test_open_at_a_moment(moment, is_open):
    assert SEOUL_WEEK.is_open(moment) is is_open


def test_next_opening_skips_lunch_weekends_and_closed_days():
    assert SEOUL_WEEK.next_opening(seoul(3, 12, 30)) == datetime(2026, 12, 3, 4, 0, tzinfo=UTC)  # 13:00 Seoul
    # Saturday 13:00 → Sunday closed → Monday 09:00.
    assert SEOUL_WEEK.next_opening(seoul(5, 13, 0)) == datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
    # Thursday 24th after hours → Friday 25th closed → Saturday 26th 10:00.
    assert SEOUL_WEEK.next_opening(seoul(24, 18, 0)) == datetime(2026, 12, 26, 1, 0, tzinfo=UTC)


def test_a_stretch_through_midnight_opens_once():
    nights = OpeningHours(zone="Asia/Seoul", weekly=(((1320, 1440),), ((0, 360),), (), (), (), (), ()))
    # Monday 22:00 to Tuesday 06:00 is one stretch: once open at Monday 22:00, it does not "open" again at 00:00.
    assert nights.next_opening(seoul(7, 12, 0)) == datetime(2026, 12, 7, 13, 0, tzinfo=UTC)
    assert nights.next_opening(seoul(7, 23, 0)) == datetime(2026, 12, 14, 13, 0, tzinfo=UTC)
    assert nights.is_open(seoul(8, 5, 59)) and not nights.is_open(seoul(8, 6, 0))


def test_never_open_has_no_next_opening():
    assert OpeningHours(zone="Asia/Seoul", weekly=((),) * 7).next_opening(seoul(3, 9), days=30) is None


def test_next_closing_is_the_end_of_the_stretch_open_now():
    assert SEOUL_WEEK.next_closing(seoul(3, 10, 0)) == datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # lunch at 12:00
    assert SEOUL_WEEK.next_closing(seoul(3, 12, 30)) is None  # closed now
    nights = OpeningHours(zone="Asia/Seoul", weekly=(((1320, 1440),), ((0, 360),), (), (), (), (), ()))
    assert nights.next_closing(seoul(7, 23, 0)) == datetime(2026, 12, 7, 21, 0, tzinfo=UTC)  # Tuesday 06:00
    always = OpeningHours(zone="Asia/Seoul", weekly=(((0, 1440),),) * 7)
    assert always.next_closing(seoul(3, 10, 0), days=30) is None
    christmas_eve = OpeningHours(zone="Asia/Seoul", weekly=(((0, 1440),),) * 7, special_days={date(2026, 12, 25): ()})
    assert christmas_eve.next_closing(seoul(24, 10, 0)) == datetime(2026, 12, 24, 15, 0, tzinfo=UTC)  # midnight


def test_a_special_day_keeps_its_own_hours_instead_of_its_weekdays():
    # Thursday 2026-12-31: open 09:00-12:00 only, no afternoon.
    assert SEOUL_WEEK.is_open(seoul(31, 11, 59)) and not SEOUL_WEEK.is_open(seoul(31, 13, 30))
    assert SEOUL_WEEK.next_closing(seoul(31, 10, 0)) == datetime(2026, 12, 31, 3, 0, tzinfo=UTC)
    # Closed at 12:00 on the 31st, the next opening is Friday 2027-01-01 09:00 (an ordinary weekday here).
    assert SEOUL_WEEK.next_opening(seoul(31, 12, 0)) == datetime(2027, 1, 1, 0, 0, tzinfo=UTC)


def test_stored_special_days_are_read_and_an_unreadable_one_closes_its_day():
    from calls.business_hours import special_days_read

    assert special_days_read(
        [(date(2026, 12, 31), "09:00-12:00"), (date(2026, 12, 25), ""), (date(2027, 1, 1), "x")]
    ) == {
        date(2026, 12, 31): ((540, 720),),
        date(2026, 12, 25): (),
        date(2027, 1, 1): (),
    }

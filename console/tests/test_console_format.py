"""How the console writes rates and durations."""

from console.templatetags.console_format import duration, percent


def test_a_rate_is_rounded_to_one_decimal_not_cut():
    assert percent(4 / 34) == "11.8 %"  # 11.76…
    assert percent(3 / 16) == "18.8 %"  # 18.75
    assert percent(0.99999) == "100.0 %"
    assert percent(None) == "–"


def test_a_duration_reads_as_minutes_and_seconds():
    assert duration(65) == "1:05" and duration(3 * 3600 + 7) == "3:00:07" and duration(None) == "–"


def test_seconds_until_a_moment_rounds_up_and_stops_at_zero():
    from datetime import UTC, datetime, timedelta

    from console.templatetags.console_format import seconds_until

    now = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
    assert seconds_until(now + timedelta(seconds=90, milliseconds=200), now) == 91
    assert seconds_until(now - timedelta(seconds=5), now) == 0
    assert seconds_until(None, now) == 0

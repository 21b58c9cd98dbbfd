"""How the console writes rates and durations."""

from console.templatetags.console_format import duration, percent


def test_a_rate_is_rounded_to_one_decimal_not_cut():
    assert percent(4 / 34) == "11.8 %"  # 11.76…
    assert percent(3 / 16) == "18.8 %"  # 18.75
    assert percent(0.99999) == "100.0 %"
    assert percent(None) == "–"


def test_a_duration_reads_as_minutes_and_seconds():
    assert duration(65) == "1:05" and duration(3 * 3600 + 7) == "3:00:07" and duration(None) == "–"

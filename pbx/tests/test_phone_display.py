"""Phone numbers as Koreans write them; anything of another shape shown as it came."""

import pytest

from pbx.phone_display import phone_display


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("01015207546", "010-1520-7546"),  # a mobile, as Asterisk's caller id brings it
        ("0111234567", "011-123-4567"),  # an old ten-digit mobile
        ("029465535", "02-946-5535"),  # Seoul, seven digits
        ("0212345678", "02-1234-5678"),  # Seoul, eight digits
        ("0317654321", "031-765-4321"),  # Gyeonggi
        ("05112345678", "051-1234-5678"),  # Busan
        ("07012345678", "070-1234-5678"),  # an internet phone
        ("0801234567", "080-123-4567"),  # toll-free
        ("050412345678", "0504-1234-5678"),  # a personal number
        ("15881234", "1588-1234"),  # a representative number
        ("010-1520-7546", "010-1520-7546"),  # already grouped
        ("010 1520 7546", "010-1520-7546"),
        ("(02) 946-5535", "02-946-5535"),
        ("+82 10-1234-5678", "+82 10-1234-5678"),
        ("+821012345678", "+82 10-1234-5678"),
        ("+82 (0)2 946 5535", "+82 2-946-5535"),
    ],
)
def test_a_korean_number_is_grouped(stored, shown):
    assert phone_display(stored) == shown


@pytest.mark.parametrize(
    "stored",
    [
        "1000",  # an extension
        "+1 415 555 0100",  # another country's number keeps its own grouping
        "0101234",  # too short for its prefix
        "010123456789",  # too long
        "0991234567",  # no such prefix
        "Anonymous",  # a caller id that is not a number
        "010-1234-5678 ext. 12",
    ],
)
def test_anything_else_is_shown_as_it_came(stored):
    assert phone_display(stored) == stored


@pytest.mark.parametrize("stored", ["", None])
def test_no_number_is_an_empty_string(stored):
    assert phone_display(stored) == ""

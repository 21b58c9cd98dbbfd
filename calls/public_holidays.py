"""A country's public holidays for a year, to add as closed days: Korea's lunar holidays (설날, 추석) and substitute
holidays move every year, so they are computed by the `holidays` package rather than kept in a table here."""

from datetime import date

import holidays
from django.utils.translation import get_language

COUNTRIES = {"KR": "대한민국 (KR)", "US": "United States (US)", "JP": "日本 (JP)"}  # the choices the pages offer


def public_holidays(country: str, year: int) -> list[tuple[date, str]]:
    """(day, name) of every public holiday, earliest first; names in the reader's language where the package has it."""
    calendar = holidays.country_holidays(country, years=year)
    language = "ko" if (get_language() or "").startswith("ko") else "en_US"
    if language in calendar.supported_languages:
        calendar = holidays.country_holidays(country, years=year, language=language)
    # A day with two holidays (Children's Day and Buddha's Birthday in 2025) comes once, with both names.
    return sorted(calendar.items())

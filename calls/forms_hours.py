"""The business hours form: a name, seven days of ranges, and the closed and special days as lines of text
("2026-12-25 Christmas": closed all day; "2026-12-31 09:00-12:00 New Year's Eve": open those hours only)."""

import re
from dataclasses import dataclass
from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from calls.business_hours import WEEKDAYS, HoursProblem, format_ranges, parse_ranges
from calls.models import BusinessHours
from calls.public_holidays import COUNTRIES, public_holidays

MAX_CLOSED_DAYS = 1000  # years of public holidays; a paste of a whole calendar by mistake is refused
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
_TIMES = r"\d{1,2}:\d{2}\s*[-~–]\s*\d{1,2}:\d{2}"
# A date, then optionally its ranges (comma-separated), then optionally a name.
_LINE = re.compile(rf"^\s*(\d{{4}}-\d{{2}}-\d{{2}})(?:\s+({_TIMES}(?:\s*,\s*{_TIMES})*))?(?:\s+(.*?))?\s*$")


@dataclass(frozen=True)
class SpecialDay:
    day: date
    ranges: str  # as stored ("09:00-12:00"); "": closed all day
    name: str

    def line(self) -> str:
        return " ".join(part for part in (f"{self.day:%Y-%m-%d}", self.ranges, self.name) if part)


class BusinessHoursForm(forms.ModelForm):
    closed_days_text = forms.CharField(
        label=_("Closed days"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": "2026-12-25 성탄절\n2026-12-31 09:00-12:00 단축 근무"}),
        help_text=_(
            "One a line: a date and a name (2026-12-25 Christmas), closed all day whatever the weekday says; with "
            "hours after the date (2026-12-31 09:00-12:00 New Year's Eve), open those hours only."
        ),
    )

    class Meta:
        model = BusinessHours
        fields = ["name", *WEEKDAYS]
        widgets = {day: forms.TextInput(attrs={"placeholder": "09:00-18:00", "data-day": day}) for day in WEEKDAYS}
        help_texts = {
            "monday": _("Ranges in the company's time zone, e.g. 09:00-12:00, 13:00-18:00. Blank: closed all day.")
        }

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.company = company
        if self.instance.pk and not self.is_bound:
            self.initial["closed_days_text"] = "\n".join(
                SpecialDay(d.day, d.ranges, d.name).line() for d in self.instance.closed_days.all()
            )

    def clean_closed_days_text(self) -> list[SpecialDay]:
        days: dict[date, SpecialDay] = {}
        problems = []
        lines = self.cleaned_data["closed_days_text"].splitlines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            match = _LINE.match(line)
            try:
                day = date.fromisoformat(match.group(1)) if match else None
            except ValueError:
                day = None
            if day is None or not EARLIEST <= day <= LATEST:
                problems.append(_("Line %(n)d: write a date as 2026-12-25, then its name.") % {"n": number})
            elif day in days:
                problems.append(_("Line %(n)d: %(day)s is already listed.") % {"n": number, "day": day.isoformat()})
            else:
                try:
                    ranges = format_ranges(parse_ranges(match.group(2) or ""))
                except HoursProblem as problem:
                    problems.append(_("Line %(n)d: %(problem)s") % {"n": number, "problem": problem})
                    continue
                days[day] = SpecialDay(day, ranges, (match.group(3) or "")[:100])
        if len(days) > MAX_CLOSED_DAYS:
            problems.append(_("At most %(n)d closed days.") % {"n": MAX_CLOSED_DAYS})
        if problems:
            raise forms.ValidationError(problems)
        return sorted(days.values(), key=lambda special: special.day)


class PublicHolidaysForm(forms.Form):
    """Which public holidays to add to the closed days being edited (added to the text, saved with the form)."""

    holidays_country = forms.ChoiceField(label=_("Country"), choices=list(COUNTRIES.items()), initial="KR")
    holidays_year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)

    def closed_days_with_holidays(self, text: str) -> str:
        """The closed days text with the year's holidays added, each day once (a day already listed keeps its line)."""
        listed = {line.strip()[:10] for line in text.splitlines() if line.strip()}
        holidays = public_holidays(self.cleaned_data["holidays_country"], self.cleaned_data["holidays_year"])
        added = [f"{day:%Y-%m-%d} {name[:100]}" for day, name in holidays if f"{day:%Y-%m-%d}" not in listed]
        return "\n".join(line for line in [*text.rstrip().splitlines(), *added] if line.strip())

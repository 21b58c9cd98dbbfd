"""The report's choice of company (system admins) and days; each mistake is said at its field."""

from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.utils.translation import gettext_lazy as _

from calls.forms import PlainSelect
from calls.models import Queue
from calls.selectors import EARLIEST_DAY, LATEST_DAY
from companies.models import Company
from pbx.ids import parse_id
from reports.selectors import MAX_DAYS, company_today


class ReportForm(forms.Form):
    date_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    queue = forms.ModelChoiceField(
        label=_("Queue"),
        queryset=Queue.objects.none(),
        required=False,
        widget=PlainSelect,
        empty_label=_("All queues"),
        help_text=_("The days and hours of this queue only."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        company_id = parse_id(self.data.get("company")) if user.is_system_admin else user.company_id
        self.fields["queue"].queryset = Queue.objects.filter(company_id=company_id).order_by("number")
        if user.is_system_admin:
            self.fields = {
                "company": forms.ModelChoiceField(
                    label=_("Company"),
                    queryset=Company.objects.order_by("name"),
                    widget=PlainSelect,
                    empty_label=_("Choose a company"),
                ),
                **self.fields,
            }

    @classmethod
    def for_request(cls, query, *, user) -> "ReportForm":
        """Bound to the query string; with no days asked for, the last seven days up to today. A system admin's first
        visit (no company yet) gets the empty form, not errors."""
        data = query.copy()
        if user.is_system_admin:
            company = Company.objects.filter(pk=parse_id(data.get("company"))).first()
        else:
            company = user.company
        if not data.get("date_from") and not data.get("date_to"):
            if company is None:
                return cls(user=user) if not data.get("company") else cls(data, user=user)
            today = company_today(company)
            data["date_from"] = (today - timedelta(days=6)).isoformat()
            data["date_to"] = today.isoformat()
        return cls(data, user=user)

    def query(self) -> str:
        """The valid form's choice as a query string (for the CSV links and the quick spans)."""
        data = self.cleaned_data
        values = {"date_from": data["date_from"].isoformat(), "date_to": data["date_to"].isoformat()}
        if self.user.is_system_admin:
            values = {"company": data["company"].pk, **values}
        if data.get("queue"):
            values["queue"] = data["queue"].pk
        return urlencode(values)

    def clean(self):
        cleaned = super().clean()
        for name, message in span_problems(cleaned.get("date_from"), cleaned.get("date_to")):
            self.add_error(name, message)
        return cleaned

    def company(self) -> Company:
        return self.cleaned_data["company"] if self.user.is_system_admin else self.user.company

    def choice(self) -> dict:
        """The valid form's choice as company_report's arguments."""
        data = self.cleaned_data
        return {"company": self.company(), "first_day": data["date_from"], "last_day": data["date_to"],
                "queue": data.get("queue")}  # fmt: skip


def span_problems(first: date | None, last: date | None) -> list[tuple[str, str]]:
    """What is wrong with a report's span, as (field, message): the page's form and the export command say the same."""
    problems = [(name, _("Choose a day from 1970 on.")) for name, day in (("date_from", first), ("date_to", last))
                if day and day < EARLIEST_DAY]  # fmt: skip
    if first and last:
        if first > last:
            problems.append(("date_to", _("The last day comes before the first day.")))
        elif (last - first).days + 1 > MAX_DAYS:
            message = _("A report covers at most %(days)d days: choose a shorter span.") % {"days": MAX_DAYS}
            problems.append(("date_to", message))
    return problems


def quick_spans(today: date) -> list[tuple[str, date, date]]:
    """The spans managers ask for most, as links above the form."""
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    return [
        (_("Today"), today, today),
        (_("Yesterday"), today - timedelta(days=1), today - timedelta(days=1)),
        (_("Last 7 days"), today - timedelta(days=6), today),
        (_("This month"), month_start, today),
        (_("Last month"), last_month_end.replace(day=1), last_month_end),
    ]


class DayForm(forms.Form):
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean_day(self):
        day = self.cleaned_data["day"]
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            raise forms.ValidationError(_("Choose a day between 1970 and 9000."))
        return day

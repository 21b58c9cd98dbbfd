"""Blocking a number: which one (typed, or a call's), why, and for how long."""

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DURATIONS = [
    ("", _("Until unblocked")),
    ("1", _("1 day")),
    ("7", _("7 days")),
    ("30", _("30 days")),
    ("90", _("90 days")),
    ("365", _("1 year")),
]


class BlockForm(forms.Form):
    """A call's number needs no `number` field: `with_number=False`."""

    number = forms.CharField(label=_("Number"), max_length=40)
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
    days = forms.ChoiceField(label=_("For"), choices=DURATIONS, required=False)

    def __init__(self, *args, with_number: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_number:
            del self.fields["number"]

    def until(self, now: datetime | None = None) -> datetime | None:
        days = self.cleaned_data.get("days")
        return (now or timezone.now()) + timedelta(days=int(days)) if days else None


class AbuseReportForm(forms.Form):
    reason = forms.CharField(label=_("What happened"), max_length=200)

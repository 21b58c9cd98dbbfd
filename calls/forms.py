"""Forms of the call pages: the call log's filters and the queue editor; each says what is wrong, field by field."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from calls.models import BusinessHours, Direction, Disposition, Queue
from calls.selectors import EARLIEST_DAY, LATEST_DAY, CallFilters
from companies.models import Company
from pbx.ids import parse_id


class PlainSelect(forms.Select):
    """The same <select> as Django's, written in Python: Django's widget templates render one sub-template per option,
    and the call log's filters (fifty agents, the queues, results, directions) took a fifth of the page's time."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = []
        for group_name, options, _index in widget["optgroups"]:
            html = format_html_join(
                "", '<option value="{}"{}>{}</option>', ((o["value"], flatatt(o["attrs"]), o["label"]) for o in options)
            )
            parts.append(format_html('<optgroup label="{}">{}</optgroup>', group_name, html) if group_name else html)
        options = format_html_join("", "{}", ((part,) for part in parts))
        return format_html('<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), options)


class CallFilterForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    agent = forms.ModelChoiceField(label=_("Agent"), queryset=User.objects.none(), required=False, widget=PlainSelect,
                                   empty_label=_("Any"))  # fmt: skip
    queue = forms.ModelChoiceField(label=_("Queue"), queryset=Queue.objects.none(), required=False, widget=PlainSelect,
                                   empty_label=_("Any"))  # fmt: skip
    disposition = forms.ChoiceField(
        label=_("Result"), choices=[("", _("Any"))] + list(Disposition.choices), required=False, widget=PlainSelect
    )
    direction = forms.ChoiceField(
        label=_("Direction"), choices=[("", _("Any"))] + list(Direction.choices), required=False, widget=PlainSelect
    )
    phone = forms.CharField(
        label=_("Phone number"),
        required=False,
        max_length=40,
        help_text=_("Exact number, as dialed (numbers are stored encrypted)."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        agents = User.objects.visible_to(user).agents()
        queues = Queue.objects.visible_to(user)
        if user.is_system_admin:
            # Every agent of every company would make a select of thousands: an admin picks the company first.
            self.fields = {
                "company": forms.ModelChoiceField(
                    label=_("Company"),
                    queryset=Company.objects.all(),
                    required=False,
                    empty_label=_("Any"),
                    widget=PlainSelect,
                ),
                **self.fields,
            }
            company_id = self.data.get("company") if self.is_bound else None
            company_id = parse_id(company_id)
            agents, queues = agents.filter(company_id=company_id), queues.filter(company_id=company_id)
            if company_id is None:
                self.fields["agent"].help_text = _("Choose a company first.")
                self.fields["queue"].help_text = _("Choose a company first.")
        self.fields["agent"].queryset = agents
        self.fields["queue"].queryset = queues
        if user.role == "AGENT":
            del self.fields["agent"]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        for name in ("date_from", "date_to"):
            day = cleaned.get(name)
            if day and not EARLIEST_DAY <= day <= LATEST_DAY:
                self.add_error(name, _("Choose a day between 1970 and 9000."))
        if start and end and start > end:
            self.add_error("date_to", _("The last day comes before the first day."))
        return cleaned

    def filters(self) -> CallFilters:
        data = self.cleaned_data
        agent, queue = data.get("agent"), data.get("queue")
        company = data.get("company")
        return CallFilters(
            company_id=company.pk if company else None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            agent_id=agent.pk if agent else None,
            queue_id=queue.pk if queue else None,
            disposition=data.get("disposition") or "",
            direction=data.get("direction") or "",
            phone=(data.get("phone") or "").strip(),
        )


class QueueForm(forms.ModelForm):
    class Meta:
        model = Queue
        fields = [
            "name",
            "number",
            "ring_timeout_seconds",
            "wrapup_seconds",
            "max_wait_seconds",
            "service_level_seconds",
            "members",
            "business_hours",
            "overflow_queue",
            "overflow_when_unstaffed",
            "is_active",
        ]
        widgets = {"members": forms.CheckboxSelectMultiple}
        help_texts = {"members": _("No one ticked: every agent of the company takes this queue's calls.")}

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company
        self.instance.company = company
        self.fields["members"].queryset = User.objects.agents().filter(company=company, is_active=True)
        self.fields["business_hours"].queryset = BusinessHours.objects.filter(company=company)
        self.fields["business_hours"].empty_label = _("Always open")
        others = Queue.objects.filter(company=company, is_active=True)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        self.fields["overflow_queue"].queryset = others.order_by("number")
        self.fields["overflow_queue"].empty_label = _("None: the call ends")

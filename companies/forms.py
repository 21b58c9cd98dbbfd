"""The company form; it says what is wrong, field by field."""

from zoneinfo import available_timezones

from django import forms
from django.utils.translation import gettext_lazy as _

from companies.models import Company


class CompanyForm(forms.ModelForm):
    business_number = forms.CharField(label=_("business registration number"), required=False, max_length=20)
    phone = forms.CharField(label=_("phone"), required=False, max_length=40)
    fax = forms.CharField(label=_("fax"), required=False, max_length=40)

    class Meta:
        model = Company
        fields = ["name", "address", "time_zone", "extension_start", "extension_end", "wrapup_seconds", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in ("business_number", "phone", "fax"):
                self.initial.setdefault(name, getattr(self.instance, name))

    def clean_time_zone(self):
        zone = self.cleaned_data["time_zone"]
        if zone not in available_timezones():
            raise forms.ValidationError(_("Use a time zone name such as Asia/Seoul."))
        return zone

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("extension_start") or "", cleaned.get("extension_end") or ""
        for name, value in (("extension_start", start), ("extension_end", end)):
            if value and not value.isdigit():
                self.add_error(name, _("An extension is 2 to 10 digits."))
        if bool(start) != bool(end):
            self.add_error("extension_end", _("Give both the first and the last extension, or neither."))
        elif start.isdigit() and end.isdigit() and int(start) > int(end):
            self.add_error("extension_end", _("The last extension comes before the first."))
        return cleaned

    def values(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in [*self.Meta.fields, "business_number", "phone", "fax"]}

"""The company form; it says what is wrong, field by field."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from companies.models import Company
from pbx.validators import business_number_validator, phone_validator


class CompanyForm(forms.ModelForm):
    business_number = forms.CharField(
        label=capfirst(_("business registration number")),
        required=False,
        max_length=20,
        validators=[business_number_validator],
    )
    phone = forms.CharField(label=capfirst(_("phone")), required=False, max_length=40, validators=[phone_validator])
    fax = forms.CharField(label=capfirst(_("fax")), required=False, max_length=40, validators=[phone_validator])

    class Meta:
        model = Company
        fields = [
            "name", "address", "time_zone", "extension_start", "extension_end", "wrapup_seconds",
            "record_retention_days", "is_active",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in ("business_number", "phone", "fax"):
                self.initial.setdefault(name, getattr(self.instance, name))

    def values(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in [*self.Meta.fields, "business_number", "phone", "fax"]}

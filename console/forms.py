"""Forms of the console pages; each says what is wrong, field by field."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from companies.models import PauseReason


class PauseReasonForm(forms.ModelForm):
    class Meta:
        model = PauseReason
        fields = ["name_ko", "name_en", "position", "max_minutes", "is_active"]

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company

    def clean_is_active(self):
        active = self.cleaned_data["is_active"]
        if self.instance.pk and self.instance.is_automatic and not active:
            raise forms.ValidationError(_("An automatic reason cannot be switched off: the product sets it."))
        return active

    def clean(self):
        cleaned = super().clean()
        name_ko, name_en = cleaned.get("name_ko"), cleaned.get("name_en")
        others = PauseReason.objects.filter(company=self.company).exclude(pk=self.instance.pk)
        if name_ko and others.filter(name_ko=name_ko).exists():
            self.add_error("name_ko", _("The company already has a reason with this name."))
        if name_en and others.filter(name_en__iexact=name_en).exists():
            self.add_error("name_en", _("The company already has a reason with this name."))
        return cleaned

    def save(self, commit=True):
        reason = super().save(commit=False)
        if not reason.pk:
            reason.company = self.company
            reason.code = f"CUSTOM_{uuid.uuid4().hex[:12].upper()}"
        if commit:
            reason.save()
        return reason

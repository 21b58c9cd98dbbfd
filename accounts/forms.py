"""Forms of the user pages; each says what is wrong, field by field."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User, extension_validator
from companies.models import Company
from pbx.validators import phone_validator


class SignInForm(AuthenticationForm):
    # Django's says "both fields may be case-sensitive"; here only the password is (usernames match in any capitals).
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Please enter a correct username and password. Note that the password is case-sensitive."),
    }


def _extension_errors(extension: str, company: Company | None, user: User | None) -> list[str]:
    errors = []
    if not extension:
        return errors
    others = User.objects.filter(extension=extension)
    if user is not None and user.pk:
        others = others.exclude(pk=user.pk)
    if others.exists():
        errors.append(_("This extension is already assigned."))
    return errors


class _UserFields(forms.ModelForm):
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40, validators=[phone_validator])
    extension = forms.CharField(label=_("SIP extension"), required=False, validators=[extension_validator])

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        if actor.is_system_admin:
            self.fields["company"].queryset = Company.objects.all()
            self.fields["company"].required = False
        else:
            # A manager manages their own company's agents: role and company are fixed.
            del self.fields["role"]
            del self.fields["company"]
            self.instance.company = actor.company
            if not self.instance.pk:
                self.instance.role = Role.AGENT

    def _company(self):
        if self.actor.is_system_admin:
            return self.cleaned_data.get("company")
        return self.actor.company

    def clean(self):
        cleaned = super().clean()
        company = self._company()  # a manager or agent without one: the model's own check says so
        extension = cleaned.get("extension") or ""
        for error in _extension_errors(extension, company, self.instance):
            self.add_error("extension", error)
        # The field is the form's own, not the model's: set it, so the model's rules (companies/numbering.py) judge
        # the extension asked for, with the role and company asked for, and say so once.
        self.instance.extension = extension or None
        return cleaned


class UserCreateForm(_UserFields):
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "role", "company"]

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            probe = User(username=cleaned.get("username") or "", email=cleaned.get("email") or "")
            try:
                validate_password(p1, probe)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class UserEditForm(_UserFields):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "role", "company"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("phone", self.instance.phone)
        self.initial.setdefault("extension", self.instance.extension or "")


class PasswordResetForm(forms.Form):
    password1 = forms.CharField(label=_("New password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("New password again"), widget=forms.PasswordInput, strip=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            try:
                validate_password(p1, self.user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class OwnPasswordChangeForm(PasswordResetForm):
    """A signed-in user's new password of their own: the current one first, so a screen left unlocked is not enough to
    take the account over."""

    current = forms.CharField(label=_("Current password"), widget=forms.PasswordInput, strip=False)
    field_order = ["current", "password1", "password2"]

    def clean_current(self):
        current = self.cleaned_data["current"]
        if not self.user.check_password(current):
            raise forms.ValidationError(_("That is not your current password."), code="wrong_current")
        return current

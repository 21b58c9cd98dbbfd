"""Validators for numbers people type in forms and commands (the API's schemas say the same in their patterns)."""

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

phone_validator = RegexValidator(r"^[0-9+() .-]*$", _("A phone number holds only digits, spaces and + ( ) . -"))
business_number_validator = RegexValidator(r"^[0-9-]*$", _("A business registration number holds only digits and -"))

"""Validators for numbers people type, shared by the forms, the commands and the API's schemas."""

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

PHONE_PATTERN = r"^[0-9+() .-]*$"
BUSINESS_NUMBER_PATTERN = r"^[0-9-]*$"

phone_validator = RegexValidator(PHONE_PATTERN, _("A phone number holds only digits, spaces and + ( ) . -"))
business_number_validator = RegexValidator(
    BUSINESS_NUMBER_PATTERN, _("A business registration number holds only digits and -")
)

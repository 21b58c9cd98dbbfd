"""Companies (the tenants) and their pause reasons."""

from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import extension_validator
from pbx.encryption import BlindIndexField, EncryptedTextField, blind_index

# A month at least, so a slip of the keyboard cannot wipe the records a dispute needs; ten years at most.
MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 30, 3650
MAX_PAUSE_MINUTES = 8 * 60  # a working day


def time_zone_validator(name: str) -> None:
    # "localtime" is in the list too, but would tie the company to whatever zone the server machine has.
    if name not in available_timezones() or name == "localtime":
        raise ValidationError(_("Use a time zone name such as Asia/Seoul."))


class CompanyQuerySet(models.QuerySet):
    def visible_to(self, user):
        """System admins see every company; everyone else only their own."""
        if not user.is_authenticated:
            return self.none()
        if user.is_system_admin:
            return self
        return self.filter(pk=user.company_id)

    def active(self):
        return self.filter(is_active=True)

    def with_phone(self, phone: str):
        """Exact phone search through the blind index (the phone itself is encrypted)."""
        return self.filter(phone_index=blind_index(phone))


class Company(models.Model):
    name = models.CharField(_("name"), max_length=200)
    business_number = EncryptedTextField(_("business registration number"), blank=True, default="")
    business_number_index = BlindIndexField(source="business_number")
    phone = EncryptedTextField(_("phone"), blank=True, default="")
    phone_index = BlindIndexField(source="phone")
    fax = EncryptedTextField(_("fax"), blank=True, default="")
    fax_index = BlindIndexField(source="fax")
    address = models.CharField(_("address"), max_length=300, blank=True, default="")
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Seoul", validators=[time_zone_validator])
    extension_start = models.CharField(
        _("first extension"), max_length=10, blank=True, default="", validators=[extension_validator]
    )
    extension_end = models.CharField(
        _("last extension"), max_length=10, blank=True, default="", validators=[extension_validator]
    )
    # Wrap-up after a call dialed straight to an agent's extension (queues have their own).
    wrapup_seconds = models.PositiveSmallIntegerField(_("wrap-up after direct calls (s)"), default=10)
    # Callers' numbers and agents' working hours are personal data, to be destroyed once their purpose is served
    # (PIPA, article 21): each company says how long it keeps them (calls.services_retention.records_prune).
    record_retention_days = models.PositiveIntegerField(
        _("keep call records (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_RETENTION_DAYS), MaxValueValidator(MAX_RETENTION_DAYS)],
        help_text=_(
            "Calls (with their timelines, offers and notes) and agents' state changes older than this are deleted "
            "every night. Empty: kept until deleted by hand."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")

    def __str__(self):
        return self.name

    def clean(self):
        from companies.numbering import range_problems

        super().clean()
        errors = range_problems(self)
        name = (self.name or "").strip()
        if not name:
            errors["name"] = [_("Give the company a name.")]
        elif Company.objects.filter(name__iexact=name).exclude(pk=self.pk).exists():
            errors["name"] = [_("A company named '%(name)s' exists already.") % {"name": name}]
        if errors:
            raise ValidationError(errors)


class PauseReasonQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_system_admin:
            return self
        return self.filter(company_id=user.company_id)

    def selectable(self):
        """Reasons a person may pick; the automatic ones are set only by the product."""
        return self.filter(is_active=True, is_automatic=False)


class PauseReason(models.Model):
    """Why an agent is AWAY: each company keeps its own list."""

    class Code(models.TextChoices):
        LUNCH = "LUNCH", _("Lunch")
        BREAK = "BREAK", _("Break")
        MEETING = "MEETING", _("Meeting")
        OTHER = "OTHER", _("Other")
        MISSED_OFFER = "MISSED_OFFER", _("Missed call (automatic)")
        ENABLED_AGAIN = "ENABLED_AGAIN", _("Enabled again (automatic)")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="pause_reasons")
    code = models.CharField(_("code"), max_length=40)
    name_ko = models.CharField(_("Korean name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60)
    is_automatic = models.BooleanField(_("set by the product"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # Breaks have agreed lengths; the wallboard (and the agent's own console) flag an agent away longer than this.
    max_minutes = models.PositiveSmallIntegerField(
        _("limit (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PAUSE_MINUTES)],
        help_text=_("An agent away for this reason longer than this is flagged on the wallboard. Empty: no limit."),
    )

    objects = PauseReasonQuerySet.as_manager()

    class Meta:
        ordering = ["company", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="pause_reason_code_per_company")]
        verbose_name = _("pause reason")
        verbose_name_plural = _("pause reasons")

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "ko").startswith("en") else self.name_ko

    @property
    def limit_seconds(self) -> int | None:
        """max_minutes in seconds (None: no limit)."""
        return self.max_minutes * 60 if self.max_minutes else None

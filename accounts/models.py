"""Users (system admins, managers, agents), their activity audit log and their logins."""

import re
import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.states import ActivityState, ChangeSource
from pbx.encryption import BlindIndexField, EncryptedTextField, blind_index

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")


class Role(models.TextChoices):
    SYSTEM_ADMIN = "SYSTEM_ADMIN", _("System admin")
    MANAGER = "MANAGER", _("Manager")
    AGENT = "AGENT", _("Agent")


class UserQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Admins see everyone, managers their company, agents only themselves."""
        if not user.is_authenticated:
            return self.none()
        if user.is_system_admin:
            return self
        if user.role == Role.MANAGER:
            return self.filter(company_id=user.company_id)
        return self.filter(pk=user.pk)

    def agents(self):
        return self.filter(role=Role.AGENT)

    def of_company(self, company_id):
        return self.filter(company_id=company_id)

    def with_phone(self, phone: str):
        return self.filter(phone_index=blind_index(phone))

    def by_username(self, username: str):
        """The user of this username, whatever its capitals (served by the unique index on lower(username))."""
        return self.alias(username_lower=Lower("username")).filter(username_lower=Lower(Value(username)))


class PbxUserManager(UserManager.from_queryset(UserQuerySet)):
    def get_by_natural_key(self, username):
        # Sign-in: usernames are unique ignoring capitals, so "Agent1000" is agent1000.
        return self.by_username(username).get()

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        # Django's createsuperuser (and tools built on it) would otherwise make an AGENT without a company.
        extra_fields.setdefault("role", Role.SYSTEM_ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


extension_validator = RegexValidator(r"^[0-9]{2,10}$", _("An extension is 2 to 10 digits."))


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    company = models.ForeignKey(
        "companies.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        db_index=False,  # the index of Meta leads with it; a user's row is written at each state change
    )
    extension = models.CharField(
        _("SIP extension"),
        max_length=10,
        null=True,
        blank=True,
        unique=True,
        validators=[extension_validator],
    )
    phone = EncryptedTextField(_("phone"), blank=True, default="")
    phone_index = BlindIndexField(source="phone", db_index=False)  # Meta: user_phone_index, no LIKE index
    # The SIP secret the agent's phone registers with; rendered into pjsip.conf, never shown after creation.
    sip_secret = EncryptedTextField(_("SIP secret"), blank=True, default="", editable=False)

    activity_state = models.CharField(
        _("activity state"), max_length=20, choices=ActivityState.choices, default=ActivityState.READY
    )
    activity_changed_at = models.DateTimeField(_("state since"), default=timezone.now)
    pause_reason = models.ForeignKey(
        "companies.PauseReason",
        verbose_name=_("pause reason"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # What the agent chose for "after this call"; applied when wrap-up ends.
    after_call_state = models.CharField(
        _("after this call"), max_length=20, choices=ActivityState.choices, blank=True, default=""
    )
    after_call_reason = models.ForeignKey(
        "companies.PauseReason", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Whether the agent's SIP endpoint is registered, as Asterisk last told us (EndpointStateChange).
    endpoint_online = models.BooleanField(_("phone registered"), default=True)

    objects = PbxUserManager()

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(role="SYSTEM_ADMIN") | Q(company__isnull=False),
                name="manager_and_agent_need_company",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "activity_state", "activity_changed_at"]),
            models.Index(fields=["phone_index"], name="user_phone_index"),
        ]

    def __str__(self):
        return self.get_full_name() or self.username

    def get_full_name(self) -> str:
        """A Korean name as Koreans write it, family name first and no space (이서연); others given name first."""
        first, last = self.first_name.strip(), self.last_name.strip()
        if _HANGUL.search(first + last):
            return f"{last}{first}"
        return f"{first} {last}".strip()

    @property
    def is_system_admin(self) -> bool:
        return self.is_authenticated and self.role == Role.SYSTEM_ADMIN

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_agent(self) -> bool:
        return self.role == Role.AGENT

    @property
    def away_limit_seconds(self) -> int | None:
        """How long this AWAY may last by its reason's limit; None when not away or the reason has none. (Read with
        the pause reason selected, as the wallboard and the console do.)"""
        reason = self.pause_reason if self.activity_state == ActivityState.AWAY else None
        return reason.limit_seconds if reason is not None else None

    @property
    def is_claimable(self) -> bool:
        """May be offered a call right now."""
        return (
            self.role == Role.AGENT
            and self.is_active
            and self.endpoint_online
            and self.activity_state == ActivityState.READY
        )

    def clean(self):
        from companies.numbering import extension_problems

        super().clean()
        if self.role != Role.SYSTEM_ADMIN and not self.company_id:
            raise ValidationError({"company": _("Managers and agents belong to a company.")})
        if self.role == Role.SYSTEM_ADMIN and self.company_id:
            # A system admin sees every company; one set in a company would show up on its wallboard and roster.
            raise ValidationError({"company": _("System admins belong to no company.")})
        if self.role == Role.SYSTEM_ADMIN and self.extension:
            # Calls are routed to agents and managers only: an admin's number would ring nowhere, yet hold it.
            raise ValidationError({"extension": _("System admins have no extension.")})
        errors = {}
        # "Kim" and "kim" would be two accounts people cannot tell apart (a unique index on lower(username) holds it).
        alike = User.objects.by_username(self.username or "").exclude(username=self.username)  # exact: the field's
        if self.username and alike.exclude(pk=self.pk).exists():
            errors["username"] = [self._meta.get_field("username").error_messages["unique"]]
        if self.extension and (problems := extension_problems(self.extension, company=self.company)):
            errors["extension"] = problems
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        # Django admin access follows the role: only system admins are staff.
        self.is_staff = self.is_superuser = self.role == Role.SYSTEM_ADMIN
        if self.extension == "":
            self.extension = None
        if self.extension and not self.sip_secret:
            # Every extension, however it was assigned (console, API, admin, import), can register a phone.
            self.sip_secret = secrets.token_urlsafe(18)
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "sip_secret"}
        super().save(*args, **kwargs)


class ActivityChangeQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_system_admin:
            return self
        if user.role == Role.MANAGER:
            return self.filter(company_id=user.company_id)
        return self.filter(agent_id=user.pk)


class ActivityChange(models.Model):
    """One row per activity change: the audit log (who or what, from, to, when, why)."""

    # The keys lead the indexes of Meta, and get none of their own: one row is written per state change.
    agent = models.ForeignKey(
        User, verbose_name=_("agent"), on_delete=models.CASCADE, related_name="activity_changes", db_index=False
    )
    company = models.ForeignKey(
        "companies.Company",
        verbose_name=_("company"),
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        db_index=False,
    )
    from_state = models.CharField(_("from"), max_length=20, choices=ActivityState.choices)
    to_state = models.CharField(_("to"), max_length=20, choices=ActivityState.choices)
    pause_reason = models.ForeignKey(
        "companies.PauseReason",
        verbose_name=_("pause reason"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    source = models.CharField(_("changed by"), max_length=20, choices=ChangeSource.choices)
    actor = models.ForeignKey(
        User, verbose_name=_("person"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now, db_index=True)
    # Seconds spent in from_state, kept so time-per-state reports need no window functions.
    seconds_in_previous = models.FloatField(_("seconds in the previous state"), default=0)

    objects = ActivityChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("activity change")
        verbose_name_plural = _("activity changes")
        indexes = [
            models.Index(fields=["agent", "changed_at"]),
            models.Index(fields=["company", "changed_at"]),
        ]

    def __str__(self):
        return f"{self.agent}: {self.from_state} → {self.to_state}"


class AuthEvent(models.Model):
    """Logins, logouts and refused logins, for the security record."""

    class Kind(models.TextChoices):
        LOGIN = "LOGIN", _("Login")
        LOGOUT = "LOGOUT", _("Logout")
        FAILED = "FAILED", _("Failed login")
        RATE_LIMITED = "RATE_LIMITED", _("Rate limited")

    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    username = models.CharField(_("username"), max_length=150, blank=True, default="")
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True, default="")
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("login event")
        verbose_name_plural = _("login events")

    def __str__(self):
        return f"{self.kind} {self.username}"

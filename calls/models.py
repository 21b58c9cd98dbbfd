"""Queues, their business hours, call records (one per call), the offers made to agents, and each call's
event timeline."""

import contextlib

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calls.business_hours import (
    WEEKDAYS,
    HoursProblem,
    OpeningHours,
    format_ranges,
    parse_ranges,
    special_days_read,
)
from pbx.encryption import BlindIndexField, EncryptedTextField, blind_index


def _tenant_filter(queryset, user, *, agent_field: str | None):
    if not user.is_authenticated:
        return queryset.none()
    if user.is_system_admin:
        return queryset
    if user.role == "MANAGER" or agent_field is None:
        return queryset.filter(company_id=user.company_id)
    return queryset.filter(company_id=user.company_id, **{agent_field: user.pk})


class QueueQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _tenant_filter(self, user, agent_field=None)


def validate_ranges(text: str) -> None:
    try:
        parse_ranges(text)
    except HoursProblem as problem:
        raise ValidationError(str(problem)) from problem


DAY_RANGES_MAX = 200


def _day_ranges(label):
    return models.CharField(label, max_length=DAY_RANGES_MAX, blank=True, default="", validators=[validate_ranges])


class BusinessHoursQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _tenant_filter(self, user, agent_field=None)


class BusinessHours(models.Model):
    """A company's opening hours, given to its queues; a queue without any is always open.

    Each weekday holds its ranges as text ("09:00-12:00, 13:00-18:00", blank: closed all day), read by
    calls.business_hours, in the company's time zone."""

    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="business_hours")
    name = models.CharField(_("name"), max_length=100)
    monday = _day_ranges(_("Monday"))
    tuesday = _day_ranges(_("Tuesday"))
    wednesday = _day_ranges(_("Wednesday"))
    thursday = _day_ranges(_("Thursday"))
    friday = _day_ranges(_("Friday"))
    saturday = _day_ranges(_("Saturday"))
    sunday = _day_ranges(_("Sunday"))

    objects = BusinessHoursQuerySet.as_manager()

    class Meta:
        ordering = ["company", "name"]
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")
        constraints = [models.UniqueConstraint(Lower("name"), "company", name="business_hours_name_once_per_company")]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        too_long = {}
        for day in WEEKDAYS:
            # Stored as read back, so every page and the API show one spelling ("9:00~18:00" → "09:00-18:00").
            with contextlib.suppress(HoursProblem):
                setattr(self, day, format_ranges(parse_ranges(getattr(self, day))))
            if len(getattr(self, day)) > DAY_RANGES_MAX:
                too_long[day] = _("Too many ranges: at most %(n)d characters once written as 09:00-18:00.") % {
                    "n": DAY_RANGES_MAX
                }
        if too_long:
            raise ValidationError(too_long)
        if self.name and self.company_id:
            same = BusinessHours.objects.filter(company_id=self.company_id, name__iexact=self.name).exclude(pk=self.pk)
            if same.exists():
                raise ValidationError({"name": _("This company already has business hours with this name.")})

    def validate_constraints(self, exclude=None):
        super().validate_constraints(exclude={*(exclude or ()), "name"})

    def opening_hours(self, special_days=None) -> OpeningHours:
        """The hours as the telephony core reads them; `special_days`, (day, ranges) pairs of its closed days, saves
        a query when already known."""
        if special_days is None:
            special_days = self.closed_days.values_list("day", "ranges")
        return OpeningHours(
            zone=self.company.time_zone,
            weekly=tuple(parse_ranges(getattr(self, day)) for day in WEEKDAYS),
            special_days=special_days_read(special_days),
        )


class ClosedDay(models.Model):
    """A day whose hours are not its weekday's: closed all day (a public holiday, a company day off), or, with
    ranges, open other hours (New Year's Eve until noon)."""

    hours = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="closed_days")
    day = models.DateField(_("day"))
    ranges = _day_ranges(_("open hours"))  # blank: closed all day
    name = models.CharField(_("name"), max_length=100, blank=True, default="")

    class Meta:
        ordering = ["day"]
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        constraints = [models.UniqueConstraint(fields=["hours", "day"], name="closed_day_once")]

    def __str__(self):
        return " ".join(part for part in (f"{self.day:%Y-%m-%d}", self.ranges, self.name) if part)


class Queue(models.Model):
    class Strategy(models.TextChoices):
        LONGEST_IDLE = "LONGEST_IDLE", _("Longest idle agent")

    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="queues")
    name = models.CharField(_("name"), max_length=100)
    number = models.CharField(
        _("number"),
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[0-9]{2,20}$", _("A queue number is 2 to 20 digits."))],
        error_messages={"unique": _("Another queue already has this number.")},
    )
    ring_timeout_seconds = models.PositiveSmallIntegerField(
        _("ring timeout (s)"), default=15, validators=[MinValueValidator(5), MaxValueValidator(300)]
    )
    wrapup_seconds = models.PositiveSmallIntegerField(
        _("wrap-up (s)"), default=10, validators=[MaxValueValidator(3600)]
    )
    max_wait_seconds = models.PositiveIntegerField(
        _("max wait (s)"), default=300, validators=[MinValueValidator(10), MaxValueValidator(86400)]
    )
    service_level_seconds = models.PositiveSmallIntegerField(
        _("service level threshold (s)"),
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(3600)],
    )
    strategy = models.CharField(_("strategy"), max_length=20, choices=Strategy.choices, default=Strategy.LONGEST_IDLE)
    # Empty means every agent of the company takes this queue's calls.
    members = models.ManyToManyField("accounts.User", blank=True, related_name="queues", verbose_name=_("agents"))
    is_active = models.BooleanField(_("active"), default=True)
    overflow_queue = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("overflow to"),
        help_text=_(
            "Callers still waiting at the maximum wait move to this queue, ahead of its callers who called later. "
            "None: the call ends at the maximum wait."
        ),
    )
    overflow_when_unstaffed = models.BooleanField(
        _("move on at once when nobody works the queue"),
        default=False,
        help_text=_(
            "With an overflow queue: while none of this queue's agents is ready, ringing, on a call or in wrap-up, "
            "callers move on to it at once instead of waiting for the maximum wait."
        ),
    )
    business_hours = models.ForeignKey(
        BusinessHours,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="queues",
        verbose_name=_("business hours"),
        help_text=_("Outside them callers hear the closed message. None: always open."),
    )

    objects = QueueQuerySet.as_manager()

    class Meta:
        ordering = ["company", "number"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        constraints = [
            # Wallboards, reports and the call log name a queue by its name: two alike in one company are two
            # rows no one can tell apart.
            models.UniqueConstraint(Lower("name"), "company", name="queue_name_once_per_company"),
        ]

    def __str__(self):
        return f"{self.name} ({self.number})"

    def clean(self):
        from companies.numbering import queue_number_problems

        super().clean()
        problems = {}
        if self.number and (number_problems := queue_number_problems(self.number, self.company_id)):
            problems["number"] = number_problems
        if self.name and self.company_id and self._name_taken():
            problems["name"] = _("Another queue of this company already has this name.")
        if self.business_hours_id and self.company_id and self.business_hours.company_id != self.company_id:
            problems["business_hours"] = _("These business hours belong to another company.")
        if self.overflow_queue_id and (problem := self._overflow_problem()):
            problems["overflow_queue"] = problem
        if problems:
            raise ValidationError(problems)

    def _overflow_problem(self) -> str:
        target = self.overflow_queue
        if self.pk and target.pk == self.pk:
            return _("A queue cannot overflow to itself.")
        if self.company_id and target.company_id != self.company_id:
            return _("That queue belongs to another company.")
        return ""

    def validate_constraints(self, exclude=None):
        # clean() says it on the name field; Django's own check would say it again, above the admin's form.
        super().validate_constraints(exclude={*(exclude or ()), "name"})

    def _name_taken(self) -> bool:
        # The form leaves the company out, so Django's own constraint check skips this one: it is checked here.
        same = Queue.objects.filter(company_id=self.company_id, name__iexact=self.name)
        return same.exclude(pk=self.pk).exists() if self.pk else same.exists()


class Direction(models.TextChoices):
    INBOUND = "INBOUND", _("Inbound")
    INTERNAL = "INTERNAL", _("Internal")
    OUTBOUND = "OUTBOUND", _("Outbound")


class Disposition(models.TextChoices):
    ANSWERED = "ANSWERED", _("Answered")
    NO_ANSWER = "NO_ANSWER", _("No answer")
    BUSY = "BUSY", _("Busy")
    FAILED = "FAILED", _("Failed")
    ABANDONED = "ABANDONED", _("Abandoned")
    CANCELLED = "CANCELLED", _("Cancelled")
    CLOSED = "CLOSED", _("After hours")  # a queue call that came outside the queue's business hours
    BLOCKED = "BLOCKED", _("Blocked")  # from a number the company blocked


class CallState(models.TextChoices):
    WAITING = "WAITING", _("Waiting in queue")
    RINGING = "RINGING", _("Ringing an agent")
    CONNECTED = "CONNECTED", _("Connected")
    ENDED = "ENDED", _("Ended")


class HangupSide(models.TextChoices):
    CALLER = "CALLER", _("Caller")
    AGENT = "AGENT", _("Agent")
    SYSTEM = "SYSTEM", _("System")


class CallQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Admins see every call, managers their company's, agents the calls they handled."""
        return _tenant_filter(self, user, agent_field="agent_id")

    def in_progress(self):
        return self.exclude(state=CallState.ENDED)

    def with_caller_number(self, number: str):
        return self.filter(caller_number_index=blind_index(number))


class Call(models.Model):
    # A call's row is written four or five times (started, rung, answered, ended, wrapped up), and every write of an
    # indexed column adds an entry to every index: the foreign keys that lead an index of Meta.indexes get no index
    # of their own, and unique or searched strings no pattern (LIKE) index.
    company = models.ForeignKey(
        "companies.Company", on_delete=models.PROTECT, null=True, blank=True, related_name="calls", db_index=False
    )
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.INBOUND)
    caller_number = EncryptedTextField(_("caller number"), blank=True, default="")
    caller_number_index = BlindIndexField(source="caller_number", db_index=False)  # Meta: call_caller_number
    caller_name = EncryptedTextField(_("caller name"), blank=True, default="")
    dialed_number = models.CharField(_("dialed number"), max_length=40, blank=True, default="")
    queue = models.ForeignKey(
        Queue, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls", db_index=False
    )
    agent = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="calls", db_index=False
    )
    # The caller's Asterisk channel: the key that makes every write for this call idempotent (Meta: call_channel_once).
    caller_channel_id = models.CharField(max_length=150)
    linkedid = models.CharField(max_length=150, blank=True, default="")
    bridge_id = models.CharField(max_length=150, blank=True, default="")

    state = models.CharField(_("state"), max_length=12, choices=CallState.choices, default=CallState.WAITING)
    enqueued_at = models.DateTimeField(_("started"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    wait_seconds = models.FloatField(_("wait (s)"), null=True, blank=True)
    talk_seconds = models.FloatField(_("talk (s)"), null=True, blank=True)
    wrapup_seconds = models.FloatField(_("wrap-up (s)"), null=True, blank=True)
    disposition = models.CharField(_("disposition"), max_length=12, choices=Disposition.choices, blank=True, default="")
    hangup_cause = models.PositiveSmallIntegerField(_("hangup cause"), null=True, blank=True)
    hangup_cause_text = models.CharField(_("hangup cause text"), max_length=100, blank=True, default="")
    hangup_by = models.CharField(_("hung up by"), max_length=10, choices=HangupSide.choices, blank=True, default="")
    # Closed by the reconnect check rather than by an event: its end time is when the loss was noticed.
    reconciled = models.BooleanField(_("closed by reconciliation"), default=False)
    callback_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="callbacks")
    # The queue the caller first waited in, when its maximum wait moved them on (`queue` is where they went).
    overflowed_from = models.ForeignKey(
        Queue, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False,
        verbose_name=_("overflowed from"),
    )  # fmt: skip
    updated_at = models.DateTimeField(auto_now=True)

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["-enqueued_at", "-id"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [models.UniqueConstraint(fields=["caller_channel_id"], name="call_channel_once")]
        indexes = [
            models.Index(fields=["caller_number_index"], name="call_caller_number"),
            models.Index(fields=["company", "-enqueued_at", "-id"], name="call_company_time"),
            models.Index(fields=["agent", "-enqueued_at", "-id"], name="call_agent_time"),
            models.Index(fields=["queue", "-enqueued_at", "-id"], name="call_queue_time"),
            models.Index(fields=["-enqueued_at", "-id"], name="call_time"),
            # The call log filtered by result, newest first: a result few calls have would otherwise be looked for
            # along `call_time` through every call (866 ms for 2,000,000 calls when the company has none).
            models.Index(fields=["company", "disposition", "-enqueued_at", "-id"], name="call_company_result_time"),
            models.Index(fields=["disposition", "-enqueued_at", "-id"], name="call_result_time"),
            models.Index(fields=["state"], condition=~Q(state="ENDED"), name="call_in_progress"),
            # Few calls overflow: a partial index costs the writer nothing for the others.
            models.Index(
                fields=["overflowed_from", "-enqueued_at"],
                condition=Q(overflowed_from__isnull=False),
                name="call_overflowed_from_time",
            ),
            # Each wrap-up's end records its length on the agent's last answered call: found in the index, not by
            # sorting the agent's whole history (58 ms for an agent with 100,000 calls, inside the writer's batch).
            models.Index(
                fields=["agent", "-ended_at", "-id"],
                condition=Q(state="ENDED", answered_at__isnull=False),
                name="call_agent_last_answered",
            ),
        ]

    def __str__(self):
        return f"call {self.pk} {self.dialed_number} {self.disposition or self.state}"


class OfferResult(models.TextChoices):
    ANSWERED = "ANSWERED", _("Answered")
    NO_ANSWER = "NO_ANSWER", _("No answer")
    BUSY = "BUSY", _("Busy")
    UNREACHABLE = "UNREACHABLE", _("Phone not registered")
    FAILED = "FAILED", _("Failed")
    WITHDRAWN = "WITHDRAWN", _("Caller left")


class OfferQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _tenant_filter(self, user, agent_field="agent_id")

    def missed(self):
        return self.filter(result__in=[OfferResult.NO_ANSWER, OfferResult.BUSY, OfferResult.UNREACHABLE])


class Offer(models.Model):
    """One attempt to ring one agent for a call: the leg we originate, under an id chosen before the request."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="offers")
    # As for Call, the keys that lead an index get none of their own: fewer indexes to write per offer, and the
    # planner no longer picks the company's narrower index for the wallboard's query of the day.
    company = models.ForeignKey(
        "companies.Company", on_delete=models.CASCADE, null=True, related_name="+", db_index=False
    )
    agent = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="offers", db_index=False
    )
    channel_id = models.CharField(max_length=150)  # Meta: offer_channel_once
    offered_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=12, choices=OfferResult.choices, blank=True, default="")
    hangup_cause = models.PositiveSmallIntegerField(null=True, blank=True)

    objects = OfferQuerySet.as_manager()

    class Meta:
        ordering = ["offered_at", "id"]
        constraints = [models.UniqueConstraint(fields=["channel_id"], name="offer_channel_once")]
        indexes = [
            models.Index(fields=["agent", "offered_at"]),
            # The wallboard's missed offers of the day, per company: without it, a scan of every offer the company
            # ever made (115 ms on both cores for 1,000,000 offers), once per figures refresh.
            models.Index(fields=["company", "offered_at"], name="offer_company_time"),
        ]

    def __str__(self):
        return f"offer {self.channel_id} → {self.agent_id} {self.result}"


class CallEvent(models.Model):
    """The call's timeline: ARI events and our own decisions, in order; `key` makes a repeated event a no-op."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events", db_index=False)  # call_event_once
    at = models.DateTimeField()
    kind = models.CharField(max_length=40)
    channel_id = models.CharField(max_length=150, blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)
    key = models.CharField(max_length=300)

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["call", "key"], name="call_event_once")]

    def __str__(self):
        return f"{self.at:%H:%M:%S} {self.kind} {self.channel_id}"


# Enough for what an agent writes in wrap-up; a CRM's free text is not kept here.
NOTE_MAX_CHARS = 2000


class CallNote(models.Model):
    """What people wrote about a call (the agent's wrap-up notes), one text per call. Encrypted: callers tell agents
    their names, addresses and troubles. A table of its own, so the telephony engine's writes to the call's row (many
    a second) never meet a person editing a note."""

    call = models.OneToOneField(Call, on_delete=models.CASCADE, primary_key=True, related_name="note")
    text = EncryptedTextField(_("note"), blank=True, default="")
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )

    class Meta:
        verbose_name = _("call note")
        verbose_name_plural = _("call notes")

    def __str__(self):
        return f"note of call {self.call_id}"


class BlockedCallerQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _tenant_filter(self, user, agent_field=None)

    def in_force(self, now=None):
        """Blocks that still hold: without an end, or ending later than now."""
        return self.filter(Q(until__isnull=True) | Q(until__gt=now or timezone.now()))


class BlockedCaller(models.Model):
    """A number a company refuses calls from (an abusive caller, a robocaller): their calls to its queues and agents
    hear the blocked message and are recorded as blocked, no agent ever rung. Matched by blind index, as the call
    log's phone search is, so +82 10-… and 010-… are one number."""

    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="blocked_callers")
    number = EncryptedTextField(_("number"))
    number_index = BlindIndexField(source="number", db_index=False)  # Meta: blocked_once
    reason = models.CharField(_("reason"), max_length=200, blank=True, default="")
    blocked_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    blocked_at = models.DateTimeField(_("blocked"), default=timezone.now)
    until = models.DateTimeField(_("until"), null=True, blank=True)  # None: until someone unblocks

    objects = BlockedCallerQuerySet.as_manager()

    class Meta:
        ordering = ["-blocked_at", "-id"]
        verbose_name = _("blocked caller")
        verbose_name_plural = _("blocked callers")
        constraints = [models.UniqueConstraint(fields=["company", "number_index"], name="blocked_once")]

    def __str__(self):
        return f"blocked caller {self.pk}"


class AbuseReportQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _tenant_filter(self, user, agent_field="reported_by_id")

    def open(self):
        return self.filter(handled_at__isnull=True)


class AbuseReport(models.Model):
    """An agent's report of an abusive caller on one of their calls, for a manager to block the number or dismiss.
    Agents who take abuse on the phone may not block numbers themselves; this puts the call in front of someone who
    may, the same day."""

    class Outcome(models.TextChoices):
        BLOCKED = "BLOCKED", _("Number blocked")
        DISMISSED = "DISMISSED", _("Dismissed")

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="abuse_report")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+")
    reported_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("reported by")
    )
    reason = models.CharField(_("reason"), max_length=200)
    reported_at = models.DateTimeField(_("reported"), default=timezone.now)
    handled_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True, default="")

    objects = AbuseReportQuerySet.as_manager()

    class Meta:
        ordering = ["-reported_at", "-id"]
        verbose_name = _("abuse report")
        verbose_name_plural = _("abuse reports")
        indexes = [models.Index(fields=["company", "-reported_at"], condition=Q(handled_at__isnull=True),
                                name="abuse_report_open")]  # fmt: skip

    def __str__(self):
        return f"abuse report on call {self.call_id}"

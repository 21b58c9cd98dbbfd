"""Every write the API makes: bearer tokens, password logins, and user, company, business hours, queue, blocked number
and abuse report changes with their RBAC rules.

The rules here are the console's rules: managers manage only their own company's agents (and may change their own
name, email and phone), business hours, queues and blocked numbers, and answer its abuse reports; only system admins
create or change managers and admins or touch companies, "delete" deactivates a user. Routers call these and translate
nothing but input.
"""

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import jwt
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.hashers import check_password, get_hasher, make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.security import auth_event_record, client_ip, login_failed, login_is_rate_limited
from accounts.services import (
    Actor,
    activity_change,
    agent_enabled_again,
    roster_changed,
    user_create,
    user_locked,
    user_reassign,
    user_set_password,
)
from accounts.states import ActivityState
from api.errors import ApiError, Conflict
from api.models import ApiToken
from calls.business_hours import WEEKDAYS
from calls.forms import QueueForm
from calls.forms_hours import MAX_CLOSED_DAYS, BusinessHoursForm, SpecialDay
from calls.models import AbuseReport, BlockedCaller, BusinessHours, Call, Queue
from calls.services_abuse import ReportAnswered, abuse_report, abuse_report_block, abuse_report_dismiss
from calls.services_blocking import blockable_number, caller_block, caller_unblock
from calls.services_hours import business_hours_delete, business_hours_save
from calls.services_queues import queue_save
from companies.models import Company, PauseReason
from companies.services import company_create, company_update
from pbx.encryption import blind_index

logger = logging.getLogger(__name__)

JWT_ALGORITHM = "HS256"
JWT_ISSUER = "pbx"
JWT_AUDIENCE = "pbx-api"
# What a manager may change on their own account. Not their password: a bearer token is not proof of it, and a
# stolen one must not lock its owner out. Not their role or extension either, which are a system admin's to give.
OWN_PROFILE_FIELDS = frozenset({"first_name", "last_name", "email", "phone"})


def signal_group(user_id: int) -> str:
    """The Channels group of one user's signaling sockets."""
    return f"signal.{user_id}"


# --- tokens -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: str
    record: ApiToken


def token_issue(*, user: User, ip_address: str | None = None, user_agent: str = "", lifetime=None) -> IssuedToken:
    """A signed JWT (HS256, `API_TOKEN_HOURS`) whose `jti` is stored, so it can be revoked before it expires."""
    now = timezone.now()
    lifetime = lifetime if lifetime is not None else timedelta(hours=settings.API_TOKEN_HOURS)
    record = ApiToken.objects.create(
        jti=uuid.uuid4().hex,
        user=user,
        issued_at=now,
        expires_at=now + lifetime,
        ip_address=ip_address,
        user_agent=user_agent[:300],
    )
    claims = {
        "sub": str(user.pk),
        "jti": record.jti,
        "iat": int(now.timestamp()),
        "exp": int(record.expires_at.timestamp()),
        "iss": JWT_ISSUER,
        "aud": JWT_AUDIENCE,
    }
    return IssuedToken(token=jwt.encode(claims, settings.JWT_SECRET_KEY, algorithm=JWT_ALGORITHM), record=record)


def token_find(*, token: str) -> ApiToken | None:
    """The live token record behind a bearer string, with its user; None for anything that does not open the API.

    Checked on every request: signature, expiry, revocation and the owner's `is_active`, so logout and deactivation
    take effect on the next request.
    """
    if not token or len(token) > 4096:
        return None
    try:
        claims = jwt.decode(
            token,
            settings.JWT_SECRET_KEY,
            algorithms=[JWT_ALGORITHM],
            audience=JWT_AUDIENCE,
            issuer=JWT_ISSUER,
            options={"require": ["exp", "iat", "jti", "sub"]},
        )
    except jwt.PyJWTError:
        return None
    jti, sub = claims.get("jti"), claims.get("sub")
    if not isinstance(jti, str) or not isinstance(sub, str) or not sub.isdigit() or len(jti) > 64 or len(sub) > 18:
        return None
    record = ApiToken.objects.live().select_related("user").filter(jti=jti, user_id=int(sub)).first()
    if record is None or not record.user.is_active:
        return None
    return record


def signaling_close(*, user_id: int, jti: str | None = None, session_key: str | None = None) -> None:
    """Tells the user's open signaling sockets to close: the one opened with token `jti` or with web session
    `session_key`, or all of them when neither is given. Call it on commit."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "signal.revoked", "jti": jti, "session_key": session_key}
    try:
        async_to_sync(layer.group_send)(signal_group(user_id), message)
    except Exception:
        logger.exception("could not tell user %s's signaling sockets to close", user_id)


@transaction.atomic
def token_revoke(*, record: ApiToken) -> None:
    ApiToken.objects.filter(pk=record.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    user_id, jti = record.user_id, record.jti
    transaction.on_commit(lambda: signaling_close(user_id=user_id, jti=jti))


def tokens_revoke_all(*, user_id: int) -> int:
    return ApiToken.objects.live().of_user(user_id).update(revoked_at=timezone.now())


def tokens_prune(*, before) -> int:
    """Deletes tokens that expired or were revoked before `before`: they can open nothing and only fill the table."""
    expired = ApiToken.objects.filter(expires_at__lt=before)
    revoked = ApiToken.objects.filter(revoked_at__lt=before)
    deleted, _by_model = (expired | revoked).delete()
    return deleted


# --- login ------------------------------------------------------------------------------------------------------

_dummy_hashes: dict[tuple, str] = {}


def _dummy_hash() -> str:
    """A hash made with the current hasher at its current cost: checking an unknown user costs what a real one does."""
    hasher = get_hasher("default")
    key = (hasher.algorithm, getattr(hasher, "memory_cost", None), getattr(hasher, "time_cost", None))
    if key not in _dummy_hashes:
        _dummy_hashes[key] = make_password(secrets.token_urlsafe(24))
    return _dummy_hashes[key]


def credentials_check(*, username: str, password: str) -> User | None:
    """The active user with this username and password, or None; one password hash is run either way."""
    user = User.objects.by_username(username).first()  # as the web form: capitals aside
    if user is None:
        check_password(password, _dummy_hash())
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


def login_with_password(*, request, username: str, password: str) -> IssuedToken:
    """A token for a right username and password; the same refusal, after the same work, for every wrong one."""
    if not request.META.get("REMOTE_ADDR"):
        # A server on a Unix socket may give no client address; such clients share one address bucket.
        request.META["REMOTE_ADDR"] = "0.0.0.0"
    # The same count as the web sign-in form: guesses through one way in are not fresh guesses through the other.
    if login_is_rate_limited(request, username=username):
        auth_event_record(kind="RATE_LIMITED", request=request, username=username)
        raise ApiError(
            429,
            "rate_limited",
            _("Too many sign-in attempts. Wait a minute and try again."),
            headers={"Retry-After": "60"},
        )
    user = credentials_check(username=username, password=password)
    if user is None:
        login_failed(request, username=username)
        auth_event_record(kind="FAILED", request=request, username=username)
        raise ApiError(401, "invalid_credentials", _("The username or password is not right."))
    issued = token_issue(user=user, ip_address=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", ""))
    user.last_login = issued.record.issued_at
    User.objects.filter(pk=user.pk).update(last_login=user.last_login)
    auth_event_record(kind="LOGIN", request=request, user=user)
    return issued


def logout_token(*, request, record: ApiToken) -> None:
    token_revoke(record=record)
    auth_event_record(kind="LOGOUT", request=request, user=record.user)


# --- activity ---------------------------------------------------------------------------------------------------


def _pause_reason_refused(message: str) -> ApiError:
    return ApiError(422, "validation_error", _("Some fields are not valid."), fields={"pause_reason": [message]})


def pause_reason_resolve(*, company_id: int | None, reference: int | str) -> PauseReason:
    """A pause reason of the company in use, by its id (a number) or its code (`LUNCH`); 422 when there is none such."""
    reasons = PauseReason.objects.filter(company_id=company_id)
    if isinstance(reference, int):
        reason = reasons.filter(pk=reference).first() if 0 < reference < 2**63 else None
    else:
        reason = reasons.filter(code=reference.strip().upper()).first()
    if reason is None:
        raise _pause_reason_refused(_("This company has no such pause reason."))
    if not reason.is_active:
        # The console no longer offers it; said here because the shared rule calls it "not this company's reason".
        raise _pause_reason_refused(_("This pause reason is no longer in use."))
    return reason


def my_activity_change(*, user: User, state: str, pause_reason: int | str | None = None, note: str = "") -> User:
    """The signed-in agent moves themself, under the console's rules (ActivityChangeRefused says why not)."""
    reason = None
    # Only an agent's reason is looked up: anyone else is refused for their role by activity_change, which is the
    # answer they need, not "no such pause reason" (a system admin's company has none).
    if pause_reason is not None and user.role == Role.AGENT:
        reason = pause_reason_resolve(company_id=user.company_id, reference=pause_reason)
    return activity_change(
        agent_id=user.pk, to_state=state, actor=Actor.person(user=user, agent=user), pause_reason=reason, note=note
    )


# --- users ------------------------------------------------------------------------------------------------------


def _company_for_new_user(*, actor: User, role: str, company_id: int | None) -> Company | None:
    if actor.role == Role.MANAGER:
        if role != Role.AGENT:
            raise PermissionDenied(_("Managers create and change only agents; a system admin manages managers."))
        if company_id is not None and company_id != actor.company_id:
            raise PermissionDenied(_("Managers create users only in their own company."))
        return actor.company
    if role == Role.SYSTEM_ADMIN:
        if company_id is not None:
            raise ValidationError({"company_id": _("System admins belong to no company.")})
        return None
    if company_id is None:
        raise ValidationError({"company_id": _("Managers and agents belong to a company.")})
    company = Company.objects.filter(pk=company_id).first() if 0 < company_id < 2**63 else None
    if company is None:
        raise ValidationError({"company_id": _("There is no such company.")})
    return company


def _passwords_error(error: ValidationError) -> ValidationError:
    """validate_password raises a bare list; say which field it is about."""
    return error if hasattr(error, "error_dict") else ValidationError({"password": error.messages})


def user_create_by(*, actor: User, username: str, password: str, role: str, company_id: int | None = None, **fields):
    """A new user made by `actor`: admins make anyone, managers agents of their company, agents nobody."""
    if not _manages_users(actor):
        raise PermissionDenied(_("Only managers and admins create users."))
    company = _company_for_new_user(actor=actor, role=role, company_id=company_id)
    try:
        return user_create(username=username, password=password, role=role, company=company, **fields)
    except ValidationError as error:
        raise _passwords_error(error) from None
    except IntegrityError:
        raise Conflict(_("A user with this username or extension already exists.")) from None


def _manages_users(actor: User) -> bool:
    """Whether `actor` manages users at all; only to them is "not on yourself" the answer, and not "not allowed"."""
    return actor.role in (Role.SYSTEM_ADMIN, Role.MANAGER)


def _check_may_edit(*, actor: User, user: User, changes) -> None:
    """Admins change anyone; managers their company's agents, and on themselves only OWN_PROFILE_FIELDS (as in the
    console, where a manager's users page lists agents only): a manager could otherwise take over another manager's
    account by setting its password."""
    if actor.role == Role.SYSTEM_ADMIN:
        return
    if actor.role == Role.MANAGER and user.company_id == actor.company_id:
        if user.role == Role.AGENT:
            return
        if user.pk == actor.pk:
            if set(changes) <= OWN_PROFILE_FIELDS:
                return
            raise PermissionDenied(
                _("You may change only your own name, email and phone; ask a system admin for anything else.")
            )
    raise PermissionDenied(_("You may not change this user."))


def _notify_deactivated(user_id: int) -> None:
    transaction.on_commit(lambda: signaling_close(user_id=user_id))


@transaction.atomic
def user_deactivate(*, actor: User, user: User) -> User:
    """Signs the user out everywhere at once (tokens revoked, sockets closed) and takes an agent out of routing."""
    if user.pk == actor.pk and _manages_users(actor):
        raise Conflict(_("You cannot deactivate your own account."))
    _check_may_edit(actor=actor, user=user, changes={"is_active"})
    user = user_locked(user.pk)
    if user.role == Role.AGENT and user.activity_state in (ActivityState.CALLING, ActivityState.ON_CALL):
        # As in the console: nobody's call is cut by taking their account away; deactivate them once it is over.
        raise Conflict(_("This agent is on a call now."))
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        roster_changed(user, previous_company_id=user.company_id)
    tokens_revoke_all(user_id=user.pk)
    if user.role == Role.AGENT and user.activity_state in (
        ActivityState.READY,
        ActivityState.AWAY,
        ActivityState.TRAINING,
        ActivityState.POST_PROCESSING,
    ):
        user = activity_change(
            agent_id=user.pk,
            to_state=ActivityState.DISABLED,
            actor=Actor.person(user=actor, agent=user),
            note="deactivated",
        )
    _notify_deactivated(user.pk)
    return user


@transaction.atomic
def user_reactivate(*, actor: User, user: User) -> User:
    _check_may_edit(actor=actor, user=user, changes={"is_active"})
    user = user_locked(user.pk)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        roster_changed(user, previous_company_id=user.company_id)
        if user.role == Role.AGENT and user.activity_state == ActivityState.DISABLED:
            user = agent_enabled_again(agent=user, by=actor, note="reactivated")
    return user


PROFILE_FIELDS = ("first_name", "last_name", "email", "phone", "extension")


@transaction.atomic
def user_update(*, actor: User, user: User, changes: dict) -> User:
    """Applies the given changes (only the keys present); role and company moves follow the creation rules."""
    if user.pk == actor.pk and _manages_users(actor) and changes.get("role", user.role) != user.role:
        raise Conflict(_("You cannot change your own role."))
    _check_may_edit(actor=actor, user=user, changes=changes)
    user = user_locked(user.pk)
    previous_company_id = user.company_id
    role = changes.get("role", user.role)
    if "role" in changes and role != user.role and actor.role == Role.MANAGER and role != Role.AGENT:
        raise PermissionDenied(_("Managers create and change only agents; a system admin manages managers."))
    company = user.company
    if "company_id" in changes or "role" in changes:
        company_id = changes.get("company_id", user.company_id)
        if role == Role.SYSTEM_ADMIN and "company_id" not in changes:
            company_id = None
        company = _company_for_new_user(actor=actor, role=role, company_id=company_id)
    user_reassign(user, role=role, company=company)
    for name in PROFILE_FIELDS:
        if name in changes:
            setattr(user, name, changes[name] if changes[name] is not None else "")
    if "extension" in changes:
        user.extension = changes["extension"] or None
        if user.extension and not user.sip_secret:
            user.sip_secret = secrets.token_urlsafe(18)
    user.full_clean(exclude=["password"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Conflict(_("A user with this username or extension already exists.")) from None
    roster_changed(user, previous_company_id=previous_company_id)
    if "password" in changes:
        try:
            user_set_password(user=user, password=changes["password"])
        except ValidationError as error:
            raise _passwords_error(error) from None
    if "is_active" in changes and changes["is_active"] != user.is_active:
        if changes["is_active"]:
            user = user_reactivate(actor=actor, user=user)
        else:
            user = user_deactivate(actor=actor, user=user)
    return user


# --- companies --------------------------------------------------------------------------------------------------


def _check_admin(actor: User) -> None:
    if actor.role != Role.SYSTEM_ADMIN:
        raise PermissionDenied(_("Only system admins manage companies."))


def company_create_by(*, actor: User, name: str, **fields) -> Company:
    _check_admin(actor)
    Company(name=name, **fields).full_clean()
    return company_create(name=name, **fields)


def company_update_by(*, actor: User, company: Company, changes: dict) -> Company:
    _check_admin(actor)
    return company_update(company=company, **changes)


# --- business hours ---------------------------------------------------------------------------------------------


def _check_manages_hours(actor: User) -> None:
    if actor.role not in (Role.SYSTEM_ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only managers and admins manage business hours."))


def _company_for_new(*, actor: User, company_id: int | None, refusal: str) -> Company:
    """The manager's own company, or the one a system admin names; `refusal` tells a manager who names another."""
    if actor.role == Role.MANAGER:
        if company_id is not None and company_id != actor.company_id:
            raise PermissionDenied(refusal)
        return actor.company
    if company_id is None:
        raise ValidationError({"company_id": _("This field is required.")})
    company = Company.objects.filter(pk=company_id).first() if 0 < company_id < 2**63 else None
    if company is None:
        raise ValidationError({"company_id": _("There is no such company.")})
    return company


def _check_closed_days(closed_days: list[tuple[date, str, str]]) -> None:
    """The page's rules for its lines of text, said of the list's items: each day once, at most MAX_CLOSED_DAYS."""
    problems: dict[str, list[str]] = {}
    seen: set[date] = set()
    for n, (day, _hours, _name) in enumerate(closed_days):
        if day in seen:
            problems[f"closed_days.{n}.day"] = [_("%(day)s is already listed.") % {"day": day.isoformat()}]
        seen.add(day)
    if len(closed_days) > MAX_CLOSED_DAYS:
        problems["closed_days"] = [_("At most %(n)d closed days.") % {"n": MAX_CLOSED_DAYS}]
    if problems:
        raise ValidationError(problems)


def _valid_hours_form(*, hours: BusinessHours | None, company: Company, fields: dict, closed_days) -> BusinessHoursForm:
    """The pages' form, so the API refuses what they refuse with the same words (the model's full_clean included)."""
    _check_closed_days(closed_days)
    lines = "\n".join(SpecialDay(day, hours, name).line() for day, hours, name in closed_days)
    form = BusinessHoursForm({**fields, "closed_days_text": lines}, instance=hours, company=company)
    if not form.is_valid():
        errors = form.errors.as_data()
        raise ValidationError({("closed_days" if k == "closed_days_text" else k): v for k, v in errors.items()})
    return form


def _hours_saved(form: BusinessHoursForm, company: Company) -> BusinessHours:
    try:
        with transaction.atomic():
            return business_hours_save(form=form, company=company)
    except IntegrityError:
        # Another request took the name between the check and the write.
        raise ValidationError({"name": _("This company already has business hours with this name.")}) from None


def business_hours_create_by(
    *, actor: User, company_id: int | None, name: str, week: dict[str, str], closed_days: list[tuple[date, str, str]]
) -> BusinessHours:
    """New hours in the manager's own company, or the one a system admin names."""
    _check_manages_hours(actor)
    refusal = _("Managers manage only their own company's business hours.")
    company = _company_for_new(actor=actor, company_id=company_id, refusal=refusal)
    form = _valid_hours_form(hours=None, company=company, fields={"name": name, **week}, closed_days=closed_days)
    return _hours_saved(form, company)


@transaction.atomic
def business_hours_update_by(*, actor: User, hours: BusinessHours, changes: dict) -> BusinessHours:
    """Only the keys present change; `closed_days` replaces the whole list."""
    _check_manages_hours(actor)
    hours = BusinessHours.objects.select_for_update().select_related("company").filter(pk=hours.pk).first()
    if hours is None:
        raise Http404  # deleted since the caller looked it up
    fields = {name: changes.get(name, getattr(hours, name)) for name in ("name", *WEEKDAYS)}
    closed_days = changes.get("closed_days")
    if closed_days is None:
        closed_days = list(hours.closed_days.values_list("day", "ranges", "name"))
    form = _valid_hours_form(hours=hours, company=hours.company, fields=fields, closed_days=closed_days)
    return _hours_saved(form, hours.company)


def business_hours_delete_by(*, actor: User, hours: BusinessHours) -> list[str]:
    """Deletes the hours; their queues are always open from now on. Returns those queues' names."""
    _check_manages_hours(actor)
    return business_hours_delete(hours)


# --- queues -----------------------------------------------------------------------------------------------------

# The form's names for the API's fields that hold ids, and back.
QUEUE_FORM_FIELDS = {
    "member_ids": "members",
    "business_hours_id": "business_hours",
    "overflow_queue_id": "overflow_queue",
}
QUEUE_API_FIELDS = {form_name: api_name for api_name, form_name in QUEUE_FORM_FIELDS.items()}


def _check_manages_queues(actor: User) -> None:
    if actor.role not in (Role.SYSTEM_ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only managers and admins manage queues."))


def _valid_queue_form(*, queue: Queue | None, company: Company, changes: dict) -> QueueForm:
    """The queue page's form with the fields sent, so the API refuses what the page refuses, with the same words, at
    the API's field names.

    A field not sent is left out of the form, and so stays as it is (a new queue's: its default). Filled in with the
    queue's value instead, it could be refused for what changed since: a member deactivated since is no longer the
    form's to choose, and a change of the name alone would be refused for them."""
    data = {QUEUE_FORM_FIELDS.get(name, name): value for name, value in changes.items()}
    form = QueueForm(data, instance=queue, company=company)
    form.fields = {name: field for name, field in form.fields.items() if name in data}
    if not form.is_valid():
        errors = form.errors.as_data()
        raise ValidationError({QUEUE_API_FIELDS.get(name, name): error for name, error in errors.items()})
    return form


def _queue_saved(*, queue: Queue | None, company: Company, changes: dict) -> Queue:
    form = _valid_queue_form(queue=queue, company=company, changes=changes)
    try:
        with transaction.atomic():
            return queue_save(form=form, company=company)
    except IntegrityError:
        # Another request took the number or the name between the check and the write: asked again, the form says
        # which (and if it finds nothing, the clash is not the client's to fix by changing a field).
        _valid_queue_form(queue=queue, company=company, changes=changes)
        raise Conflict(_("Another queue was saved with this number or name at the same time; try again.")) from None


def queue_create_by(*, actor: User, company_id: int | None, changes: dict) -> Queue:
    """A new queue in the manager's own company, or the one a system admin names."""
    _check_manages_queues(actor)
    refusal = _("Managers manage only their own company's queues.")
    company = _company_for_new(actor=actor, company_id=company_id, refusal=refusal)
    return _queue_saved(queue=None, company=company, changes=changes)


@transaction.atomic
def queue_update_by(*, actor: User, queue: Queue, changes: dict) -> Queue:
    """Only the keys present change: `member_ids` replaces the members, `business_hours_id` None makes the queue
    always open, `is_active` False deactivates it (a queue is never deleted: its calls keep their queue)."""
    _check_manages_queues(actor)
    queue = Queue.objects.select_for_update().select_related("company").filter(pk=queue.pk).first()
    if queue is None:
        raise Http404  # deleted (with its company) since the caller looked it up
    return _queue_saved(queue=queue, company=queue.company, changes=changes)


# --- blocked numbers --------------------------------------------------------------------------------------------


def _check_manages_blocks(actor: User) -> None:
    if actor.role not in (Role.SYSTEM_ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only managers and admins manage blocked numbers."))


def caller_block_by(
    *, actor: User, company_id: int | None, number: str, reason: str = "", until: datetime | None = None
) -> tuple[BlockedCaller, bool]:
    """Blocks the number for the manager's own company, or the one a system admin names; a number blocked there
    already gets this reason and end instead. Returns the block and whether it is new."""
    _check_manages_blocks(actor)
    refusal = _("Managers block numbers only for their own company.")
    company = _company_for_new(actor=actor, company_id=company_id, refusal=refusal)
    problems: dict[str, list[str]] = {}
    try:
        digits = blockable_number(number)
    except ValidationError as error:
        problems.update(error.message_dict)
    if until is not None and until <= timezone.now():
        problems["until"] = [_("This time has already passed.")]
    if problems:
        raise ValidationError(problems)
    new = not BlockedCaller.objects.filter(company=company, number_index=blind_index(digits)).exists()
    return caller_block(company=company, number=digits, reason=reason.strip(), until=until, by=actor), new


def caller_unblock_by(*, actor: User, blocked: BlockedCaller) -> None:
    """The number's calls are taken again from now on."""
    _check_manages_blocks(actor)
    caller_unblock(blocked)


# --- abuse reports ----------------------------------------------------------------------------------------------


def abuse_report_by(*, actor: User, call: Call, reason: str) -> tuple[AbuseReport, bool]:
    """Reports the caller of a call the actor may see to its company's managers; a call reported already has its
    report given this reason and reporter, and opened again. Returns the report and whether it is new."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say what happened, in up to 200 characters.")})
    new = not AbuseReport.objects.filter(call=call).exists()
    try:
        return abuse_report(call=call, by=actor, reason=reason), new
    except ValidationError as error:
        # The call is at fault, not a field of the request.
        raise ApiError(422, error.code, " ".join(error.messages)) from None


def _check_answers_reports(actor: User) -> None:
    if actor.role not in (Role.SYSTEM_ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only managers and admins answer abuse reports."))


def _answered_once(answer):
    """Runs the service's answer; a report answered meanwhile is a 409, one deleted with its call a 404."""
    try:
        return answer()
    except ReportAnswered as answered:
        raise Conflict(str(answered)) from None
    except AbuseReport.DoesNotExist:
        raise Http404 from None


@transaction.atomic
def abuse_report_block_by(*, actor: User, report: AbuseReport, until: datetime | None = None) -> BlockedCaller:
    """Blocks the reported call's number for the report's company, with the report's reason (a number blocked there
    already gets this reason and end instead), and closes the report."""
    _check_answers_reports(actor)
    if until is not None and until <= timezone.now():
        raise ValidationError({"until": _("This time has already passed.")})
    try:
        return _answered_once(lambda: abuse_report_block(report=report, by=actor, until=until))
    except ValidationError:
        # The number the service could not block is the call's, not one the client sent: no field of the request.
        message = _("The call came without a number: there is nothing to block.")
        raise ApiError(422, "nothing_to_block", message) from None


@transaction.atomic
def abuse_report_dismiss_by(*, actor: User, report: AbuseReport) -> None:
    """Closes the report without blocking anything."""
    _check_answers_reports(actor)
    _answered_once(lambda: abuse_report_dismiss(report=report, by=actor))

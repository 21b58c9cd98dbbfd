"""Writes the user pages make beyond accounts.services: edit a user, disable or re-enable them."""

from django.db import transaction

from accounts.models import Role, User
from accounts.services import (
    ActivityChangeRefused,
    Actor,
    activity_change,
    agent_enabled_again,
    roster_changed,
    user_locked,
    user_reassign,
)
from accounts.states import ActivityState

_EDITABLE = {"first_name", "last_name", "email", "phone", "extension", "role", "company"}


@transaction.atomic
def user_update(*, user: User, **fields) -> User:
    """Raises ActivityChangeRefused for a new role or company of an agent busy with a call."""
    previous_company_id = User.objects.filter(pk=user.pk).values_list("company_id", flat=True).first()
    if unknown := set(fields) - _EDITABLE:
        raise TypeError(f"user_update cannot change {unknown}")
    if "role" in fields or "company" in fields:
        user_reassign(user, role=fields.pop("role", user.role), company=fields.pop("company", user.company))
    for name, value in fields.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.save()
    roster_changed(user, previous_company_id=previous_company_id)
    return user


@transaction.atomic
def user_set_active(*, user: User, active: bool, by: User) -> User:
    """Disabling signs the user out of new sessions and, for an idle agent, moves them to DISABLED in the audit log;
    enabling brings a disabled agent back AWAY (agent_enabled_again).

    An agent on a call is refused: the call must end first (a manager never cuts a call from the console)."""
    user = user_locked(user.pk)
    if not active and user.role == Role.AGENT and user.activity_state != ActivityState.DISABLED:
        activity_change(agent_id=user.pk, to_state=ActivityState.DISABLED, actor=Actor.person(user=by, agent=user))
        user.refresh_from_db()
    if active and user.role == Role.AGENT and user.activity_state == ActivityState.DISABLED:
        agent_enabled_again(agent=user, by=by)
        user.refresh_from_db()
    user.is_active = active
    user.save(update_fields=["is_active"])
    roster_changed(user, previous_company_id=user.company_id)
    return user


__all__ = ["ActivityChangeRefused", "user_set_active", "user_update"]

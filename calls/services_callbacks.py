"""Calling back a missed call: record an outbound call linked to it and ask the telephony task to place it."""

import logging
from uuid import uuid4

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.states import ActivityState
from calls.live import publish_call_changed
from calls.models import Call, CallState, Direction

logger = logging.getLogger(__name__)

# The channel-layer group the telephony (ARI) task listens on for calls it must place.
TELEPHONY_GROUP = "telephony"


class CallbackRefused(Exception):
    """The callback cannot be made; the message says why, for the person who asked."""


def _tell_telephony(call_id: int) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(TELEPHONY_GROUP, {"type": "callback.place", "call_id": call_id})
    except Exception:
        # The call row stays WAITING; the telephony task's reconciliation can pick it up.
        logger.exception("could not ask the telephony task to place callback %s", call_id)


@transaction.atomic
def callback_request(*, missed_call: Call, agent: User, requested_by: User) -> Call:
    """An OUTBOUND call from `agent` to the missed call's caller, linked to it; placed by the telephony task."""
    missed = Call.objects.select_for_update().get(pk=missed_call.pk)
    if agent.role != Role.AGENT or not agent.is_active or agent.company_id != missed.company_id:
        raise CallbackRefused(_("Only an active agent of the call's company can call back."))
    if not requested_by.is_system_admin and requested_by.company_id != missed.company_id:
        raise CallbackRefused(_("This call belongs to another company."))
    if requested_by.role == Role.AGENT and requested_by.pk != agent.pk:
        raise CallbackRefused(_("Agents place callbacks only from their own phone."))
    if not missed.caller_number:
        raise CallbackRefused(_("The caller's number is unknown."))
    if not agent.extension:
        raise CallbackRefused(_("The agent has no extension to ring."))
    # A callback rings the agent first and only an agent free right now can be claimed: refused here, with the
    # reason, rather than reported as started and then ended at once as busy. (Read afresh: the page may be old.)
    state, online = User.objects.filter(pk=agent.pk).values_list("activity_state", "endpoint_online").get()
    if state != ActivityState.READY:
        raise CallbackRefused(
            _("%(agent)s is %(state)s now. A callback rings the agent first: choose an agent who is Ready.")
            % {"agent": agent, "state": ActivityState(state).label}
        )
    if not online:
        raise CallbackRefused(_("%(agent)s's phone is not registered, so it cannot ring.") % {"agent": agent})
    if Call.objects.filter(callback_of=missed).exclude(state=CallState.ENDED).exists():
        raise CallbackRefused(_("A callback for this call is already in progress."))
    call = Call.objects.create(
        company_id=missed.company_id,
        direction=Direction.OUTBOUND,
        caller_number=missed.caller_number,
        caller_name=missed.caller_name,
        dialed_number=missed.caller_number[:40],
        queue_id=missed.queue_id,
        agent=agent,
        caller_channel_id=f"callback-{uuid4()}",
        state=CallState.WAITING,
        enqueued_at=timezone.now(),
        callback_of=missed,
    )
    transaction.on_commit(lambda: _tell_telephony(call.pk))
    transaction.on_commit(
        lambda: publish_call_changed(call_id=call.pk, company_id=call.company_id, agent_id=call.agent_id)
    )
    return call

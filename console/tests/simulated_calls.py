"""A call driven through the telephony core's own services, step by step, for console tests and benchmarks.

The steps are what the ARI task does for a queue call (ring an agent, answer, hang up, end wrap-up); once the fake ARI
server drives the real engine in browser tests, this can be swapped for it without touching the assertions.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from django.utils import timezone

from accounts.models import User
from accounts.services import Actor, activity_change
from accounts.states import ActivityState
from calls import services as call_services
from calls.models import Call, Disposition, HangupSide, OfferResult


class SimulatedCall:
    def __init__(self, *, agent: User, queue=None, caller: str = "010-5555-1234", caller_name: str = ""):
        self.agent = agent
        self.queue = queue
        self.caller = caller
        self.caller_name = caller_name
        self.channel = f"sim-caller-{uuid4()}"
        self.leg = f"sim-agent-{uuid4()}"
        self.call: Call | None = None

    def _event(self, kind: str, **detail) -> None:
        call_services.call_events_add(
            caller_channel_id=self.channel,
            events=[{"at": timezone.now(), "kind": kind, "channel_id": self.channel, "detail": detail}],
        )

    def ring(self) -> Call:
        now = timezone.now()
        self.call = call_services.call_start(
            caller_channel_id=self.channel,
            dialed_number=self.queue.number if self.queue else (self.agent.extension or ""),
            caller_number=self.caller,
            caller_name=self.caller_name,
            company_id=self.agent.company_id,
            queue_id=self.queue.pk if self.queue else None,
            agent_id=None,
            at=now,
        )
        self._event("StasisStart")
        activity_change(agent_id=self.agent.pk, to_state=ActivityState.CALLING, actor=Actor.telephony())
        call_services.call_offer_start(
            caller_channel_id=self.channel, agent_id=self.agent.pk, channel_id=self.leg, at=now
        )
        self._event("OfferStart", agent=self.agent.username)
        return self.refresh()

    def answer(self) -> Call:
        call_services.call_answer(
            caller_channel_id=self.channel,
            agent_id=self.agent.pk,
            channel_id=self.leg,
            bridge_id="sim",
            at=timezone.now(),
        )
        activity_change(agent_id=self.agent.pk, to_state=ActivityState.ON_CALL, actor=Actor.telephony())
        self._event("Answered")
        return self.refresh()

    def miss(self) -> Call:
        """The agent does not pick up: the offer ends unanswered and the agent is auto-paused."""
        call_services.call_offer_end(channel_id=self.leg, result=OfferResult.NO_ANSWER, cause=19, at=timezone.now())
        activity_change(agent_id=self.agent.pk, to_state=ActivityState.AWAY, actor=Actor.telephony())
        return self.refresh()

    def hang_up(self, *, disposition: str = Disposition.ANSWERED) -> Call:
        call_services.call_end(
            caller_channel_id=self.channel,
            disposition=disposition,
            hangup_by=HangupSide.CALLER,
            cause=16,
            cause_text="Normal Clearing",
            at=timezone.now(),
        )
        self._event("StasisEnd")
        if disposition == Disposition.ANSWERED:
            activity_change(agent_id=self.agent.pk, to_state=ActivityState.POST_PROCESSING, actor=Actor.telephony())
        return self.refresh()

    def end_wrapup(self) -> User:
        """Wrap-up time is over: the agent becomes what they chose for after this call (READY by default)."""
        agent = User.objects.get(pk=self.agent.pk)
        call_services.call_wrapup_record(agent_id=agent.pk, seconds=5.0)
        return activity_change(
            agent_id=agent.pk,
            to_state=agent.after_call_state or ActivityState.READY,
            actor=Actor.telephony(),
            pause_reason=agent.after_call_reason,
        )

    def refresh(self) -> Call:
        self.call = Call.objects.get(caller_channel_id=self.channel)
        return self.call


def abandoned_call(
    *, company, queue, caller: str = "010-7777-0000", disposition=Disposition.ABANDONED, overflow_to=None
) -> Call:
    """A caller who waited in the queue and hung up before anyone answered (or, CLOSED, called after hours); with
    `overflow_to`, after the queue's maximum wait moved them to that queue."""
    channel = f"sim-caller-{uuid4()}"
    call_services.call_start(
        caller_channel_id=channel,
        dialed_number=queue.number,
        caller_number=caller,
        caller_name="",
        company_id=company.pk,
        queue_id=queue.pk,
        agent_id=None,
        at=timezone.now() - timedelta(seconds=42),
    )
    if overflow_to is not None:
        moved = {"caller_channel_id": channel, "queue_id": overflow_to.pk, "from_queue_id": queue.pk,
                 "at": timezone.now() - timedelta(seconds=12)}  # fmt: skip
        call_services.calls_overflow([moved])
    call_services.call_end(
        caller_channel_id=channel,
        disposition=disposition,
        hangup_by=HangupSide.CALLER if disposition == Disposition.ABANDONED else HangupSide.SYSTEM,
        cause=16,
        cause_text="Normal Clearing",
        at=timezone.now(),
    )
    return Call.objects.get(caller_channel_id=channel)

"""The routing core: one call's events in, decisions out. Pure: no I/O, no ORM, no clock (times come with events).

A call is keyed by its caller channel id. Everything that happens to it arrives here as an event, in order: ARI
events (plain dicts, as Asterisk sends them) and the engine's own results (`Incoming`, `AgentClaimed`,
`OriginateFailed`, `TimerFired`, `Reconciled`). `handle()` updates the `CallSession` and returns actions for the
engine to carry out: REST commands to Asterisk, records to write, agent state changes, timers.

Facts from real Asterisk 20 that shape this (see shared/ari-recordings): the caller's ChannelDestroyed never reaches
us, so the caller's end is its ChannelHangupRequest or StasisEnd; the callee leg we originate always ends with a
ChannelDestroyed carrying the real cause; adding a ringing caller to a bridge does not answer it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calls.business_hours import OpeningHours

# ---------------------------------------------------------------------------------------------------------- routes

# The dialplan contexts that tell a caller why nobody takes their call, then hang up (rendered in extensions.conf).
CLOSED_CONTEXT = "pbx-queue-closed"
BLOCKED_CONTEXT = "pbx-blocked"


class RouteKind(StrEnum):
    AGENT = "AGENT"  # the dialed number is an agent's extension
    QUEUE = "QUEUE"  # a company's queue number
    CALLBACK = "CALLBACK"  # we call an agent, then a customer who called earlier
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class Route:
    kind: RouteKind
    company_id: int | None = None
    agent_id: int | None = None
    queue_id: int | None = None
    ring_timeout: float = 20.0
    wrapup_seconds: float = 10.0
    max_wait: float = 300.0
    hours: OpeningHours | None = None  # a queue's business hours; None: always open
    # Where a queue's callers go at its maximum wait: the next queue's route, linked on by the directory without
    # loops (None: the call ends there).
    overflow: Route | None = None
    # For callbacks: the customer's endpoint to dial once the agent answered.
    customer_endpoint: str = ""


# ---------------------------------------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Incoming:
    """A caller entered Stasis and the engine looked up where the dialed number goes."""

    channel_id: str
    exten: str
    caller_number: str
    caller_name: str
    route: Route
    at: datetime
    answered: bool = False  # already Up (a call re-tracked after a restart)
    blocked: bool = False  # from a number the route's company blocks


@dataclass(frozen=True)
class QueueUnstaffed:
    """None of the queue's agents is working (ready, ringing, talking or in wrap-up), and the queue sends its callers
    on at once in that case (Queue.overflow_when_unstaffed)."""

    queue_id: int
    at: datetime


@dataclass(frozen=True)
class AgentClaimed:
    """The engine atomically moved this agent READY → CALLING for this call."""

    agent_id: int
    endpoint: str
    at: datetime


@dataclass(frozen=True)
class AgentUnavailable:
    """A direct call's agent could not be claimed (not READY, not registered, disabled)."""

    agent_id: int
    reason: str  # "busy" | "offline"
    at: datetime


@dataclass(frozen=True)
class OriginateFailed:
    channel_id: str
    status: int
    message: str
    at: datetime


@dataclass(frozen=True)
class TimerFired:
    name: str
    at: datetime


@dataclass(frozen=True)
class Reconciled:
    """After a (re)connect: which of this call's channels Asterisk still has."""

    live_channels: frozenset[str]
    live_bridges: frozenset[str]
    at: datetime


@dataclass(frozen=True)
class CallbackStart:
    """Place a callback: ring the agent first, then the customer."""

    call_key: str
    route: Route
    customer_number: str
    at: datetime


# --------------------------------------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class Answer:
    channel_id: str


@dataclass(frozen=True)
class Ring:
    channel_id: str


@dataclass(frozen=True)
class StopRing:
    channel_id: str


@dataclass(frozen=True)
class Hangup:
    channel_id: str
    reason: str = "normal"


@dataclass(frozen=True)
class CreateBridge:
    bridge_id: str


@dataclass(frozen=True)
class AddToBridge:
    bridge_id: str
    channel_ids: tuple[str, ...]


@dataclass(frozen=True)
class DestroyBridge:
    bridge_id: str


@dataclass(frozen=True)
class Originate:
    channel_id: str
    endpoint: str
    caller_number: str
    caller_name: str
    timeout: int


@dataclass(frozen=True)
class ContinueInDialplan:
    """Hand the channel back to the dialplan (it leaves Stasis): there it hears a message and is hung up."""

    channel_id: str
    context: str
    extension: str


@dataclass(frozen=True)
class Enqueue:
    """Join the queue's waiting line; the engine's matcher claims agents for waiting calls in arrival order."""

    queue_id: int
    company_id: int
    since: datetime


@dataclass(frozen=True)
class Dequeue:
    pass


@dataclass(frozen=True)
class ClaimAgent:
    """Direct call: claim exactly this agent (READY → CALLING), or report AgentUnavailable."""

    agent_id: int


@dataclass(frozen=True)
class StartTimer:
    name: str
    seconds: float


@dataclass(frozen=True)
class CancelTimer:
    name: str


@dataclass(frozen=True)
class RecordStart:
    exten: str
    caller_number: str
    caller_name: str
    route: Route
    at: datetime
    direction: str = "INBOUND"


@dataclass(frozen=True)
class RecordOffer:
    agent_id: int
    channel_id: str
    at: datetime


@dataclass(frozen=True)
class RecordOfferEnd:
    channel_id: str
    result: str  # calls.models.OfferResult
    cause: int | None
    at: datetime


@dataclass(frozen=True)
class RecordAnswer:
    agent_id: int
    channel_id: str
    bridge_id: str
    at: datetime


@dataclass(frozen=True)
class RecordEnd:
    disposition: str
    hangup_by: str
    cause: int | None
    cause_text: str
    at: datetime
    reconciled: bool = False


@dataclass(frozen=True)
class RecordOverflow:
    """The caller moved on to another queue at the maximum wait of the one they waited in."""

    queue_id: int  # where they wait now
    from_queue_id: int  # the queue they first waited in
    at: datetime


@dataclass(frozen=True)
class RecordEvent:
    kind: str
    channel_id: str
    at: datetime
    detail: dict = field(default_factory=dict)
    key: str = ""


@dataclass(frozen=True)
class AgentState:
    """Change an agent's state through the activity service, only if they are still in `only_from`."""

    agent_id: int
    to_state: str
    only_from: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class StartWrapUp:
    """The agent is in POST_PROCESSING for this call; end it after `seconds` unless they end it first."""

    agent_id: int
    seconds: float


@dataclass(frozen=True)
class EndpointUnreachable:
    """The agent's phone could not be rung (not registered): offer them no calls until it registers again."""

    agent_id: int


@dataclass(frozen=True)
class Forget:
    """The call is over: drop the session."""


Action = (
    Answer | Ring | StopRing | Hangup | CreateBridge | AddToBridge | DestroyBridge | Originate | ContinueInDialplan
    | Enqueue | Dequeue | ClaimAgent | StartTimer | CancelTimer | RecordStart | RecordOffer | RecordOfferEnd
    | RecordAnswer | RecordEnd | RecordOverflow | RecordEvent | AgentState | StartWrapUp | EndpointUnreachable | Forget
)  # fmt: skip

# ----------------------------------------------------------------------------------------------------------- state


class Phase(StrEnum):
    NEW = "NEW"
    WAITING = "WAITING"  # queue call, no agent yet
    RINGING = "RINGING"  # an agent's phone rings
    CONNECTED = "CONNECTED"
    ENDED = "ENDED"


@dataclass
class OfferLeg:
    agent_id: int
    channel_id: str
    endpoint: str
    ringing: bool = False
    answered: bool = False
    gone: bool = False
    # Why we hung it up ourselves, if we did: "timeout", "withdrawn", "ended".
    hung_up_by_us: str = ""


@dataclass
class CallSession:
    key: str  # the caller channel id, or "callback-…" for a callback
    caller_channel_id: str = ""
    route: Route | None = None
    phase: Phase = Phase.NEW
    caller_answered: bool = False
    caller_gone: bool = False
    bridge_id: str = ""
    offer: OfferLeg | None = None
    offers_made: int = 0
    answered_agent_id: int | None = None
    caller_number: str = ""
    caller_name: str = ""
    customer_channel_id: str = ""  # callbacks: the customer's leg
    answered_at: datetime | None = None
    ended: bool = False
    # A queue call's place in line: when the caller first joined it (a missed offer or an overflow keeps it).
    waiting_since: datetime | None = None
    overflowed_from: int | None = None  # the queue the caller first waited in, once they moved on
    overflow_due: bool = False  # the maximum wait came while an agent was ringing: move on if they do not answer
    # When the queue's maximum wait runs out: kept so a reconcile (or a restart, from the record) starts its timer
    # again for the time left, not for the whole wait.
    max_wait_until: datetime | None = None

    @property
    def is_queue(self) -> bool:
        return self.route is not None and self.route.kind == RouteKind.QUEUE


# Agent states as the activity service names them (kept as strings: the core does not import Django).
READY, CALLING, ON_CALL, POST_PROCESSING, AWAY = "READY", "CALLING", "ON_CALL", "POST_PROCESSING", "AWAY"

RING_TIMER = "ring"
CUSTOMER_LEG_BASE = 1000  # callbacks: the customer's leg is numbered after the agent legs
MAX_WAIT_TIMER = "max_wait"
CUSTOMER_NOT_DIALED = "Customer could not be dialed"  # a callback's end when Asterisk refused the customer's leg

# What the caller's phone should hear when the call could not be connected (the reason decides the SIP response:
# busy → 486, no_answer → 480, congestion → 503, as recorded on a real Asterisk 20).
CALLER_REASON = {"BUSY": "busy", "NO_ANSWER": "no_answer", "UNREACHABLE": "congestion", "FAILED": "congestion"}

# Q.850 causes on the agent leg's ChannelDestroyed when the agent did not answer.
BUSY_CAUSES = {17, 21}  # user busy, call rejected (the agent pressed decline)
NO_ANSWER_CAUSES = {18, 19}
UNREACHABLE_CAUSES = {1, 3, 20, 27, 38}  # unallocated, no route, subscriber absent, destination out of order


def leg_channel_id(key: str, attempt: int) -> str:
    """The id we give each leg we originate: it names its call, so every event maps back even after a restart."""
    return f"pbx-{key}-{attempt}"


def bridge_id_for(key: str) -> str:
    return f"pbx-br-{key}"


def call_key_of_leg(channel_id: str) -> str | None:
    """The call a leg we originated belongs to, from its id (see leg_channel_id); None for other channels."""
    if not channel_id.startswith("pbx-") or channel_id.startswith("pbx-br-"):
        return None
    key, sep, attempt = channel_id[4:].rpartition("-")
    return key if sep and attempt.isdigit() else None


def call_key_of_bridge(bridge_id: str) -> str | None:
    return bridge_id[7:] if bridge_id.startswith("pbx-br-") else None


# --------------------------------------------------------------------------------------------------------- handler


def handle(session: CallSession, event, at: datetime) -> list[Action]:
    """Apply one event to the call; return what to do. Events for an ended call change nothing."""
    if session.ended:
        return []
    match event:
        case Incoming():
            return _incoming(session, event)
        case CallbackStart():
            return _callback_start(session, event)
        case AgentClaimed():
            return _agent_claimed(session, event)
        case QueueUnstaffed():
            return _queue_unstaffed(session, event)
        case AgentUnavailable():
            return _agent_unavailable(session, event)
        case OriginateFailed():
            return _originate_failed(session, event)
        case TimerFired():
            return _timer(session, event)
        case Reconciled():
            return _reconciled(session, event)
        case dict():
            return _ari_event(session, event, at)
    return []


def _incoming(s: CallSession, e: Incoming) -> list[Action]:
    s.caller_channel_id = e.channel_id
    s.caller_number, s.caller_name = e.caller_number, e.caller_name
    s.route = e.route
    s.caller_answered = e.answered
    actions: list[Action] = [
        RecordStart(exten=e.exten, caller_number=e.caller_number, caller_name=e.caller_name, route=e.route, at=e.at)
    ]
    route = e.route
    if e.blocked and not e.answered and route.kind in (RouteKind.AGENT, RouteKind.QUEUE):
        # The dialplan tells the caller (or just refuses them), no agent is rung (asterisk/templates/extensions.conf).
        return [*actions, *_turned_away(s, e, "blocked", BLOCKED_CONTEXT, "BLOCKED")]
    if route.kind == RouteKind.AGENT:
        s.phase = Phase.RINGING
        return [*actions, ClaimAgent(agent_id=route.agent_id)]
    if route.kind == RouteKind.QUEUE and not e.answered and route.hours and not route.hours.is_open(e.at):
        # Outside business hours the dialplan plays the closed message (asterisk/templates/extensions.conf); the
        # caller leaves Stasis, so the call ends here.
        return [*actions, *_turned_away(s, e, "closed", CLOSED_CONTEXT, "CLOSED")]
    if route.kind == RouteKind.QUEUE:
        s.phase = Phase.WAITING
        s.waiting_since = e.at
        s.max_wait_until = e.at + timedelta(seconds=route.max_wait)
        if not s.caller_answered:
            s.caller_answered = True
            actions.append(Answer(e.channel_id))
        # The caller hears ringing while waiting: it needs no sound files or music-on-hold module on the PBX.
        actions += [
            RecordEvent("caller_queued", e.channel_id, e.at, {"queue": e.exten}, f"caller_queued:{e.channel_id}"),
            Ring(e.channel_id),
            Enqueue(queue_id=route.queue_id, company_id=route.company_id, since=e.at),
            StartTimer(MAX_WAIT_TIMER, route.max_wait),
        ]
        return actions
    # Nobody owns this number: the caller is told it does not exist.
    return [
        *actions,
        Hangup(e.channel_id, "unallocated"),
        *_finish(s, "FAILED", "SYSTEM", cause=1, cause_text="Unallocated number", at=e.at),
    ]


def _turned_away(s: CallSession, e: Incoming, kind: str, context: str, disposition: str) -> list[Action]:
    """The caller goes back to the dialplan, which tells them why and hangs up: they leave Stasis, the call ends."""
    return [
        RecordEvent(kind, e.channel_id, e.at, {"number": e.exten}, f"{kind}:{e.channel_id}"),
        ContinueInDialplan(e.channel_id, context, e.exten),
        *_finish(s, disposition, "SYSTEM", cause=None, cause_text="", at=e.at),
    ]


def _callback_start(s: CallSession, e: CallbackStart) -> list[Action]:
    s.route = e.route
    s.caller_number = e.customer_number  # shown on the agent's phone: who they are about to call back
    s.phase = Phase.RINGING
    return [ClaimAgent(agent_id=e.route.agent_id)]


def claim_given_back(agent_id: int) -> AgentState:
    """An agent claimed for a call that no longer wants them (the caller left while the claim was in flight)."""
    return AgentState(agent_id, READY, only_from=(CALLING,), note="caller left before ringing")


def _agent_claimed(s: CallSession, e: AgentClaimed) -> list[Action]:
    if s.phase not in (Phase.WAITING, Phase.RINGING) or s.caller_gone:
        return [claim_given_back(e.agent_id)]
    s.offers_made += 1
    channel_id = leg_channel_id(s.key, s.offers_made)
    s.offer = OfferLeg(agent_id=e.agent_id, channel_id=channel_id, endpoint=e.endpoint)
    s.phase = Phase.RINGING
    route = s.route
    return [
        RecordOffer(agent_id=e.agent_id, channel_id=channel_id, at=e.at),
        Originate(
            channel_id=channel_id,
            endpoint=e.endpoint,
            caller_number=s.caller_number,
            caller_name=s.caller_name,
            timeout=int(route.ring_timeout) + 5,
        ),
        StartTimer(RING_TIMER, route.ring_timeout),
    ]


def _agent_unavailable(s: CallSession, e: AgentUnavailable) -> list[Action]:
    disposition = "BUSY" if e.reason == "busy" else "FAILED"
    cause, text = (17, "User busy") if e.reason == "busy" else (20, "Subscriber absent")
    if s.route.kind == RouteKind.CALLBACK:
        return _finish(s, disposition, "SYSTEM", cause=cause, cause_text=text, at=e.at)
    return [
        RecordEvent("agent_unavailable", "", e.at, {"agent_id": e.agent_id, "reason": e.reason}),
        Hangup(s.caller_channel_id, CALLER_REASON[disposition]),
        *_finish(s, disposition, "SYSTEM", cause=cause, cause_text=text, at=e.at),
    ]


def _originate_failed(s: CallSession, e: OriginateFailed) -> list[Action]:
    if s.customer_channel_id and e.channel_id == s.customer_channel_id:
        # A callback's customer could not be dialed: release the agent who is waiting on the line.
        s.customer_channel_id = ""
        detail = {"status": e.status, "message": e.message}
        actions: list[Action] = [RecordEvent("customer_dial_failed", e.channel_id, e.at, detail)]
        actions += _hangup_legs(s, "normal")
        # Not Asterisk's words: "Allocation failed" would read as the agent's phone not being registered.
        return actions + _end_with_agent_wrapup(
            s, "FAILED", "SYSTEM", cause=None, cause_text=CUSTOMER_NOT_DIALED, at=e.at
        )
    offer = s.offer
    if offer is None or offer.channel_id != e.channel_id or offer.gone:
        return []
    offer.gone = True
    # 500 "Allocation failed" is what Asterisk answers for a phone that is not registered.
    result = "UNREACHABLE" if e.status == 500 else "FAILED"
    actions: list[Action] = [
        CancelTimer(RING_TIMER),
        RecordOfferEnd(channel_id=offer.channel_id, result=result, cause=None, at=e.at),
        RecordEvent("originate_failed", offer.channel_id, e.at, {"status": e.status, "message": e.message}),
    ]
    if result == "UNREACHABLE":
        actions.append(EndpointUnreachable(offer.agent_id))
    actions.append(AgentState(offer.agent_id, READY, only_from=(CALLING,), note="phone could not be rung"))
    s.offer = None
    return actions + _after_failed_offer(s, result, cause=20, cause_text="Subscriber absent", at=e.at)


def _after_failed_offer(s: CallSession, result: str, *, cause, cause_text, at) -> list[Action]:
    """An offer ended without an answer: a queue call waits for the next agent, a direct call ends."""
    if s.is_queue and not s.caller_gone:
        if s.overflow_due:
            return _overflow(s, at)
        s.phase = Phase.WAITING
        return [Enqueue(queue_id=s.route.queue_id, company_id=s.route.company_id, since=s.waiting_since or at)]
    if s.route.kind == RouteKind.CALLBACK:
        return [*_hangup_legs(s, "normal"), *_finish(s, "NO_ANSWER" if result != "BUSY" else "BUSY", "AGENT",
                                                     cause=cause, cause_text=cause_text, at=at)]  # fmt: skip
    disposition = result if result in ("BUSY", "NO_ANSWER") else "FAILED"
    return [
        Hangup(s.caller_channel_id, CALLER_REASON[disposition]),
        *_finish(s, disposition, "SYSTEM", cause=cause, cause_text=cause_text, at=at),
    ]


def _timer(s: CallSession, e: TimerFired) -> list[Action]:
    if e.name == RING_TIMER and s.phase == Phase.RINGING and s.offer and not s.offer.answered:
        s.offer.hung_up_by_us = "timeout"
        return [RecordEvent("ring_timeout", s.offer.channel_id, e.at), Hangup(s.offer.channel_id, "no_answer")]
    if e.name == MAX_WAIT_TIMER and s.is_queue and s.phase in (Phase.WAITING, Phase.RINGING):
        return _max_wait_reached(s, e.at)
    return []


def _max_wait_reached(s: CallSession, at: datetime) -> list[Action]:
    """The caller moves on to the overflow queue (once a ringing agent has not answered), or is let go."""
    if _may_overflow(s, at):
        if s.overflow_due:
            return []  # said already (the timer started again by a reconcile)
        if s.phase == Phase.WAITING:
            return _overflow(s, at)
        # An agent's phone rings: they may still answer. If they do not, the caller moves on then.
        s.overflow_due = True
        return [RecordEvent("overflow_due", s.caller_channel_id, at)]
    actions: list[Action] = [RecordEvent("max_wait_exceeded", s.caller_channel_id, at), Dequeue(),
                             CancelTimer(RING_TIMER)]  # fmt: skip
    if s.offer and not s.offer.gone:
        s.offer.hung_up_by_us = "withdrawn"
        actions.append(Hangup(s.offer.channel_id, "normal"))
    s.caller_gone = True
    actions.append(Hangup(s.caller_channel_id, "normal"))
    # keep_offer: a ringing agent's offer is closed, and the agent freed, when their leg's ChannelDestroyed comes.
    return actions + _finish(
        s, "ABANDONED", "SYSTEM", cause=None, cause_text="Maximum wait exceeded", at=at, keep_offer=True
    )


def _queue_unstaffed(s: CallSession, e: QueueUnstaffed) -> list[Action]:
    """Nobody works the queue the caller waits in: they move on now, if it has an open overflow queue. A ringing
    offer (an agent came back meanwhile) or a move already made leaves them where they are."""
    if s.phase != Phase.WAITING or not s.is_queue or s.route.queue_id != e.queue_id or not _may_overflow(s, e.at):
        return []
    return _overflow(s, e.at, reason="unstaffed")


def _may_overflow(s: CallSession, at: datetime) -> bool:
    """The queue has somewhere to send its callers at the maximum wait, and that queue is open now."""
    target = s.route.overflow
    return target is not None and (target.hours is None or target.hours.is_open(at))


def _overflow(s: CallSession, at: datetime, *, reason: str = "max_wait") -> list[Action]:
    """The caller leaves this queue's line for the overflow queue's, keeping their place by the time they called;
    `reason`: the maximum wait ran out, or nobody works the queue ("unstaffed")."""
    left, target = s.route, s.route.overflow
    s.overflowed_from = s.overflowed_from or left.queue_id
    s.route, s.phase, s.overflow_due = target, Phase.WAITING, False
    s.max_wait_until = at + timedelta(seconds=target.max_wait)
    detail = {"from_queue": left.queue_id, "to_queue": target.queue_id, "reason": reason}
    return [
        RecordEvent("overflowed", s.caller_channel_id, at, detail),
        Dequeue(),
        RecordOverflow(queue_id=target.queue_id, from_queue_id=s.overflowed_from, at=at),
        Enqueue(queue_id=target.queue_id, company_id=target.company_id, since=s.waiting_since or at),
        StartTimer(MAX_WAIT_TIMER, target.max_wait),
    ]


# The ARI event types _ari_event reads; the connection skips every other type unparsed.
EVENTS_READ = frozenset({"StasisStart", "StasisEnd", "ChannelStateChange", "ChannelHangupRequest", "ChannelDestroyed"})


def _ari_event(s: CallSession, event: dict, at: datetime) -> list[Action]:
    kind = event.get("type", "")
    channel = event.get("channel") or event.get("peer") or {}
    channel_id = channel.get("id", "")
    offer = s.offer if s.offer and channel_id == s.offer.channel_id else None
    is_caller = bool(channel_id) and channel_id == s.caller_channel_id
    is_customer = bool(channel_id) and channel_id == s.customer_channel_id

    if offer is not None:
        if s.phase == Phase.ENDED:
            return leg_finished_after_end(s, event, at) if kind == "ChannelDestroyed" else []
        return _agent_leg_event(s, offer, kind, event, at)
    if is_customer:
        return _customer_leg_event(s, kind, event, at)
    if is_caller and kind in ("ChannelHangupRequest", "StasisEnd"):
        return _caller_left(s, event, at)
    return []


def _timeline(kind: str, event: dict, at: datetime, **detail) -> RecordEvent:
    channel = event.get("channel") or event.get("peer") or {}
    key = f"{kind}:{channel.get('id', '')}:{event.get('timestamp', '')}:{detail.get('dialstatus', '')}"
    return RecordEvent(kind, channel.get("id", ""), at, {k: v for k, v in detail.items() if v not in (None, "")}, key)


def _agent_leg_event(s: CallSession, offer: OfferLeg, kind: str, event: dict, at: datetime) -> list[Action]:
    if kind == "ChannelStateChange" and event["channel"].get("state") == "Ringing" and not offer.ringing:
        offer.ringing = True
        actions: list[Action] = [_timeline("agent_ringing", event, at)]
        if not s.caller_answered and s.route.kind == RouteKind.AGENT:
            actions.append(Ring(s.caller_channel_id))  # the caller hears ringback while the agent's phone rings
        return actions
    if kind == "StasisStart" and not offer.answered and not offer.gone:
        return _agent_answered(s, offer, event, at)
    if kind == "ChannelHangupRequest":
        return [_timeline("agent_hangup_request", event, at, cause=event.get("cause"), soft=event.get("soft"))]
    if kind == "ChannelDestroyed" and not offer.gone:
        # Also how we learn the agent hung up a connected call: this event carries the real cause.
        return _agent_leg_gone(s, offer, event, at)
    return []


def _agent_answered(s: CallSession, offer: OfferLeg, event: dict, at: datetime) -> list[Action]:
    offer.answered = True
    s.phase = Phase.CONNECTED
    s.answered_agent_id = offer.agent_id
    s.answered_at = at
    s.bridge_id = s.bridge_id or bridge_id_for(s.key)
    actions: list[Action] = [
        _timeline("agent_answered", event, at),
        CancelTimer(RING_TIMER),
        Dequeue(),
        CancelTimer(MAX_WAIT_TIMER),
    ]
    if s.route.kind == RouteKind.CALLBACK:
        # The agent is on the line: now ring the customer into the same bridge.
        s.customer_channel_id = leg_channel_id(s.key, CUSTOMER_LEG_BASE + s.offers_made)
        actions += [
            CreateBridge(s.bridge_id),
            AddToBridge(s.bridge_id, (offer.channel_id,)),
            Originate(
                channel_id=s.customer_channel_id,
                endpoint=s.route.customer_endpoint,
                caller_number="",
                caller_name="",
                timeout=int(s.route.ring_timeout) + 10,
            ),
            AgentState(offer.agent_id, ON_CALL, only_from=(CALLING,), note="callback: agent answered"),
            RecordAnswer(agent_id=offer.agent_id, channel_id=offer.channel_id, bridge_id=s.bridge_id, at=at),
        ]
        return actions
    if s.is_queue:
        actions.append(StopRing(s.caller_channel_id))
    else:
        actions.append(Answer(s.caller_channel_id))
        s.caller_answered = True
    actions += [
        CreateBridge(s.bridge_id),
        AddToBridge(s.bridge_id, (s.caller_channel_id, offer.channel_id)),
        AgentState(offer.agent_id, ON_CALL, only_from=(CALLING,), note="answered"),
        RecordAnswer(agent_id=offer.agent_id, channel_id=offer.channel_id, bridge_id=s.bridge_id, at=at),
    ]
    return actions


def _offer_result(offer: OfferLeg, cause: int | None) -> str:
    if offer.hung_up_by_us == "timeout":
        return "NO_ANSWER"
    if offer.hung_up_by_us in ("withdrawn", "ended"):
        return "WITHDRAWN"
    if cause in BUSY_CAUSES:
        return "BUSY"
    if cause in NO_ANSWER_CAUSES:
        return "NO_ANSWER"
    if cause in UNREACHABLE_CAUSES:
        return "UNREACHABLE"
    return "FAILED"


def _agent_leg_gone(s: CallSession, offer: OfferLeg, event: dict, at: datetime) -> list[Action]:
    offer.gone = True
    cause, cause_text = event.get("cause"), event.get("cause_txt", "")
    actions: list[Action] = [_timeline("agent_leg_destroyed", event, at, cause=cause, cause_txt=cause_text)]
    if offer.answered:
        if s.phase == Phase.CONNECTED:
            return actions + _connected_call_ends(s, hung_up_by="AGENT", at=at, event=event)
        return actions
    # The agent never answered.
    result = _offer_result(offer, cause)
    actions += [CancelTimer(RING_TIMER), RecordOfferEnd(channel_id=offer.channel_id, result=result, cause=cause, at=at)]
    s.offer = None
    if result == "WITHDRAWN":
        return [*actions, AgentState(offer.agent_id, READY, only_from=(CALLING,), note="caller left")]
    if s.is_queue:
        # A missed queue offer pauses the agent (their own reason), so the next caller is not offered to them.
        actions.append(AgentState(offer.agent_id, AWAY, only_from=(CALLING,), note=f"missed call ({result})"))
    else:
        actions.append(AgentState(offer.agent_id, READY, only_from=(CALLING,), note=f"did not answer ({result})"))
    if result == "UNREACHABLE":
        actions.append(EndpointUnreachable(offer.agent_id))
    return actions + _after_failed_offer(s, result, cause=cause, cause_text=cause_text, at=at)


def _customer_leg_event(s: CallSession, kind: str, event: dict, at: datetime) -> list[Action]:
    """Callbacks: the customer's leg, rung once the agent answered."""
    if kind == "StasisStart":
        s.phase = Phase.CONNECTED
        return [_timeline("customer_answered", event, at), AddToBridge(s.bridge_id, (s.customer_channel_id,))]
    if kind == "ChannelDestroyed":
        cause, text = event.get("cause"), event.get("cause_txt", "")
        answered = s.phase == Phase.CONNECTED and s.answered_at is not None
        s.customer_channel_id = ""
        actions: list[Action] = [_timeline("customer_leg_destroyed", event, at, cause=cause, cause_txt=text)]
        if s.offer and not s.offer.gone:
            s.offer.hung_up_by_us = "ended"
            actions.append(Hangup(s.offer.channel_id, "normal"))
        disposition = "ANSWERED" if answered else ("BUSY" if cause in BUSY_CAUSES else "NO_ANSWER")
        return actions + _end_with_agent_wrapup(s, disposition, "CALLER", cause=cause, cause_text=text, at=at)
    return []


def _caller_left(s: CallSession, event: dict, at: datetime) -> list[Action]:
    if s.caller_gone:
        return []
    s.caller_gone = True
    cause = event.get("cause")
    actions: list[Action] = [_timeline("caller_left", event, at, cause=cause)]
    if s.phase == Phase.CONNECTED:
        return actions + _connected_call_ends(s, hung_up_by="CALLER", at=at, event=event)
    # Before any agent answered: withdraw a ringing offer, the call is abandoned (queue) or cancelled (direct).
    actions += [CancelTimer(RING_TIMER), CancelTimer(MAX_WAIT_TIMER), Dequeue()]
    if s.offer and not s.offer.gone:
        s.offer.hung_up_by_us = "withdrawn"
        actions.append(Hangup(s.offer.channel_id, "normal"))
    disposition = "ABANDONED" if s.is_queue else "CANCELLED"
    cause_text = "Caller cancelled" if cause == 127 or cause is None else f"Caller hung up (cause {cause})"
    return actions + _finish(s, disposition, "CALLER", cause=cause, cause_text=cause_text, at=at, keep_offer=True)


def _connected_call_ends(s: CallSession, *, hung_up_by: str, at: datetime, event: dict) -> list[Action]:
    actions: list[Action] = []
    if hung_up_by == "CALLER":
        if s.offer and not s.offer.gone:
            s.offer.hung_up_by_us = "ended"
            actions.append(Hangup(s.offer.channel_id, "normal"))
        if s.customer_channel_id:
            actions.append(Hangup(s.customer_channel_id, "normal"))
    else:
        if not s.caller_gone and s.caller_channel_id:
            s.caller_gone = True
            actions.append(Hangup(s.caller_channel_id, "normal"))
        if s.customer_channel_id:
            actions.append(Hangup(s.customer_channel_id, "normal"))
    cause = event.get("cause")
    return actions + _end_with_agent_wrapup(
        s, "ANSWERED", hung_up_by, cause=cause if cause is not None else 16, cause_text="Normal Clearing", at=at
    )


def _end_with_agent_wrapup(s: CallSession, disposition, hung_up_by, *, cause, cause_text, at) -> list[Action]:
    actions: list[Action] = []
    if s.answered_agent_id is not None:
        actions += [
            AgentState(s.answered_agent_id, POST_PROCESSING, only_from=(ON_CALL,), note="call ended"),
            StartWrapUp(s.answered_agent_id, s.route.wrapup_seconds),
        ]
    return actions + _finish(s, disposition, hung_up_by, cause=cause, cause_text=cause_text, at=at, keep_offer=True)


def _hangup_legs(s: CallSession, reason: str) -> list[Action]:
    actions: list[Action] = []
    if s.offer and not s.offer.gone:
        s.offer.hung_up_by_us = s.offer.hung_up_by_us or "ended"
        actions.append(Hangup(s.offer.channel_id, reason))
    if s.customer_channel_id:
        actions.append(Hangup(s.customer_channel_id, reason))
    return actions


def _finish(s, disposition, hung_up_by, *, cause, cause_text, at, reconciled=False, keep_offer=False) -> list[Action]:
    """Record the end. The session stays until its last leg is gone, so late events still find it."""
    s.phase = Phase.ENDED
    actions: list[Action] = [CancelTimer(MAX_WAIT_TIMER)]
    if s.bridge_id:
        actions.append(DestroyBridge(s.bridge_id))
    actions.append(
        RecordEnd(
            disposition=disposition,
            hangup_by=hung_up_by,
            cause=cause,
            cause_text=cause_text or "",
            at=at,
            reconciled=reconciled,
        )
    )
    if keep_offer and s.offer and not s.offer.gone:
        # Wait for the agent leg's ChannelDestroyed to record how the offer ended; the engine forgets us then.
        return actions
    s.ended = True
    return [*actions, Forget()]


def leg_finished_after_end(s: CallSession, event: dict, at: datetime) -> list[Action]:
    """An ended call's remaining agent leg is destroyed: close its offer and free the agent if still ringing."""
    offer = s.offer
    if offer is None or offer.gone:
        return []
    offer.gone = True
    actions: list[Action] = []
    if not offer.answered:
        result = _offer_result(offer, event.get("cause"))
        actions += [
            RecordOfferEnd(channel_id=offer.channel_id, result=result, cause=event.get("cause"), at=at),
            AgentState(offer.agent_id, READY, only_from=(CALLING,), note="caller left"),
        ]
    s.ended = True
    return [*actions, Forget()]


def _reconciled(s: CallSession, e: Reconciled) -> list[Action]:
    """After events may have been missed: close what Asterisk no longer has, keep what it still has."""
    offer = s.offer
    offer_alive = offer is not None and not offer.gone and offer.channel_id in e.live_channels
    if s.phase == Phase.ENDED:
        return [] if offer_alive else leg_finished_after_end(s, {}, e.at)
    if s.route is not None and s.route.kind == RouteKind.CALLBACK:
        return _reconciled_callback(s, e, offer_alive)
    caller_alive = s.caller_channel_id in e.live_channels
    actions: list[Action] = []

    if s.phase == Phase.CONNECTED:
        if caller_alive and offer_alive:
            if s.bridge_id not in e.live_bridges:
                actions += [
                    CreateBridge(s.bridge_id),
                    AddToBridge(s.bridge_id, (s.caller_channel_id, offer.channel_id)),
                ]
            return actions  # still talking; the bridge is kept
        # One side is gone and the events saying so were missed: hang up the other side, end the call.
        if caller_alive:
            s.caller_gone = True
            actions.append(Hangup(s.caller_channel_id, "normal"))
        if offer_alive:
            offer.hung_up_by_us = "ended"
            actions.append(Hangup(offer.channel_id, "normal"))
        return actions + _reconciled_end(s, "ANSWERED", "AGENT" if caller_alive else "CALLER", e.at)

    if not caller_alive:
        # The caller left while we were not listening.
        s.caller_gone = True
        actions += [Dequeue(), CancelTimer(RING_TIMER)]
        if offer is not None and not offer.gone:
            if offer_alive:
                actions.append(Hangup(offer.channel_id, "normal"))
            actions += [
                RecordOfferEnd(channel_id=offer.channel_id, result="WITHDRAWN", cause=None, at=e.at),
                AgentState(offer.agent_id, READY, only_from=(CALLING,), note="caller lost while disconnected"),
            ]
        return actions + _reconciled_end(s, "ABANDONED" if s.is_queue else "CANCELLED", "CALLER", e.at)

    if offer is not None and not offer.gone and not offer_alive:
        # The ringing leg vanished while we were away: an unanswered offer.
        offer.gone = True
        s.offer = None
        actions += [
            RecordOfferEnd(channel_id=offer.channel_id, result="FAILED", cause=None, at=e.at),
            AgentState(offer.agent_id, READY, only_from=(CALLING,), note="leg lost while disconnected"),
        ]
        return actions + _after_failed_offer(s, "FAILED", cause=None, cause_text="Agent leg lost", at=e.at)
    if offer_alive:
        actions.append(StartTimer(RING_TIMER, s.route.ring_timeout))
    elif s.phase == Phase.WAITING:
        actions.append(Enqueue(queue_id=s.route.queue_id, company_id=s.route.company_id, since=s.waiting_since or e.at))
    if s.is_queue and s.max_wait_until is not None:
        # A session rebuilt after a restart has no timer; a live one gets its own deadline again.
        actions.append(StartTimer(MAX_WAIT_TIMER, max(0.0, (s.max_wait_until - e.at).total_seconds())))
    return actions


def _reconciled_callback(s: CallSession, e: Reconciled, agent_alive: bool) -> list[Action]:
    customer_alive = bool(s.customer_channel_id) and s.customer_channel_id in e.live_channels
    if agent_alive and (customer_alive or s.phase == Phase.RINGING):
        return [StartTimer(RING_TIMER, s.route.ring_timeout)] if s.phase == Phase.RINGING else []
    actions: list[Action] = []
    if agent_alive:
        s.offer.hung_up_by_us = "ended"
        actions.append(Hangup(s.offer.channel_id, "normal"))
    if customer_alive:
        actions.append(Hangup(s.customer_channel_id, "normal"))
    if s.phase == Phase.CONNECTED:
        return actions + _reconciled_end(s, "ANSWERED", "CALLER" if agent_alive else "AGENT", e.at)
    offer = s.offer
    if offer is not None and not offer.gone:
        actions += [
            RecordOfferEnd(channel_id=offer.channel_id, result="FAILED", cause=None, at=e.at),
            AgentState(offer.agent_id, READY, only_from=(CALLING,), note="callback lost while disconnected"),
        ]
    return actions + _reconciled_end(s, "NO_ANSWER", "SYSTEM", e.at)


def _reconciled_end(s: CallSession, disposition: str, hung_up_by: str, at: datetime) -> list[Action]:
    actions: list[Action] = []
    if s.answered_agent_id is not None:
        actions += [
            AgentState(s.answered_agent_id, POST_PROCESSING, only_from=(ON_CALL,), note="call lost (reconciled)"),
            StartWrapUp(s.answered_agent_id, s.route.wrapup_seconds),
        ]
    if s.offer is not None:
        s.offer.gone = True
    return actions + _finish(
        s, disposition, hung_up_by, cause=None, cause_text="Closed by reconciliation", at=at, reconciled=True
    )

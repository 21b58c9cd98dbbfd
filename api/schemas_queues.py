"""What the queues routes take and give: a queue's number, timeouts, members and business hours as the queue page
edits them, and how many callers wait in it now."""

from datetime import datetime
from typing import Annotated

from django.core.validators import MaxValueValidator, MinValueValidator
from ninja import Schema
from pydantic import Field, StrictBool, StrictInt

from api.schemas import BodyId, BodyIn, local, text, zone_of
from calls.models import Queue
from calls.selectors import QueueWaiting


def _seconds(name: str, description: str):
    """The model field's own range: the document states it, and it is written down once, on the model."""
    validators = Queue._meta.get_field(name).validators
    low = max((v.limit_value for v in validators if isinstance(v, MinValueValidator)), default=0)
    high = min(v.limit_value for v in validators if isinstance(v, MaxValueValidator))
    return Annotated[StrictInt, Field(ge=low, le=high, description=description)]


RingTimeout = _seconds("ring_timeout_seconds", "How long an agent's phone rings before the next agent is tried.")
Wrapup = _seconds("wrapup_seconds", "An agent's wrap-up after one of this queue's calls.")
MaxWait = _seconds(
    "max_wait_seconds", "A caller waiting longer moves to the overflow queue, or without one is let go (ABANDONED)."
)
ServiceLevel = _seconds("service_level_seconds", "Calls answered within this count towards the service level.")
QueueName = text(100, min_length=1)
QueueNumber = Annotated[text(20), Field(description="What callers dial: 2 to 20 digits, in no company's extensions.")]
MemberIds = Annotated[
    list[BodyId],
    Field(description="The agents (user ids of the company's active agents) who take the calls; [] for every agent."),
]
BusinessHoursId = Annotated[
    BodyId | None, Field(description="The company's business hours the queue keeps; null: always open.")
]
OverflowQueueId = Annotated[
    BodyId | None,
    Field(description="Another active queue of the company that callers still waiting at the maximum wait move to "
                      "(ahead of its callers who called later); null: the call ends at the maximum wait."),
]  # fmt: skip


class QueueOut(Schema):
    id: int
    company_id: int
    name: str
    number: str
    ring_timeout_seconds: int
    wrapup_seconds: int
    max_wait_seconds: int
    service_level_seconds: int
    strategy: Queue.Strategy = Field(description="Who gets the next call: the agent READY the longest.")
    member_ids: list[int] = Field(description="The agents who take the calls; [] when every agent of the company does.")
    business_hours_id: int | None = Field(description="The business hours the queue keeps; null: always open.")
    overflow_queue_id: int | None = Field(description="Where callers go at the maximum wait; null: the call ends.")
    overflow_when_unstaffed: bool = Field(
        description="Callers move on to the overflow queue at once while none of the queue's agents works."
    )
    is_active: bool = Field(description="An inactive queue takes no calls; its history stays.")
    waiting: int = Field(description="Callers waiting in the queue now (0 for an inactive queue).")
    longest_waiting_since: datetime | None = Field(
        description="When the caller waiting longest entered the queue; null when nobody waits."
    )


class QueuePage(Schema):
    items: list[QueueOut]


def _default(name: str):
    return Queue._meta.get_field(name).default  # the page's, for the document to show


class QueueIn(BodyIn):
    company_id: BodyId | None = Field(
        default=None, description="The company the queue is for: required for system admins; managers may omit it."
    )
    name: QueueName
    number: QueueNumber
    ring_timeout_seconds: RingTimeout = _default("ring_timeout_seconds")
    wrapup_seconds: Wrapup = _default("wrapup_seconds")
    max_wait_seconds: MaxWait = _default("max_wait_seconds")
    service_level_seconds: ServiceLevel = _default("service_level_seconds")
    member_ids: MemberIds = Field(default_factory=list)
    business_hours_id: BusinessHoursId = None
    overflow_queue_id: OverflowQueueId = None
    overflow_when_unstaffed: StrictBool = _default("overflow_when_unstaffed")
    is_active: StrictBool = _default("is_active")


class QueuePatchIn(BodyIn):
    name: QueueName = None
    number: QueueNumber = None
    ring_timeout_seconds: RingTimeout = None
    wrapup_seconds: Wrapup = None
    max_wait_seconds: MaxWait = None
    service_level_seconds: ServiceLevel = None
    member_ids: MemberIds = None
    business_hours_id: BusinessHoursId = None
    overflow_queue_id: OverflowQueueId = None
    overflow_when_unstaffed: StrictBool = None
    is_active: StrictBool = Field(default=None, description="false deactivates the queue (there is no DELETE).")


def queue_out(queue: Queue, waiting: QueueWaiting | None) -> dict:
    return {
        "id": queue.pk,
        "company_id": queue.company_id,
        "name": queue.name,
        "number": queue.number,
        "ring_timeout_seconds": queue.ring_timeout_seconds,
        "wrapup_seconds": queue.wrapup_seconds,
        "max_wait_seconds": queue.max_wait_seconds,
        "service_level_seconds": queue.service_level_seconds,
        "strategy": queue.strategy,
        "member_ids": sorted(member.pk for member in queue.members.all()),
        "business_hours_id": queue.business_hours_id,
        "overflow_queue_id": queue.overflow_queue_id,
        "overflow_when_unstaffed": queue.overflow_when_unstaffed,
        "is_active": queue.is_active,
        "waiting": waiting.waiting if waiting else 0,
        "longest_waiting_since": local(waiting.oldest_at, zone_of(queue.company)) if waiting else None,
    }

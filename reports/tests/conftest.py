"""A company day (2026-11-21 in Seoul) with known calls, offers and state changes, and its neighbours."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.models import ActivityChange, User
from api.services import token_issue
from api.tests.conftest import JsonClient
from calls.models import Call, Disposition, Offer, OfferResult, Queue
from companies.models import PauseReason

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=SEOUL)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment of November 2026 in Seoul."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=SEOUL)


@pytest.fixture
def queue_a(company_a):
    return Queue.objects.create(company=company_a, name="Support", number="7000", service_level_seconds=20)


_channels = iter(range(1_000_000))


def make_call(company, *, enqueued_at, queue=None, agent=None, disposition=Disposition.ANSWERED, state="ENDED",
              wait=0.0, talk=0.0, wrapup=0.0, **fields):  # fmt: skip
    return Call.objects.create(
        company=company,
        queue=queue,
        agent=agent,
        caller_channel_id=f"report-{next(_channels)}",
        state=state,
        disposition=disposition if state == "ENDED" else "",
        enqueued_at=enqueued_at,
        wait_seconds=wait,
        talk_seconds=talk,
        wrapup_seconds=wrapup,
        **fields,
    )


def change(agent, to_state, moment, reason_code=None):
    """An audit row as the activity service writes it at that moment: from the state the agent was in, and how long
    they were in it (changes are made in order)."""
    reason = PauseReason.objects.get(company=agent.company, code=reason_code) if reason_code else None
    agent.refresh_from_db()
    row = ActivityChange.objects.create(
        agent=agent, company=agent.company, from_state=agent.activity_state, to_state=to_state, pause_reason=reason,
        source="SELF", changed_at=moment,
        seconds_in_previous=max(0.0, (moment - agent.activity_changed_at).total_seconds()),
    )  # fmt: skip
    User.objects.filter(pk=agent.pk).update(activity_state=to_state, activity_changed_at=moment, pause_reason=reason)
    return row


@pytest.fixture
def day_of_calls(company_a, company_b, queue_a, agent_a, agent_b):
    """On the 21st: two answered queue calls (one within the 20 s service level), one abandoned, one missed offer;
    around it, calls that must not count (the 20th, the other company, one still waiting)."""
    # 00:30 in Seoul is still the 20th in UTC: it counts on the company's 21st.
    first = make_call(company_a, enqueued_at=at(21, 0, 30), queue=queue_a, agent=agent_a, wait=10, talk=60, wrapup=30)
    make_call(company_a, enqueued_at=at(21, 10), queue=queue_a, agent=agent_a, wait=30, talk=100)
    make_call(company_a, enqueued_at=at(21, 11), queue=queue_a, disposition=Disposition.ABANDONED, wait=40)
    make_call(company_a, enqueued_at=at(20, 23, 59), queue=queue_a, agent=agent_a, wait=5, talk=50)
    make_call(company_a, enqueued_at=at(21, 12), queue=queue_a, state="WAITING")
    make_call(company_b, enqueued_at=at(21, 10), agent=agent_b, talk=999)
    Offer.objects.create(call=first, company=company_a, agent=agent_a, channel_id="offer-missed",
                         offered_at=at(21, 0, 29), result=OfferResult.NO_ANSWER)  # fmt: skip


@pytest.fixture
def day_of_states(agent_a):
    """agent_a's 21st: away on a break since the evening before, a call, lunch, and ready until the next day."""
    change(agent_a, "AWAY", at(20, 23), "BREAK")
    change(agent_a, "READY", at(21, 9))
    change(agent_a, "CALLING", at(21, 9, 10))
    change(agent_a, "ON_CALL", at(21, 9, 10, 20))
    change(agent_a, "POST_PROCESSING", at(21, 9, 15, 20))
    change(agent_a, "READY", at(21, 9, 15, 50))
    change(agent_a, "AWAY", at(21, 12), "LUNCH")
    change(agent_a, "READY", at(21, 13))
    change(agent_a, "AWAY", at(22, 1), "BREAK")


@pytest.fixture
def client(client):
    """In English unless a test asks for Korean (the product's default)."""
    client.cookies["django_language"] = "en"
    return client


def api_as(user) -> JsonClient:
    """A JSON client of /api/v1 holding a fresh token of that user."""
    return JsonClient(token_issue(user=user).token)

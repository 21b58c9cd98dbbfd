"""API test helpers: a JSON client that signs requests with a real bearer token of a given user."""

import json

import pytest
from django.test import Client

from api.services import token_issue

API = "/api/v1"


class JsonClient:
    """Django's test client speaking JSON to /api/v1 with `Authorization: Bearer …` when a user is given."""

    def __init__(self, token: str | None = None):
        self.client = Client()
        self.token = token

    def _headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def request(self, method: str, path: str, body=None, *, raw: str | bytes | None = None, headers=None, **query):
        url = path if path.startswith("/") else f"{API}/{path}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        call = getattr(self.client, method.lower())
        if method.upper() == "GET":
            return call(url, query, headers=self._headers(headers))
        kwargs = {"content_type": "application/json"} if data is not None else {}
        return (
            call(url, data, headers=self._headers(headers), **kwargs)
            if data is not None
            else call(url, headers=self._headers(headers))
        )

    def get(self, path, **query):
        return self.request("GET", path, **query)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def patch(self, path, body=None, **kwargs):
        return self.request("PATCH", path, body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self.request("PUT", path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def api_as():
    """`api_as(user)`: a JSON client holding a fresh token of that user; `api_as(None)`: no token."""

    def make(user=None) -> JsonClient:
        return JsonClient(token_issue(user=user).token if user is not None else None)

    return make


def error_code(response) -> str:
    return response.json()["error"]["code"]


def fields(response) -> dict:
    """A refused payload's messages by field (asserting it was refused as invalid)."""
    assert response.status_code == 422, response.json()
    assert error_code(response) == "validation_error"
    return response.json()["error"]["fields"]


@pytest.fixture
def hours_b(company_b):
    from calls.models import BusinessHours

    return BusinessHours.objects.create(company=company_b, name="Theirs", monday="10:00-17:00")


def walk_pages(client: JsonClient, path: str, **query) -> tuple[list[int], list[int]]:
    """Every page of a list from the first on, following `next_cursor`: the ids in the order shown, and the number of
    items on each page."""
    seen, sizes, cursor = [], [], None
    for _ in range(100):
        response = client.get(path, **query, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.json()
        items = response.json()["items"]
        seen += [item["id"] for item in items]
        sizes.append(len(items))
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen, sizes
    raise AssertionError("the pages never ended")


@pytest.fixture
def seeded_calls(company_a, company_b, agent_a, agent_b, manager_a, make_user):
    """Calls of both companies over three Seoul days: agent_a's, another company-A agent's, and agent_b's."""
    from datetime import UTC, datetime, timedelta

    from accounts.models import Role
    from calls.models import Call, CallEvent, CallState, Direction, Disposition, Offer, OfferResult, Queue

    other_agent_a = make_user(role=Role.AGENT, company=company_a, username="agent_a2", extension="1001")
    queue_a = Queue.objects.create(company=company_a, name="Sales", number="5000")
    queue_b = Queue.objects.create(company=company_b, name="Support", number="6000")
    # 2026-11-24 15:30 UTC is 2026-11-25 00:30 in Seoul: it belongs to the 25th.
    first = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    rows = [
        # (company, queue, agent, minutes after first, disposition, direction, caller number)
        (company_a, queue_a, agent_a, 0, Disposition.ANSWERED, Direction.INBOUND, "010-1111-2222"),
        (company_a, queue_a, other_agent_a, 10, Disposition.ABANDONED, Direction.INBOUND, "010-3333-4444"),
        (company_a, None, agent_a, 60 * 24, Disposition.NO_ANSWER, Direction.INTERNAL, "1001"),
        (company_a, queue_a, agent_a, 60 * 24 + 5, Disposition.ANSWERED, Direction.INBOUND, "+82 10-1111-2222"),
        (company_a, queue_a, other_agent_a, 60 * 48, Disposition.ANSWERED, Direction.OUTBOUND, "02-555-6666"),
        (company_b, queue_b, agent_b, 5, Disposition.ANSWERED, Direction.INBOUND, "010-1111-2222"),
        (company_b, queue_b, agent_b, 60 * 24 + 1, Disposition.BUSY, Direction.INBOUND, "010-9999-0000"),
    ]
    calls = []
    for n, (company, queue, agent, minutes, disposition, direction, number) in enumerate(rows):
        start = first + timedelta(minutes=minutes)
        answered = start + timedelta(seconds=12) if disposition == Disposition.ANSWERED else None
        call = Call.objects.create(
            company=company,
            queue=queue,
            agent=agent,
            direction=direction,
            caller_number=number,
            caller_name=f"고객 {n}",
            dialed_number=queue.number if queue else "1000",
            caller_channel_id=f"chan-{n}",
            state=CallState.ENDED,
            enqueued_at=start,
            answered_at=answered,
            ended_at=start + timedelta(minutes=3),
            wait_seconds=12.0,
            talk_seconds=168.0 if answered else None,
            disposition=disposition,
            hangup_cause=16,
            hangup_cause_text="Normal Clearing",
        )
        Offer.objects.create(
            call=call,
            company=company,
            agent=agent,
            channel_id=f"offer-{n}",
            offered_at=start + timedelta(seconds=2),
            answered_at=answered,
            ended_at=start + timedelta(minutes=3),
            result=OfferResult.ANSWERED if answered else OfferResult.NO_ANSWER,
        )
        CallEvent.objects.create(
            call=call, at=start, kind="StasisStart", channel_id=f"chan-{n}", detail={"n": n}, key=f"start-{n}"
        )
        CallEvent.objects.create(
            call=call, at=start + timedelta(minutes=3), kind="ChannelDestroyed", channel_id=f"chan-{n}", key=f"end-{n}"
        )
        calls.append(call)
    return calls

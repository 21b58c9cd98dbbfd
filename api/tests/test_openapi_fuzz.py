"""Schemathesis against /api/v1/openapi.json: generated requests (valid and invalid) never get a server error and every
answer matches the document (status, content type, body schema). Bounded: a fixed number of examples per route."""

from datetime import date, timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings

from accounts.models import User
from api.services import token_issue
from calls.models import AbuseReport, BlockedCaller, BusinessHours, Call, CallState, Direction, Queue
from calls.services_abuse import abuse_report, abuse_report_dismiss
from calls.services_blocking import caller_block
from companies.models import Company

EXAMPLES_PER_ROUTE = 40


# Loaded at collection: the OpenAPI view needs no database. (schemathesis' lazy `from_fixture` breaks on pytest 9.)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
schema.config.generation.update(max_examples=EXAMPLES_PER_ROUTE, modes=["positive", "negative"])
# Schema-valid requests may still break rules a JSON Schema cannot state (password strength, unique usernames, ids
# that must exist in the reader's company, day order, cursors the server signed): those are 400 or 422 by design.
schema.config.checks.positive_data_acceptance.expected_statuses = [
    *schema.config.checks.positive_data_acceptance.expected_statuses,
    "400",
    "422",
]


@schema.hook
def filter_query(ctx, query):
    """A list is sent as its parameter repeated, an object as its keys so (no parameter of this API is either): one
    item serializes exactly like a text (`?is_active=false`), and of a repeated parameter Django reads the last
    (`?search=a&search=b` is `search=b`), which is then checked like any other value."""
    return not any(isinstance(value, list | dict) for value in (query or {}).values())


@schema.hook
def map_path_parameters(ctx, path_parameters):
    """Half the generated ids are swapped for ids that exist, so the routes' found-it paths are fuzzed too."""
    rows = {
        "user_id": User.objects,
        "company_id": Company.objects,
        "call_id": Call.objects,
        "hours_id": BusinessHours.objects,
        "queue_id": Queue.objects,
        "blocked_id": BlockedCaller.objects,
        "report_id": AbuseReport.objects,
    }
    for name, value in (path_parameters or {}).items():
        if name in rows and isinstance(value, int) and not isinstance(value, bool) and value % 2 == 0:
            existing = list(rows[name].order_by("pk").values_list("pk", flat=True))
            if existing:
                path_parameters[name] = existing[value // 2 % len(existing)]
    return path_parameters


@schema.hook
def map_body(ctx, body):
    """Existing companies and strong passwords for some bodies, so creating users succeeds now and then."""
    if isinstance(body, dict):
        if isinstance(body.get("password"), str):
            body["password"] += "-Vq7#Lp2-zebra"
        company_id = body.get("company_id")
        if isinstance(company_id, int) and not isinstance(company_id, bool) and company_id % 2 == 0:
            existing = list(Company.objects.order_by("pk").values_list("pk", flat=True))
            body["company_id"] = existing[company_id // 2 % len(existing)]
    return body


@pytest.fixture
def keep_test_transaction_open():
    """The WSGI handler closes the connection after each request; Django's own test client unhooks this too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def business_hours(seeded_calls, company_a, company_b):
    """Hours to read, change and delete, each with a closed day and the company's queues using them."""
    for company in (company_a, company_b):
        hours = BusinessHours.objects.create(company=company, name="Weekdays", monday="09:00-12:00, 13:00-18:00")
        hours.closed_days.create(day=date(2026, 12, 25), name="Christmas")
        company.queues.filter(business_hours=None).update(business_hours=hours)


@pytest.fixture
def blocked_numbers(company_a, company_b):
    """A number blocked in each company: for good in one, for a week in the other."""
    caller_block(company=company_a, number="010-1111-2222", reason="Abusive")
    caller_block(company=company_b, number="010-9999-0000", until=timezone.now() + timedelta(days=7))


@pytest.fixture
def abuse_reports(seeded_calls, company_a, agent_a, agent_b, manager_b):
    """Reports to list and answer: an open one, a dismissed one, and one on a call that came without a number."""
    abuse_report(call=seeded_calls[0], by=agent_a, reason="Shouted and swore")
    abuse_report_dismiss(report=abuse_report(call=seeded_calls[5], by=agent_b, reason="Rude"), by=manager_b)
    anonymous = Call.objects.create(
        company=company_a,
        agent=agent_a,
        direction=Direction.INBOUND,
        dialed_number="5000",
        caller_channel_id="anonymous",
        state=CallState.ENDED,
        enqueued_at=timezone.now(),
        ended_at=timezone.now(),
    )
    abuse_report(call=anonymous, by=agent_a, reason="Silent calls")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_every_generated_request_as_documented(
    case, db, keep_test_transaction_open, seeded_calls, business_hours, blocked_numbers, abuse_reports, admin_user
):
    # A fresh token each time: the fuzzer may well call /auth/logout with the one before.
    # Only where the generated request carries the header: a request meant to lack it must stay without.
    if case.headers and "Authorization" in case.headers:
        case.headers["Authorization"] = f"Bearer {token_issue(user=admin_user).token}"
    case.call_and_validate()

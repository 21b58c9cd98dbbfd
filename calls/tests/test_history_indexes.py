"""Queries that run at every wrap-up's end or every wallboard refresh are served by an index, so they cost the same
in a center's first week and after a year of calls. Tiny test tables would be scanned anyway, so each test asks the
planner which index it would use when scanning is dear."""

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from calls import selectors, services
from calls.tests.test_services_records import answered_call


def planned(queryset) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        return queryset.explain()


def test_an_agents_last_answered_call_at_each_wrap_up_end(agent_a):
    """Sorting the agent's whole history took 58 ms for 100,000 calls, inside the telephony writer's batch."""
    answered_call("a-1", agent_a, start=timezone.now(), talk=10)
    plan = planned(services._last_answered_call(agent=agent_a.pk))
    assert "call_agent_last_answered" in plan, plan


def test_the_wallboards_missed_offers_of_the_day(agent_a):
    """A scan of every offer the company ever made took 115 ms on both cores for 1,000,000 offers."""
    answered_call("a-1", agent_a, start=timezone.now(), talk=10)
    since = timezone.now() - timedelta(hours=8)
    plan = planned(selectors.missed_offers_per_agent(company_id=agent_a.company_id, since=since))
    assert "offer_company_time" in plan, plan

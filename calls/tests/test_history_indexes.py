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


def _log_page(user, **filters):
    """The call log's query for one page (calls_page), unevaluated."""
    calls = selectors.calls_filtered(user=user, filters=selectors.CallFilters(**filters))
    return calls.order_by("-enqueued_at", "-id")[:51]


def test_the_call_log_filtered_by_a_result_few_calls_have(manager_a, admin_user, agent_a):
    """Looked for along `call_time`, a result the company never had meant reading every call: 866 ms for 2,000,000."""
    answered_call("a-1", agent_a, start=timezone.now(), talk=10)
    for user in (manager_a, admin_user):
        plan = planned(_log_page(user, disposition="BUSY"))
        # Which of the two result indexes serves a company is the planner's pick (tiny tables tie); either way the
        # result bounds the index scan instead of filtering rows found along the time index.
        conditions = [line for line in plan.splitlines() if "Index Cond" in line]
        assert any("disposition" in line for line in conditions), plan

"""The claim of a direct call's agent runs for every call the engine routes; it must read the agents it claims by
their primary key however many users the database holds."""

import json

from django.db import connection
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import _CLAIM_SQL
from accounts.states import ActivityState, ChangeSource


def test_a_claim_reads_its_agents_by_primary_key_among_thousands_of_users(agent_a, company_a):
    """`IN (SELECT … FROM wanted)` let the planner, which expects a hundred rows of any JSON, scan every user."""
    User.objects.bulk_create(
        User(username=f"many-{n}", role=Role.AGENT, company=company_a, extension=str(30000 + n), password="!")
        for n in range(3000)
    )
    wanted = json.dumps([{"n": 0, "agent_id": agent_a.pk, "note": "call x"}])
    params = {"wanted": wanted, "now": timezone.now(), "from": ActivityState.READY, "to": ActivityState.CALLING,
              "agent": Role.AGENT, "source": ChangeSource.TELEPHONY}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_user")
        cursor.execute("EXPLAIN " + _CLAIM_SQL, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    locked = plan[plan.index("CTE locked") : plan.index("CTE claimed")]
    assert "Index Scan using accounts_user_pkey" in locked and "Seq Scan" not in locked, plan

"""update_each: many rows, each its own values, in one statement, only where the queryset's filter still holds; on
PostgreSQL (the suite's database) and on the newcomer's SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import user_create
from accounts.states import ActivityState
from companies.services import company_create
from pbx.row_updates import update_each

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def agents(db):
    company = company_create(name="Row updates")
    return [
        user_create(username=f"row{n}", password="!", role=Role.AGENT, company=company, extension=f"70{n}",
                    validate=False)
        for n in range(4)
    ]  # fmt: skip


def test_each_row_gets_its_own_values_in_one_statement(agents):
    now = timezone.now()
    rows = {
        agent.pk: {"activity_state": state, "activity_changed_at": now - timedelta(seconds=n)}
        for n, (agent, state) in enumerate(zip(agents, [ActivityState.AWAY, ActivityState.TRAINING, ActivityState.READY,
                                                        ActivityState.ON_CALL], strict=True))
    }  # fmt: skip

    with CaptureQueriesContext(connection) as queries:
        written = update_each(User.objects.all(), rows)

    assert written == set(rows)
    assert len(queries) == 1
    for agent in agents:
        agent.refresh_from_db()
        assert agent.activity_state == rows[agent.pk]["activity_state"]
        assert agent.activity_changed_at == rows[agent.pk]["activity_changed_at"]


def test_rows_the_filter_no_longer_matches_are_left_alone_and_not_returned(agents):
    User.objects.filter(pk=agents[0].pk).update(activity_state=ActivityState.ON_CALL)
    rows = {agent.pk: {"activity_state": ActivityState.AWAY} for agent in agents}

    written = update_each(User.objects.exclude(activity_state=ActivityState.ON_CALL), rows)

    assert written == {agent.pk for agent in agents[1:]}
    assert User.objects.get(pk=agents[0].pk).activity_state == ActivityState.ON_CALL


def test_rows_are_found_by_another_unique_column(agents):
    written = update_each(
        User.objects.all(), {agents[1].username: {"first_name": "민지"}, "nobody": {"first_name": "x"}}, key="username"
    )

    assert written == {agents[1].username}
    assert User.objects.get(pk=agents[1].pk).first_name == "민지"


def test_a_column_of_nulls_and_rows_with_different_fields(agents):
    """PostgreSQL would type a VALUES column of NULLs as text: the cast to the field's type makes it a timestamp."""
    User.objects.update(after_call_reason=None, last_login=timezone.now())
    rows = {agents[0].pk: {"last_login": None}, agents[1].pk: {"last_login": None, "after_call_state": "AWAY"}}

    written = update_each(User.objects.all(), rows)

    assert written == {agents[0].pk, agents[1].pk}
    assert User.objects.get(pk=agents[0].pk).last_login is None
    assert User.objects.get(pk=agents[1].pk).after_call_state == "AWAY"
    assert User.objects.get(pk=agents[2].pk).last_login is not None


def test_a_filter_that_matches_nothing_writes_nothing(agents):
    assert update_each(User.objects.none(), {agents[0].pk: {"first_name": "x"}}) == set()
    assert User.objects.get(pk=agents[0].pk).first_name == ""


def test_a_filter_across_a_join_is_refused(agents):
    with pytest.raises(AssertionError):
        update_each(User.objects.filter(company__name="Row updates"), {agents[0].pk: {"first_name": "x"}})


# A call's whole life through the calls services (each write is an update_each, the timeline an insert_under_parents)
# on a SQLite file.
SQLITE_CALL = """
import json
from datetime import timedelta
from django.utils import timezone
from accounts.models import Role
from accounts.services import user_create
from calls import services
from calls.models import Call, Offer
from companies.services import company_create

company = company_create(name="SQLite")
agent = user_create(username="lite", password="!", role=Role.AGENT, company=company, extension="7100", validate=False)
start = timezone.now()
services.call_start(caller_channel_id="c1", dialed_number="7100", caller_number="01012345678", caller_name="",
                    company_id=company.pk, queue_id=None, agent_id=agent.pk, at=start)
services.call_offer_start(caller_channel_id="c1", agent_id=agent.pk, channel_id="leg1", at=start)
services.call_answer(caller_channel_id="c1", agent_id=agent.pk, channel_id="leg1", bridge_id="br1",
                     at=start + timedelta(seconds=2))
services.call_end(caller_channel_id="c1", disposition="ANSWERED", hangup_by="CALLER", cause=16,
                  cause_text="Normal Clearing", at=start + timedelta(seconds=32))
services.call_end(caller_channel_id="c1", disposition="NO_ANSWER", hangup_by="SYSTEM", cause=19, cause_text="late",
                  at=start + timedelta(seconds=40))
services.call_offer_end(channel_id="leg1", result="NO_ANSWER", cause=16, at=start + timedelta(seconds=32))
services.calls_events_add([("c1", {"at": start, "kind": "rung", "detail": {"to": "7100"}}),
                           ("c1", {"at": start, "kind": "answered"}), ("c404", {"at": start, "kind": "lost"}),
                           ("c1", {"at": start, "kind": "rung", "detail": {"to": "7100"}})])
call, offer = Call.objects.get(), Offer.objects.get()
print(json.dumps({"timeline": [[e.kind, e.detail] for e in call.events.all()],
                  "state": call.state, "disposition": call.disposition, "wait": call.wait_seconds,
                  "talk": call.talk_seconds, "agent": call.agent_id == agent.pk, "bridge": call.bridge_id,
                  "offer": offer.result, "offer_answered": offer.answered_at is not None}))
"""


def test_the_newcomers_sqlite_database_takes_the_same_updates(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "TELEPHONY_ENABLED": "false"}
    run = {"cwd": PROJECT, "env": env, "capture_output": True, "text": True, "timeout": 180}
    migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], **run)
    assert migrated.returncode == 0, migrated.stderr

    lived = subprocess.run([sys.executable, "manage.py", "shell", "-c", SQLITE_CALL], **run)

    assert lived.returncode == 0, lived.stderr
    assert json.loads(lived.stdout.strip().splitlines()[-1]) == {
        "timeline": [["rung", {"to": "7100"}], ["answered", {}]],
        "state": "ENDED", "disposition": "ANSWERED", "wait": 2.0, "talk": 30.0, "agent": True, "bridge": "br1",
        "offer": "ANSWERED", "offer_answered": True,
    }  # fmt: skip

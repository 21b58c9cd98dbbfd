"""The report of a busy company over 1, 7, 31 and 92 days (p50 of a few runs), through the real view and template,
and the time per state (`activity_time`) on its own.

    .venv/bin/python bench/reports.py            # builds the database once (a minute or two), then measures
    BENCH_REBUILD=1 .venv/bin/python bench/reports.py

Uses its own database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/pbx_reports_bench), kept between
runs. The company has 100 agents and 3 queues; over the last 92 days each agent took 40 calls a day (368,000 calls), and
each call moved its agent through four states, with a lunch break and the end of the day away (1.5 million audit-log
rows). A second company of the same size shares the tables, as tenants do.
"""

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbx.settings")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pbx_reports_bench"
)
os.environ["TELEPHONY_ENABLED"] = "false"
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")
os.environ["DEBUG"] = "false"

import django  # noqa: E402

django.setup()

from bench_database import database_ready  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

COMPANIES, AGENTS, QUEUES, DAYS, CALLS_PER_DAY = 2, 100, 3, 92, 40
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))


def build() -> None:
    from accounts.models import Role, User
    from calls.models import Queue
    from companies.models import Company
    from companies.services import company_create

    if User.objects.filter(username="manager00").exists():
        return
    print(f"generating {COMPANIES} companies × {AGENTS} agents × {DAYS} days × {CALLS_PER_DAY} calls …", flush=True)
    started = time.perf_counter()
    Company.objects.all().delete()
    password = User(username="x")
    password.set_password("bench-password-123")
    for c in range(COMPANIES):
        company = company_create(name=f"Company {c:02d}")
        User.objects.bulk_create(
            [User(username=f"agent{c:02d}_{a:03d}", role=Role.AGENT, company=company, extension=f"{c + 10}{a:03d}",
                  password=password.password) for a in range(AGENTS)]
            + [User(username=f"manager{c:02d}", role=Role.MANAGER, company=company, password=password.password)]
        )  # fmt: skip
        Queue.objects.bulk_create(
            [Queue(company=company, name=f"Queue {q}", number=f"7{c:02d}{q}") for q in range(QUEUES)]
        )
    with connection.cursor() as cursor:
        # Each agent's working day starts at 09:00 Seoul; calls every 12 minutes: rings 10 s, talks 3 min, wraps up
        # 30 s, then READY; lunch from 12:00 to 13:00; AWAY (end of day) at 18:00.
        cursor.execute(
            f"""
            CREATE TEMP TABLE bench_slot AS
            SELECT u.id AS agent_id, u.company_id, d AS day, n,
                   (date_trunc('day', now() AT TIME ZONE 'Asia/Seoul') - d * interval '1 day' + interval '9 hours'
                    + n * interval '12 minutes' + CASE WHEN n >= 15 THEN interval '1 hour' ELSE interval '0' END)
                   AT TIME ZONE 'Asia/Seoul' AS at
            FROM accounts_user u, generate_series(0, {DAYS - 1}) d, generate_series(0, {CALLS_PER_DAY - 1}) n
            WHERE u.role = 'AGENT'
            """
        )
        cursor.execute(
            """
            INSERT INTO calls_call (company_id, direction, caller_number, caller_number_index, caller_name,
                dialed_number, queue_id, agent_id, caller_channel_id, linkedid, bridge_id, state, enqueued_at,
                answered_at, ended_at, wait_seconds, talk_seconds, wrapup_seconds, disposition, hangup_by,
                hangup_cause_text, reconciled, updated_at)
            SELECT s.company_id, 'INBOUND', '', '', '', '7000',
                   (SELECT id FROM calls_queue q WHERE q.company_id = s.company_id ORDER BY id LIMIT 1),
                   s.agent_id, 'bench-' || s.agent_id || '-' || s.day || '-' || s.n, '', '', 'ENDED', s.at,
                   s.at + interval '10 seconds', s.at + interval '190 seconds', 10, 180, 30, 'ANSWERED', 'CALLER',
                   '', false, s.at
            FROM bench_slot s
            """
        )
        cursor.execute(
            """
            INSERT INTO accounts_activitychange (agent_id, company_id, from_state, to_state, source, note, changed_at,
                seconds_in_previous, pause_reason_id)
            SELECT s.agent_id, s.company_id, v.from_state, v.to_state, 'TELEPHONY', '', s.at + v.after, 0, NULL
            FROM bench_slot s, (VALUES ('READY', 'CALLING', interval '0'), ('CALLING', 'ON_CALL', interval '10 s'),
                ('ON_CALL', 'POST_PROCESSING', interval '190 s'), ('POST_PROCESSING', 'READY', interval '220 s'))
                AS v(from_state, to_state, after)
            """
        )
        cursor.execute(
            """
            INSERT INTO accounts_activitychange (agent_id, company_id, from_state, to_state, source, note, changed_at,
                seconds_in_previous, pause_reason_id)
            SELECT s.agent_id, s.company_id, v.from_state, v.to_state, 'SELF', '', s.at + v.after, 0,
                   CASE WHEN v.to_state = 'AWAY' THEN (SELECT id FROM companies_pausereason r
                        WHERE r.company_id = s.company_id AND r.code = v.reason) END
            FROM bench_slot s, (VALUES (0, 'AWAY', 'READY', interval '-1 minute', ''),
                (14, 'READY', 'AWAY', interval '5 minutes', 'LUNCH'), (15, 'AWAY', 'READY', interval '-1 minute', ''),
                (39, 'READY', 'AWAY', interval '5 minutes', 'OTHER')) AS v(n, from_state, to_state, after, reason)
            WHERE s.n = v.n
            """
        )
        # As the activity service writes it: how long the agent was in the state each change leaves.
        cursor.execute(
            """
            UPDATE accounts_activitychange c
            SET seconds_in_previous = coalesce(extract(epoch FROM c.changed_at - p.before), 0)
            FROM (SELECT id, lag(changed_at) OVER (PARTITION BY agent_id ORDER BY changed_at, id) AS before
                  FROM accounts_activitychange) p
            WHERE p.id = c.id
            """
        )
        cursor.execute("VACUUM ANALYZE accounts_activitychange")
        cursor.execute("ANALYZE calls_call")
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)


def measure() -> None:
    from accounts.models import ActivityChange, User
    from calls.models import Call
    from console.selectors import activity_time
    from reports.selectors import day_start, zone_of

    manager = User.objects.select_related("company").get(username="manager00")
    company = manager.company
    print(
        f"report of {company.name}: {Call.objects.filter(company=company).count():,} calls, "
        f"{ActivityChange.objects.filter(company=company).count():,} state changes; p50 of {REPEAT} runs"
    )
    client = Client()
    client.force_login(manager)
    today = timezone.now().astimezone(zone_of(company)).date()
    zone = zone_of(company)
    for days in (1, 7, 31, 92):
        first = today - timedelta(days=days - 1)
        query = {"date_from": first.isoformat(), "date_to": today.isoformat()}
        assert client.get("/reports/", query).status_code == 200
        pages, times = [], []
        for _ in range(REPEAT):
            start = time.perf_counter()
            response = client.get("/reports/", query)
            pages.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
            start = time.perf_counter()
            activity_time(company=company, start=day_start(first, zone), end=day_start(today + timedelta(1), zone))
            times.append((time.perf_counter() - start) * 1000)
        print(
            f"  {days:>3} days: page {statistics.median(pages):8.1f} ms   time per state alone "
            f"{statistics.median(times):8.1f} ms"
        )


if __name__ == "__main__":
    database_ready(fresh=bool(os.environ.get("BENCH_REBUILD")))
    setup_test_environment()
    build()
    measure()

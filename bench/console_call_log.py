"""Call log first page with filters over 1,000,000 generated calls (p50/p95), through the real view and template.

    .venv/bin/python bench/console_call_log.py            # builds the database once (about a minute), then measures
    BENCH_REBUILD=1 .venv/bin/python bench/console_call_log.py

Uses its own database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/pbx_console_bench), kept between
runs. Calls are generated in SQL (generate_series) over 90 days, 20 companies, 1,000 agents and 60 queues; caller
numbers come from 20,000 distinct numbers encrypted (and blind-indexed) once in Python, as the application stores them.
"""

import io
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbx.settings")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pbx_console_bench"
)
os.environ["TELEPHONY_ENABLED"] = "false"
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")
os.environ["DEBUG"] = "false"  # as in production: DEBUG's template and query bookkeeping is not what users wait for

import django  # noqa: E402

django.setup()

from bench_database import database_ready  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

CALLS = int(os.environ.get("BENCH_CALLS", "1000000"))
COMPANIES, AGENTS_PER_COMPANY, QUEUES_PER_COMPANY, PHONES = 20, 50, 3, 20_000
REPEAT = int(os.environ.get("BENCH_REPEAT", "40"))


def build() -> None:
    from accounts.models import Role, User
    from calls.models import Call, Queue
    from companies.services import company_create
    from pbx.encryption import blind_index, encrypt

    if Call.objects.count() >= CALLS:
        return
    print(f"generating {CALLS:,} calls …", flush=True)
    started = time.perf_counter()
    Call.objects.all().delete()
    Queue.objects.all().delete()
    User.objects.all().delete()
    from companies.models import Company

    Company.objects.all().delete()
    password = User(username="x")
    password.set_password("bench-password-123")
    for c in range(COMPANIES):
        company = company_create(name=f"Company {c:02d}")
        User.objects.bulk_create(
            [
                User(
                    username=f"agent{c:02d}_{a:03d}",
                    role=Role.AGENT,
                    company=company,
                    extension=f"{c + 10}{a:03d}",
                    password=password.password,
                )  # fmt: skip
                for a in range(AGENTS_PER_COMPANY)
            ]
            + [User(username=f"manager{c:02d}", role=Role.MANAGER, company=company, password=password.password)]
        )
        Queue.objects.bulk_create(
            [Queue(company=company, name=f"Queue {q}", number=f"7{c:02d}{q}") for q in range(QUEUES_PER_COMPANY)]
        )
    User.objects.create(username="admin", role=Role.SYSTEM_ADMIN, password=password.password, is_staff=True)

    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_phone (i int PRIMARY KEY, enc text, idx varchar(64))")
        buffer = io.StringIO()
        for i in range(PHONES):
            number = f"010-{5000 + i // 10000:04d}-{i % 10000:04d}"
            buffer.write(f"{i}\t{encrypt(number)}\t{blind_index(number)}\n")
        buffer.seek(0)
        with cursor.connection.cursor().copy("COPY bench_phone (i, enc, idx) FROM STDIN") as copy:
            copy.write(buffer.read())
        cursor.execute(
            "CREATE TEMP TABLE bench_agent AS SELECT row_number() OVER (ORDER BY id) - 1 AS i, id, company_id "
            "FROM accounts_user WHERE role = 'AGENT'"
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_queue AS SELECT row_number() OVER (PARTITION BY company_id ORDER BY id) - 1 "
            "AS i, id, company_id FROM calls_queue"
        )
        empty = encrypt("")
        cursor.execute(
            f"""
            INSERT INTO calls_call (company_id, direction, caller_number, caller_number_index, caller_name,
                dialed_number, queue_id, agent_id, caller_channel_id, linkedid, bridge_id, state, enqueued_at,
                answered_at, ended_at, wait_seconds, talk_seconds, wrapup_seconds, disposition, hangup_by,
                hangup_cause_text, reconciled, updated_at)
            SELECT a.company_id,
                   CASE WHEN g %% 10 = 0 THEN 'OUTBOUND' ELSE 'INBOUND' END,
                   p.enc, p.idx, %s, '7000', q.id,
                   CASE WHEN g %% 7 = 0 THEN NULL ELSE a.id END,
                   'bench-' || g, '', '', 'ENDED', t.at,
                   CASE WHEN g %% 7 = 0 THEN NULL ELSE t.at + interval '12 seconds' END,
                   t.at + interval '200 seconds', 12 + g %% 40, CASE WHEN g %% 7 = 0 THEN NULL ELSE 180 + g %% 300 END,
                   CASE WHEN g %% 7 = 0 THEN NULL ELSE 10 END,
                   CASE WHEN g %% 7 = 0 THEN 'ABANDONED' ELSE 'ANSWERED' END, 'CALLER', '', false, t.at
            FROM generate_series(1, {CALLS}) AS g
            CROSS JOIN LATERAL (SELECT now() - (g * (interval '90 days' / {CALLS})) AS at) AS t
            JOIN bench_agent a ON a.i = g %% {COMPANIES * AGENTS_PER_COMPANY}
            JOIN bench_queue q ON q.company_id = a.company_id AND q.i = g %% {QUEUES_PER_COMPANY}
            JOIN bench_phone p ON p.i = g %% {PHONES}
            """,
            [empty],
        )
        cursor.execute("ANALYZE calls_call")
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)


def measure() -> None:
    from accounts.models import User
    from calls.models import Call, Queue
    from calls.selectors import CallFilters, calls_page

    total = Call.objects.count()
    manager = User.objects.get(username="manager00")
    agent = User.objects.filter(company=manager.company, role="AGENT").order_by("id")[3]
    queue = Queue.objects.filter(company=manager.company).order_by("id").first()
    phone = "010-5000-0010"  # a number that calls company 00 (numbers cycle every 20,000 calls)
    today = timezone.localdate()
    week_ago, month_ago = (today - timedelta(days=7)).isoformat(), (today - timedelta(days=30)).isoformat()
    print(f"call log, first page of 50, {total:,} calls in the database, {REPEAT} requests each:")
    scenarios = [
        ("manager, no filter", "manager00", {}),
        ("manager, last 7 days", "manager00", {"date_from": week_ago, "date_to": today.isoformat()}),
        ("manager, agent", "manager00", {"agent": agent.pk}),
        ("manager, queue + abandoned", "manager00", {"queue": queue.pk, "disposition": "ABANDONED"}),
        ("manager, outbound", "manager00", {"direction": "OUTBOUND"}),
        ("manager, exact phone", "manager00", {"phone": phone}),
        ("manager, phone + 30 days + queue", "manager00", {"phone": phone, "date_from": month_ago, "queue": queue.pk}),
        ("agent, own calls", agent.username, {}),
        ("admin, all companies", "admin", {}),
        ("admin, exact phone", "admin", {"phone": phone}),
        ("admin, one company + agent", "admin", {"company": manager.company_id, "agent": agent.pk}),
    ]
    all_samples, selector_samples = [], []
    for label, username, params in scenarios:
        client = Client()
        client.force_login(User.objects.get(username=username))
        first = client.get("/calls/", params)
        assert first.status_code == 200, (label, first.status_code)
        cursor = first.context["page"].next_cursor
        samples = []
        for _ in range(REPEAT):
            start = time.perf_counter()
            response = client.get("/calls/", params)
            samples.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        all_samples += samples
        # The same page without HTTP and template: the keyset query plus decrypting 50 numbers.
        filters = first.context["form"].filters() if params else CallFilters()
        reader = User.objects.select_related("company").get(username=username)
        for _ in range(5):
            start = time.perf_counter()
            calls_page(user=reader, filters=filters, limit=50)
            selector_samples.append((time.perf_counter() - start) * 1000)
        samples.sort()
        rows = len(first.context["page"].calls)
        p95 = samples[int(len(samples) * 0.95) - 1]
        more = ", more" if cursor else ""
        print(f"  {label:<36} p50 {statistics.median(samples):7.1f} ms  p95 {p95:7.1f} ms  ({rows} rows{more})")
    all_samples.sort()
    selector_samples.sort()
    print(
        f"  {'query + decryption only (selector)':<36} p50 {statistics.median(selector_samples):7.1f} ms  "
        f"p95 {selector_samples[int(len(selector_samples) * 0.95) - 1]:7.1f} ms"
    )
    print(
        f"  {'all scenarios':<36} p50 {statistics.median(all_samples):7.1f} ms  "
        f"p95 {all_samples[int(len(all_samples) * 0.95) - 1]:7.1f} ms"
    )
    # A deep page costs the same as the first: the keyset cursor is an index seek, not an OFFSET.
    client = Client()
    client.force_login(manager)
    cursor = ""
    for _ in range(200):
        cursor = client.get("/calls/", {"after": cursor} if cursor else {}).context["page"].next_cursor or cursor
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        client.get("/calls/", {"after": cursor})
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    print(f"  {'manager, page 201 (keyset)':<36} p50 {statistics.median(samples):7.1f} ms  "
          f"p95 {samples[int(len(samples) * 0.95) - 1]:7.1f} ms")  # fmt: skip


def main() -> None:
    database_ready(fresh=bool(os.environ.get("BENCH_REBUILD")))
    build()
    setup_test_environment()  # the test client then hands back each response's template context
    measure()


if __name__ == "__main__":
    main()

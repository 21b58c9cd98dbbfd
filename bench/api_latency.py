"""API figures: how long a login check takes for a right password, a wrong one, an unknown user and a deactivated
user (they must match, so the answer's timing tells nothing), and how long a call-log page takes over 20,000 calls.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pbx_bench .venv/bin/python bench/api_latency.py

Runs in a throwaway test database with the production Argon2 cost (ARGON2_MEMORY_KIB, 100 MiB by default).
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbx.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pbx_bench")
os.environ["TELEPHONY_ENABLED"] = "false"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from datetime import UTC, datetime, timedelta  # noqa: E402

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def timed(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def report(label: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p90 = samples[int(len(samples) * 0.9) - 1]
    print(f"  {label:<34} p50 {statistics.median(samples):8.1f} ms   p90 {p90:8.1f} ms   (n={len(samples)})")


def main() -> None:
    from accounts.models import Role, User
    from accounts.services import user_create
    from api.services import credentials_check, token_issue
    from calls.models import Call, CallState, Disposition
    from companies.services import company_create

    company = company_create(name="Bench")
    user_create(username="agent", password="right-password-123", role=Role.AGENT, company=company, validate=False)
    gone = user_create(username="gone", password="right-password-123", role=Role.AGENT, company=company, validate=False)
    User.objects.filter(pk=gone.pk).update(is_active=False)
    admin = user_create(username="admin", password="right-password-123", role=Role.SYSTEM_ADMIN, validate=False)

    repeat = int(os.environ.get("BENCH_LOGINS", "15"))
    print(f"login check (Argon2id, {django.conf.settings.ARGON2_MEMORY_KIB} KiB):")
    credentials_check(username="nobody", password="x")  # makes the cached dummy hash outside the timing
    report("right password", timed(lambda: credentials_check(username="agent", password="right-password-123"), repeat))
    report("wrong password", timed(lambda: credentials_check(username="agent", password="wrong-password-1"), repeat))
    report("unknown user", timed(lambda: credentials_check(username="nobody", password="wrong-password-1"), repeat))
    report(
        "deactivated user, right password",
        timed(lambda: credentials_check(username="gone", password="right-password-123"), repeat),
    )

    total = int(os.environ.get("BENCH_CALLS", "20000"))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    Call.objects.bulk_create(
        Call(
            company=company,
            caller_number=f"010{n:08d}",
            caller_channel_id=f"bench-{n}",
            state=CallState.ENDED,
            enqueued_at=start + timedelta(seconds=37 * n),
            disposition=Disposition.ANSWERED if n % 3 else Disposition.ABANDONED,
        )
        for n in range(total)
    )
    client = Client(headers={"Authorization": f"Bearer {token_issue(user=admin).token}"})
    first = client.get("/api/v1/calls", {"limit": 50}).json()
    print(f"call log over {total:,} calls (HTTP through Django, token checked each time):")
    report("first page of 50", timed(lambda: client.get("/api/v1/calls", {"limit": 50}), 30))
    report(
        "next page by cursor",
        timed(lambda: client.get("/api/v1/calls", {"limit": 50, "cursor": first["next_cursor"]}), 30),
    )
    report(
        "filtered: ABANDONED in one month",
        timed(
            lambda: client.get(
                "/api/v1/calls", {"disposition": "ABANDONED", "date_from": "2026-03-01", "date_to": "2026-03-31"}
            ),
            30,
        ),
    )
    report("exact phone number", timed(lambda: client.get("/api/v1/calls", {"phone": "010-0000-1234"}), 30))


if __name__ == "__main__":
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        main()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

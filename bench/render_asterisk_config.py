"""Asterisk config figures: how long `render_asterisk_config` takes to render (and check) the four files for a large
deployment — 2,000 and 10,000 agent extensions with their encrypted SIP secrets, 200 queues.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pbx_bench .venv/bin/python bench/render_asterisk_config.py

Runs in a throwaway test database. Agents are inserted in bulk (no password hashing: not what is measured).
"""

import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbx.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pbx_bench")
os.environ["TELEPHONY_ENABLED"] = "false"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from calls.models import Queue  # noqa: E402
from companies.services import company_create  # noqa: E402
from telephony import asterisk_config  # noqa: E402


def populate(agents: int, queues: int) -> None:
    company = company_create(name=f"Bench {agents}", extension_start="100000", extension_end="199999")
    User.objects.bulk_create(
        User(
            username=f"bench{agents}-{n}",
            role=Role.AGENT,
            company=company,
            extension=str(100000 + n),
            first_name=f"상담원 {n}",
            sip_secret=secrets.token_urlsafe(18),
            password="!",
        )
        for n in range(agents)
    )
    Queue.objects.bulk_create(Queue(company=company, name=f"Queue {n}", number=str(700000 + n)) for n in range(queues))


def measure(label: str) -> None:
    started = time.perf_counter()
    rendered = asterisk_config.render()
    render_ms = (time.perf_counter() - started) * 1000
    with tempfile.TemporaryDirectory() as directory:
        asterisk_config.write(rendered, Path(directory))
        started = time.perf_counter()
        stale = asterisk_config.stale_files(asterisk_config.render(), Path(directory))
        check_ms = (time.perf_counter() - started) * 1000
    size_kib = sum(len(text.encode()) for text in rendered.values()) / 1024
    print(f"{label:<28} render {render_ms:8.0f} ms   --check {check_ms:8.0f} ms   {size_kib:8.0f} KiB  stale={stale}")


def main() -> None:
    populate(2000, 200)
    measure("2,000 agents, 200 queues")
    User.objects.filter(username__startswith="bench2000-").delete()
    Queue.objects.all().delete()
    populate(10000, 200)
    measure("10,000 agents, 200 queues")


if __name__ == "__main__":
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        main()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

"""The benchmarks' own PostgreSQL databases: created when missing (or, when asked, dropped and created again), then
migrated. Imported by the bench scripts, which run from this directory."""

import psycopg
from django.core.management import call_command
from django.db import connection


def database_ready(*, fresh: bool = False) -> None:
    """The database of DATABASE_URL exists and is migrated; `fresh` drops it first (and with it the data a bench built
    on an earlier run)."""
    settings = connection.settings_dict
    admin = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432, user=settings["USER"], dbname="postgres",
        autocommit=True,
    )  # fmt: skip
    with admin:
        if fresh:
            admin.execute(f'DROP DATABASE IF EXISTS "{settings["NAME"]}"')
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [settings["NAME"]]).fetchone():
            admin.execute(f'CREATE DATABASE "{settings["NAME"]}"')
    call_command("migrate", verbosity=0)

"""Key rotation figures: how long `manage.py rotate_encryption_key` takes over 20,000 users (phone and SIP secret
each), and how long a second run takes when everything is already under the newest key.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pbx_bench .venv/bin/python bench/rotate_encryption_key.py [users]

Runs in a throwaway test database.
"""

import os
import sys
import time
from io import StringIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbx.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pbx_bench")
os.environ["TELEPHONY_ENABLED"] = "false"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from cryptography.fernet import Fernet  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from companies.services import company_create  # noqa: E402


def seed(count: int) -> None:
    company = company_create(name="Bench", phone="02-000-0000")
    User.objects.bulk_create(
        User(
            username=f"agent{n}",
            role=Role.AGENT,
            company=company,
            phone=f"010-{n // 10000:04d}-{n % 10000:04d}",
            sip_secret=f"secret-{n}",
            password="!",
        )
        for n in range(count)
    )


def run(batch_size: int) -> float:
    start = time.perf_counter()
    call_command("rotate_encryption_key", batch_size=batch_size, stdout=StringIO())
    return time.perf_counter() - start


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        seed(count)
        values = count * 2
        keys = list(settings.ENCRYPTION_KEYS)
        for batch_size in (500, 2000):
            keys.insert(0, Fernet.generate_key().decode())  # each round rotates under a fresh newest key
            with override_settings(ENCRYPTION_KEYS=keys):
                first = run(batch_size)
                again = run(batch_size)
            print(
                f"{count:,} users ({values:,} values), batch {batch_size}: rotation {first:.2f} s "
                f"({values / first:,.0f} values/s); second run {again:.2f} s"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()

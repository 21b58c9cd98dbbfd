"""manage.py rotate_encryption_key: every encrypted value ends up under the newest key and stays readable."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import User
from companies.models import Company
from companies.services import company_create


def raw_tokens(table: str, columns: list[str]) -> dict[int, tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(columns)} FROM {table} ORDER BY id")
        return {row[0]: row[1:] for row in cursor.fetchall()}


def rotate(**options) -> str:
    out = StringIO()
    call_command("rotate_encryption_key", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def populated(company_a, company_b, make_user):
    agents = [make_user(company=company_a, extension=f"10{n:02d}", phone=f"010-2000-{n:04d}") for n in range(7)]
    return company_a, company_b, agents


def test_rotation_moves_every_value_to_the_new_key_and_old_key_can_then_go(populated, settings):
    company_a, company_b, agents = populated
    old_keys = list(settings.ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, *old_keys]

    output = rotate(batch_size=3)

    assert "companies.Company: 4 value(s) re-encrypted" in output  # phone + business number of each company
    assert "accounts.User: 14 value(s) re-encrypted" in output  # phone + SIP secret of each agent
    settings.ENCRYPTION_KEYS = [new_key]  # the old key is gone now
    assert Company.objects.get(pk=company_a.pk).phone == "02-1234-5678"
    assert Company.objects.get(pk=company_b.pk).business_number == "987-65-43210"
    for agent in agents:
        fresh = User.objects.get(pk=agent.pk)
        assert (fresh.phone, fresh.sip_secret) == (agent.phone, agent.sip_secret)
    for (token,) in raw_tokens("accounts_user", ["phone"]).values():
        if token:
            Fernet(new_key).decrypt(token.encode())  # raises if any value is not under the new key


def test_rotation_keeps_blind_index_search_working(populated, settings):
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.ENCRYPTION_KEYS]
    rotate()
    assert [agent.phone for agent in User.objects.with_phone("+82 10-2000-0003")] == ["010-2000-0003"]


def test_a_second_run_changes_nothing(populated, settings):
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.ENCRYPTION_KEYS]
    rotate()
    before = raw_tokens("accounts_user", ["phone", "sip_secret"])

    output = rotate()

    assert "accounts.User: 0 value(s) re-encrypted, 14 already under the newest key" in output
    assert raw_tokens("accounts_user", ["phone", "sip_secret"]) == before


def test_a_value_no_key_opens_stops_with_its_model_field_and_row_and_writes_nothing_of_that_batch(company_a, settings):
    development_keys = list(settings.ENCRYPTION_KEYS)
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # a key that is then lost
    stranger = company_create(name="Encrypted elsewhere", phone="02-999-9999")
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *development_keys]
    before = raw_tokens("companies_company", ["phone", "business_number"])

    with pytest.raises(CommandError, match=rf"companies\.Company\.phone \(pk={stranger.pk}\)"):
        rotate(batch_size=10)

    # company_a sat in the same batch: its value is left as it was, not half-rotated.
    assert raw_tokens("companies_company", ["phone", "business_number"]) == before


def test_a_batch_size_below_one_is_refused(db):
    with pytest.raises(CommandError, match="--batch-size"):
        rotate(batch_size=0)


@pytest.mark.parametrize(("keys", "message"), [([], "ENCRYPTION_KEY is empty"), (["nonsense"], "Fernet keys")])
def test_an_empty_or_malformed_key_list_is_a_one_line_error(company_a, settings, keys, message):
    settings.ENCRYPTION_KEYS = keys
    with pytest.raises(CommandError, match=message):
        rotate()


def test_with_only_the_new_key_a_second_run_finds_everything_current(populated, settings):
    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, *settings.ENCRYPTION_KEYS]
    rotate()
    settings.ENCRYPTION_KEYS = [new_key]
    output = rotate()
    assert "companies.Company: 0 value(s) re-encrypted, 4 already under the newest key" in output

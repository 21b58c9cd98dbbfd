"""Encrypted fields: ciphertext at rest, exact search through the blind index, and loud failures on a wrong key."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import connection

from accounts.models import User
from companies.models import Company
from pbx.encryption import DecryptionError, blind_index, decrypt, encrypt, normalize_phone


def raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_company_numbers_are_ciphertext_in_the_database(company_a):
    for column, plaintext in [("phone", "02-1234-5678"), ("business_number", "123-45-67890")]:
        stored = raw_column("companies_company", column, company_a.pk)
        assert plaintext not in stored
        assert "12345678" not in stored.replace("-", "")
        assert stored.startswith("gAAAA")  # a Fernet token
        assert decrypt(stored) == plaintext


def test_user_phone_and_sip_secret_are_ciphertext_in_the_database(make_user, company_a):
    agent = make_user(company=company_a, extension="1000", phone="010-9876-5432")
    assert "9876" not in raw_column("accounts_user", "phone", agent.pk)
    assert agent.sip_secret and agent.sip_secret not in raw_column("accounts_user", "sip_secret", agent.pk)
    assert User.objects.get(pk=agent.pk).phone == "010-9876-5432"


def test_blind_index_is_a_keyed_hash_not_the_number(company_a):
    stored = raw_column("companies_company", "phone_index", company_a.pk)
    assert len(stored) == 64 and "12345678" not in stored
    assert stored == blind_index("02-1234-5678")


def test_blind_index_depends_on_its_key(settings):
    before = blind_index("010-1234-5678")
    settings.BLIND_INDEX_KEY = "another-blind-index-key-for-this-test"
    assert blind_index("010-1234-5678") != before


@pytest.mark.parametrize(
    ("written", "searched"),
    [
        ("010-1234-5678", "+82 10-1234-5678"),
        ("+82 10-1234-5678", "010-1234-5678"),
        ("010 1234 5678", "01012345678"),
        ("(010) 1234-5678", "0082-10-1234-5678"),
        ("+82 (0)10-1234-5678", "010.1234.5678"),
    ],
)
def test_an_exact_phone_is_found_however_it_is_written(make_user, company_a, written, searched):
    agent = make_user(company=company_a, phone=written)
    make_user(company=company_a, phone="010-1234-5679")
    assert list(User.objects.with_phone(searched)) == [agent]


def test_a_partial_phone_finds_nothing(make_user, company_a):
    make_user(company=company_a, phone="010-1234-5678")
    assert not User.objects.with_phone("1234-5678").exists()
    assert not User.objects.with_phone("").exists()


def test_company_found_by_exact_phone(company_a, company_b):
    assert list(Company.objects.with_phone("0212345678")) == [company_a]
    assert list(Company.objects.with_phone("031 987 6543")) == [company_b]


@pytest.mark.parametrize(
    ("value", "normalized"),
    [("+82 10-1234-5678", "01012345678"), ("02-1234-5678", "0212345678"), ("", ""), (None, ""), ("1000", "1000")],
)
def test_normalize_phone(value, normalized):
    assert normalize_phone(value) == normalized


def test_empty_values_are_stored_empty_not_encrypted(make_user, company_a):
    agent = make_user(company=company_a)
    assert raw_column("accounts_user", "phone", agent.pk) == ""
    assert agent.phone_index == ""


def test_a_value_under_an_unknown_key_raises_a_clear_error(company_a, settings):
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(DecryptionError, match=r"companies\.Company\.(phone|business_number|fax).*ENCRYPTION_KEY"):
        Company.objects.get(pk=company_a.pk)


def test_a_value_under_an_unknown_key_is_never_read_as_empty(company_a, settings):
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(DecryptionError):
        list(Company.objects.values_list("phone", flat=True))


def test_a_missing_key_refuses_to_read_or_write(company_a, settings):
    settings.ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="ENCRYPTION_KEY is empty"):
        Company.objects.get(pk=company_a.pk)
    with pytest.raises(ImproperlyConfigured, match="ENCRYPTION_KEY is empty"):
        encrypt("02-000-0000")


def test_a_malformed_key_says_what_a_key_looks_like(settings):
    settings.ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="Fernet keys"):
        encrypt("02-000-0000")


def test_old_keys_still_decrypt_after_a_new_key_is_put_in_front(company_a, settings):
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.ENCRYPTION_KEYS]
    assert Company.objects.get(pk=company_a.pk).phone == "02-1234-5678"


def test_saving_only_the_phone_keeps_the_blind_index_current(make_user, company_a):
    agent = make_user(company=company_a, phone="010-1111-1111")
    agent.phone = "010-2222-2222"
    agent.save(update_fields=["phone"])
    assert list(User.objects.with_phone("010-2222-2222")) == [agent]
    assert not User.objects.with_phone("010-1111-1111").exists()
    assert agent.phone_index == blind_index("010-2222-2222")


def test_clearing_a_phone_clears_its_index(company_a):
    company_a.phone = ""
    company_a.save()
    assert Company.objects.get(pk=company_a.pk).phone_index == ""
    assert not Company.objects.with_phone("02-1234-5678").exists()


def test_a_lookup_by_value_on_an_encrypted_field_is_an_error_not_an_empty_answer(make_user, company_a):
    make_user(company=company_a, phone="010-1111-1111")
    with pytest.raises(FieldError, match=r"accounts\.User\.phone is encrypted"):
        list(User.objects.filter(phone="010-1111-1111"))
    with pytest.raises(FieldError):
        list(User.objects.filter(phone__icontains="1111"))


def test_empty_and_null_lookups_on_an_encrypted_field_still_work(make_user, company_a):
    with_phone = make_user(company=company_a, phone="010-1111-1111")
    without = make_user(company=company_a)
    assert set(User.objects.filter(company=company_a, phone="")) == {without}
    assert set(User.objects.filter(company=company_a).exclude(phone="")) == {with_phone}
    assert not User.objects.filter(phone__isnull=True).exists()

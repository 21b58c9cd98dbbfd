"""The security record (logins, logouts, refused logins) is kept LOGIN_RECORD_RETENTION_DAYS, never less than a year,
and the nightly prune_records deletes what is older."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from accounts import security
from accounts.models import AuthEvent
from accounts.security import login_records_prune

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    now = timezone.now()
    made = {}
    for days in (800, 400, 10):
        made[days] = AuthEvent.objects.create(kind=AuthEvent.Kind.LOGIN, username=f"u{days}")
        AuthEvent.objects.filter(pk=made[days].pk).update(at=now - timedelta(days=days))
    return made


def kept() -> set[str]:
    return set(AuthEvent.objects.values_list("username", flat=True))


def test_two_years_are_kept_by_default(events):
    assert login_records_prune() == 1
    assert kept() == {"u400", "u10"}


def test_a_shorter_setting_still_keeps_a_year(events, settings):
    settings.LOGIN_RECORD_RETENTION_DAYS = 30
    assert login_records_prune(dry_run=True) == 2
    assert kept() == {"u800", "u400", "u10"}  # a dry run deletes nothing
    assert login_records_prune() == 2
    assert kept() == {"u10"}


def test_zero_keeps_them_forever(events, settings):
    settings.LOGIN_RECORD_RETENTION_DAYS = 0
    assert login_records_prune() == 0
    assert len(kept()) == 3


def test_many_go_in_batches(events, settings, monkeypatch):
    settings.LOGIN_RECORD_RETENTION_DAYS = 365
    monkeypatch.setattr(security, "LOGIN_RECORD_PRUNE_BATCH", 1)
    assert login_records_prune() == 2
    assert kept() == {"u10"}


def test_the_nightly_command_prunes_them_too(events, company_a):
    out = StringIO()
    with translation.override("en"):
        call_command("prune_records", "--dry-run", stdout=out)
        assert "Login records: would delete 1 (<" in out.getvalue()
        call_command("prune_records", stdout=out)
        assert "Login records: deleted 1 (<" in out.getvalue()
        call_command("prune_records", "--company", company_a.name, stdout=out)  # one company's run leaves them
    assert kept() == {"u400", "u10"}

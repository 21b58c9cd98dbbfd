"""A company's record retention: what is older goes (calls with their timeline, offers and notes; agents' state
changes), in batches; what is newer, still in progress, or another company's stays."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from accounts.models import ActivityChange
from calls import services_retention
from calls.models import Call, CallEvent, CallNote, Offer
from calls.services_retention import records_prune

pytestmark = pytest.mark.django_db

_channels = iter(range(1_000_000))


def call(company, days_ago: float, *, state="ENDED", **fields) -> Call:
    at = timezone.now() - timedelta(days=days_ago)
    made = Call.objects.create(
        company=company, caller_channel_id=f"retention-{next(_channels)}", state=state, enqueued_at=at,
        disposition="ANSWERED" if state == "ENDED" else "", caller_number="010-1234-5678", **fields,
    )  # fmt: skip
    CallEvent.objects.create(call=made, at=at, kind="StasisStart", key=f"k-{made.pk}")
    return made


def state_change(agent, days_ago: float) -> ActivityChange:
    return ActivityChange.objects.create(
        agent=agent, company=agent.company, from_state="READY", to_state="AWAY", source="SELF",
        changed_at=timezone.now() - timedelta(days=days_ago),
    )  # fmt: skip


@pytest.fixture
def records(company_a, company_b, agent_a, agent_b):
    company_a.record_retention_days = 90
    company_a.save()
    old = call(company_a, 100, agent=agent_a)
    Offer.objects.create(call=old, company=company_a, agent=agent_a, channel_id="offer-old", offered_at=old.enqueued_at)
    CallNote.objects.create(call=old, text="고객 불만 접수")
    return {
        "old": old,
        "old_waiting": call(company_a, 100, state="WAITING"),
        "recent": call(company_a, 10),
        "callback": call(company_a, 10, callback_of=old),
        "other_company": call(company_b, 400),
        "old_change": state_change(agent_a, 100),
        "recent_change": state_change(agent_a, 10),
        "other_change": state_change(agent_b, 400),
    }


def test_records_older_than_the_retention_are_deleted_with_what_hangs_on_them(company_a, records):
    pruned = records_prune(company=company_a)
    assert (pruned.calls, pruned.state_changes) == (1, 1)
    assert not Call.objects.filter(pk=records["old"].pk).exists()
    assert not CallEvent.objects.filter(call_id=records["old"].pk).exists()
    assert not Offer.objects.filter(channel_id="offer-old").exists()
    assert not CallNote.objects.filter(call_id=records["old"].pk).exists()
    assert not ActivityChange.objects.filter(pk=records["old_change"].pk).exists()
    kept = ["old_waiting", "recent", "callback", "other_company"]
    assert Call.objects.filter(pk__in=[records[name].pk for name in kept]).count() == 4
    assert ActivityChange.objects.filter(pk__in=[records["recent_change"].pk, records["other_change"].pk]).count() == 2
    records["callback"].refresh_from_db()
    assert records["callback"].callback_of is None  # the callback keeps its own record


def test_a_dry_run_counts_and_deletes_nothing(company_a, records):
    before = Call.objects.count(), ActivityChange.objects.count()
    pruned = records_prune(company=company_a, dry_run=True)
    assert (pruned.calls, pruned.state_changes) == (1, 1)
    assert (Call.objects.count(), ActivityChange.objects.count()) == before


def test_a_company_without_retention_keeps_everything(company_b, records):
    assert records_prune(company=company_b).calls == 0
    assert Call.objects.filter(pk=records["other_company"].pk).exists()


def test_many_old_records_go_in_batches(company_a, records, monkeypatch):
    monkeypatch.setattr(services_retention, "BATCH", 2)
    for _ in range(4):
        call(company_a, 200)
    assert records_prune(company=company_a).calls == 5
    assert not Call.objects.filter(company=company_a, enqueued_at__lt=timezone.now() - timedelta(days=90),
                                   state="ENDED").exists()  # fmt: skip


def test_the_nightly_command_prunes_every_company_that_has_a_retention(company_a, records):
    out = StringIO()
    with translation.override("en"):
        call_command("prune_records", stdout=out)
    assert "Alpha Contact: deleted 1 call(s), 1 state change(s)" in out.getvalue()
    assert "Beta Support" not in out.getvalue()
    assert not Call.objects.filter(pk=records["old"].pk).exists()


def test_the_command_dry_run_for_one_company(company_a, company_b, records):
    out = StringIO()
    with translation.override("en"):
        call_command("prune_records", "--company", company_b.name, "--dry-run", stdout=out)
        call_command("prune_records", "--company", str(company_a.pk), "--dry-run", stdout=out)
    assert "Beta Support keeps every record." in out.getvalue()
    assert "Alpha Contact: would delete 1 call(s), 1 state change(s)" in out.getvalue()
    assert Call.objects.filter(pk=records["old"].pk).exists()

"""insert_under_parents (child rows that name their parent by a unique key) and insert_rows, each in one statement
(PostgreSQL here; the newcomer's SQLite file in test_row_updates.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calls import services
from calls.models import Call, CallEvent
from pbx.encryption import blind_index
from pbx.row_inserts import insert_rows, insert_rows_statement, insert_under_parents


def _call(db_key: str):
    return services.call_start(caller_channel_id=db_key, dialed_number="1001", caller_number="", caller_name="",
                               company_id=None, queue_id=None, agent_id=None, at=timezone.now())  # fmt: skip


def test_rows_find_their_parent_by_its_key_in_one_statement_and_keep_their_order(db):
    first, second = _call("chan-1"), _call("chan-2")
    at = timezone.now()
    rows = [
        ("chan-2", {"at": at, "kind": "z_first", "channel_id": "", "detail": {"note": "통화"}, "key": "k1"}),
        ("chan-1", {"at": at, "kind": "y", "channel_id": "leg", "detail": {}, "key": "k1"}),
        ("nobody", {"at": at, "kind": "lost", "channel_id": "", "detail": {}, "key": "k1"}),
        ("chan-2", {"at": at, "kind": "a_second", "channel_id": "", "detail": {}, "key": "k2"}),
    ]

    with CaptureQueriesContext(connection) as queries:
        insert_under_parents(CallEvent, "call", "caller_channel_id", rows)

    assert len(queries) == 1
    assert list(second.events.values_list("kind", "detail")) == [("z_first", {"note": "통화"}), ("a_second", {})], (
        "same instant: the order given, not the join's"
    )
    assert list(first.events.values_list("kind", "channel_id")) == [("y", "leg")]
    assert not CallEvent.objects.filter(kind="lost").exists(), "a row of an unknown parent is skipped"


def test_rows_a_unique_constraint_holds_already_are_skipped(db):
    call = _call("chan-1")
    at = timezone.now()
    row = ("chan-1", {"at": at, "kind": "answered", "channel_id": "", "detail": {}, "key": "same"})
    insert_under_parents(CallEvent, "call", "caller_channel_id", [row])
    insert_under_parents(CallEvent, "call", "caller_channel_id", [row, row])
    assert call.events.count() == 1


def test_insert_rows_fills_left_out_fields_with_their_defaults_and_returns_what_was_asked(db):
    at = timezone.now()
    rows = [
        {"caller_channel_id": f"ins-{n}", "caller_number": f"010-1234-567{n}",
         "caller_number_index": blind_index(f"010-1234-567{n}"), "enqueued_at": at}
        for n in range(3)
    ]  # fmt: skip

    with CaptureQueriesContext(connection) as queries:
        stored = insert_rows(Call, rows, returning=("caller_channel_id", "id"))

    assert len(queries) == 1
    ids = dict(stored)
    assert set(ids) == {"ins-0", "ins-1", "ins-2"}
    call = Call.objects.get(pk=ids["ins-1"])
    assert call.caller_number == "010-1234-5671", "encrypted on the way in, as a save would"
    assert Call.objects.with_caller_number("01012345671").get() == call
    assert (call.state, call.disposition, call.reconciled, call.answered_at) == ("WAITING", "", False, None)
    assert call.updated_at is not None, "auto_now is now"


def test_insert_rows_skips_conflicts_and_asks_for_derived_fields(db):

    row = {"caller_channel_id": "same", "caller_number_index": "", "enqueued_at": timezone.now()}
    insert_rows(Call, [row])
    assert insert_rows(Call, [row], conflict="DO NOTHING", returning=("id",)) == [], "a row already held is skipped"
    assert Call.objects.filter(caller_channel_id="same").count() == 1
    with pytest.raises(ValueError, match="derived on save"):
        insert_rows(Call, [{"caller_channel_id": "other", "enqueued_at": timezone.now()}])


def test_statements_run_together_in_one_round_trip_each_read_as_its_own(db):
    from pbx.row_source import run_together
    from pbx.row_updates import update_each_statements

    _call("chan-1")
    at = timezone.now()
    statements = [
        insert_rows_statement(
            CallEvent, [{"call_id": Call.objects.get().pk, "at": at, "kind": "k", "key": "1"}], returning=("kind",)
        ),  # fmt: skip
        *update_each_statements(
            Call.objects.filter(state="RINGING"), {"chan-1": {"bridge_id": "br"}}, key="caller_channel_id"
        ),  # fmt: skip
        *update_each_statements(
            Call.objects.filter(state="ENDED"), {"chan-1": {"bridge_id": "no"}}, key="caller_channel_id"
        ),  # fmt: skip
    ]

    with CaptureQueriesContext(connection) as queries:
        results = run_together(connection, statements)

    assert len(queries) == 1
    assert results == [[("k",)], {"chan-1"}, set()], "the event, the ringing call updated, the filter matched none"
    assert Call.objects.get().bridge_id == "br"

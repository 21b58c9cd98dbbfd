"""Only the event types the product reads: Asterisk is asked to send no others (ARI eventFilter), and what still
comes (before the filter is set, or from an Asterisk without one) is skipped by its first bytes, unparsed."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from accounts.models import User
from calls.models import Call
from telephony.connection import EVENTS_READ, REPEAT_WINDOW, RepeatedFrames, _unread_type
from telephony.fake_ari import Phone
from telephony.fake_ari.asterisk import AriProblem
from telephony.models import TelephonyNode
from telephony.tests.support import config_for, make_call_center, running_telephony, wait_for_db, wait_until

RECORDINGS = Path(__file__).resolve().parents[1] / "fake_ari" / "recordings"


def recorded_frames() -> list[str]:
    frames = []
    for path in sorted(RECORDINGS.glob("*.ws.jsonl")):
        frames += [json.loads(line)["raw"] for line in path.read_text().splitlines() if '"raw"' in line]
    return frames


def test_every_recorded_frame_is_parsed_exactly_when_its_type_is_read():
    frames = recorded_frames()
    assert len(frames) > 100
    for frame in frames:
        assert _unread_type(frame) == (json.loads(frame)["type"] not in EVENTS_READ), frame[:80]
    skipped = sum(_unread_type(frame) for frame in frames)
    assert skipped > len(frames) / 2, "variables, dial steps and bridge entries are most of the traffic"


def test_frames_that_do_not_look_like_asterisks_are_parsed_and_judged_there():
    for frame in ["not json", "[1, 2]", '{"no_type": 1}', '{"type": "NoSuchEvent"}', '{"type":5}', '{"type":"', ""]:
        assert not _unread_type(frame), frame


# ------------------------------------------------------------------------------------------------ at the source
def _answered_record():
    return Call.objects.filter(state="ENDED", disposition="ANSWERED").first()


async def _one_answered_call(fake) -> Call:
    call = await fake.place_call(exten="1001", caller_number="01012345678")
    await wait_for_db(lambda: User.objects.get(extension="1001").activity_state == "ON_CALL", what="on call")
    await call.hangup()
    return await wait_for_db(_answered_record, what="the call's record")


@pytest.fixture
def center(transactional_db):
    return make_call_center(extensions=["1001"])


async def test_asterisk_is_asked_for_the_types_read_and_sends_no_other(fake, center, caplog):
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    caplog.set_level(logging.INFO, logger="telephony.connection")
    async with running_telephony(config_for(fake)) as service:
        app = fake.apps["pbx_ari"]
        assert sorted(entry["type"] for entry in app.events_allowed) == sorted(EVENTS_READ)
        assert app.events_disallowed == []
        record = await _one_answered_call(fake)
        assert record.talk_seconds is not None and record.hangup_by == "CALLER"
        counters = service.engine.stats.counters
        assert counters["events_received"] > 0 and counters["events_ignored"] == 0, counters
        # what `manage.py telephony_status` and /healthz show of this process
        await wait_for_db(lambda: TelephonyNode.objects.filter(counters__events_filtered=1).exists(), what="report")

        # Asterisk restarted: the app, and its filter, are new; the filter is asked for again.
        await fake.restart()
        fake.add_endpoint("1001", Phone.answer_after(ms=50))
        await wait_until(lambda: "pbx_ari" in fake.apps and fake.apps["pbx_ari"].events_allowed, 15, what="filter")
    assert [r.getMessage() for r in caplog.records].count(
        "ARI event filter set: Asterisk sends only " + ", ".join(sorted(EVENTS_READ))
    ) == 1, "said once, not once per connect"


async def test_an_asterisk_without_the_filter_still_routes_and_the_rest_is_skipped_here(
    fake, center, caplog, monkeypatch
):
    def older_asterisk(app_name, body):  # before 13.26 / 16.3 the route does not exist
        raise AriProblem(404, "Resource not found")

    monkeypatch.setattr(fake, "event_filter", older_asterisk)
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    async with running_telephony(config_for(fake)) as service:
        record = await _one_answered_call(fake)
        assert record.talk_seconds is not None and record.hangup_by == "CALLER"
        assert service.connection.events_filtered is False
        await wait_for_db(lambda: TelephonyNode.objects.filter(counters__events_filtered=0).exists(), what="report")
        assert service.engine.stats.counters["events_ignored"] > 0
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "event filter" in r.getMessage()]
    assert len(said) == 1 and "404 Resource not found" in said[0], said


# ------------------------------------------------------------------------------------------------ repeated frames
def test_every_channel_event_a_subscribed_app_got_twice_is_read_once():
    """Recordings k to n (endpoint:PJSIP subscribed): the copies are the same bytes a few frames apart; every copy is
    dropped, and every frame dropped equals one that was read."""
    for path in sorted(RECORDINGS.glob("[k-n]_*.ws.jsonl")):
        frames = [json.loads(line)["raw"] for line in path.read_text().splitlines() if '"raw"' in line]
        repeats = RepeatedFrames()
        read = [frame for frame in frames if not repeats.seen(frame)]
        assert len(read) == len(set(frames)) < len(frames), path.name
        assert {json.loads(frame)["type"] for frame in read} == {json.loads(frame)["type"] for frame in frames}


def test_only_the_last_frames_count_as_repeats():
    repeats = RepeatedFrames()
    assert not repeats.seen("first")
    for n in range(REPEAT_WINDOW):
        assert not repeats.seen(f"frame {n}")
    assert not repeats.seen("first"), "out of the window: read again"
    assert repeats.seen(f"frame {REPEAT_WINDOW - 1}")


async def test_a_call_whose_events_come_twice_is_recorded_as_when_they_came_once(fake, center):
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    async with running_telephony(config_for(fake)) as service:
        record = await _one_answered_call(fake)
        counters = service.engine.stats.counters
        assert counters["events_repeated"] > 0, "the product follows endpoint:PJSIP, so channel events come twice"
        assert counters["events"] == counters["events_received"] - counters["events_repeated"], counters
    assert (record.disposition, record.hangup_by, record.hangup_cause) == ("ANSWERED", "CALLER", 16)
    assert record.talk_seconds is not None

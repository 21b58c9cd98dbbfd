"""The events socket parses only the event types the product reads, told from the first bytes of each frame."""

from __future__ import annotations

import json
from pathlib import Path

from telephony.connection import EVENTS_READ, _unread_type

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

"""LOG_FORMAT=json: one JSON object per line with the logger, level, message, extras and any exception."""

import json
import logging
import sys

from pbx.json_logging import JsonFormatter


def _record(**extra) -> logging.LogRecord:
    record = logging.getLogger("telephony.connection").makeRecord(
        "telephony.connection", logging.WARNING, __file__, 1, "ARI %s lost", ("socket",), None, extra=extra
    )
    return record


def test_a_log_line_is_one_json_object_with_its_extras():
    line = JsonFormatter().format(_record(channel_id="1795591278.2", call_id=7))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "telephony.connection"
    assert entry["message"] == "ARI socket lost"
    assert entry["channel_id"] == "1795591278.2" and entry["call_id"] == 7
    assert entry["time"].endswith("+00:00")


def test_an_exception_and_korean_text_survive_intact():
    try:
        raise ValueError("잘못된 값")
    except ValueError:
        record = _record()
        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: 잘못된 값" in entry["exception"]

"""Log line formats (docs/operations.md): the same record as JSON and as text."""

from __future__ import annotations

import json
import logging

from minipos.observability.logs import JSONFormatter, TextFormatter, request_id


def record(**fields: object) -> logging.LogRecord:
    line = logging.LogRecord("minipos.access", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
    line.fields = fields
    return line


def test_json_line_carries_time_level_request_id_and_fields() -> None:
    token = request_id.set("test-123")
    try:
        line = json.loads(JSONFormatter().format(record(status=200, key_id=None)))
    finally:
        request_id.reset(token)
    assert line["time"].endswith("+00:00")
    assert line | {"time": "-"} == {
        "time": "-",
        "level": "INFO",
        "logger": "minipos.access",
        "message": "GET /x",
        "request_id": "test-123",
        "status": 200,
        "key_id": None,
    }


def test_text_line_names_fields_and_leaves_out_empty_ones() -> None:
    text = TextFormatter().format(record(status=200, key_id=None))
    assert text.endswith(" INFO    minipos.access: GET /x status=200")
    assert "request_id" not in text  # none outside a request

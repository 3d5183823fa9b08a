"""Log lines: JSON objects one a line (``MINIPOS_LOG_FORMAT=json``) or human text.

``minipos serve`` hands :func:`logging_config` to uvicorn, which applies it in every server
process (``--workers`` spawns fresh ones, which a config set up in the parent would miss).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
from typing import Any

#: The request being answered, for every line logged while it is (set by the middleware).
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of a line: the request's id and what ``extra={"fields": …}`` gave."""
    fields: dict[str, Any] = {}
    current = request_id.get()
    if current is not None:
        fields["request_id"] = current
    fields.update(getattr(record, "fields", {}))
    return fields


def _time(record: logging.LogRecord) -> str:
    return dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        pairs = "".join(
            f" {key}={value}" for key, value in _fields(record).items() if value is not None
        )
        text = f"{_time(record)} {record.levelname:<7} {record.name}: {record.getMessage()}{pairs}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def logging_config(fmt: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig``: our INFO lines and uvicorn's on stderr, one format.
    uvicorn's access log stays off: the request middleware writes a richer line."""
    formatter = JSONFormatter if fmt == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "WARNING", "handlers": ["stderr"]},
        "loggers": {
            "minipos": {"level": "INFO"},
            "uvicorn": {"level": "INFO"},
            "uvicorn.access": {"level": "WARNING", "propagate": False},
        },
    }

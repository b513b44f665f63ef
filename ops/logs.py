"""Logging for operators: text for a terminal, or one JSON object per line for log shippers
(`KILAS_LOG_FORMAT=json`). A record's `extra` fields (a request's id, operation, caller, status
and duration) become the JSON object's own keys, and follow the message in text."""

import json
import logging
from datetime import UTC, datetime
from typing import Any

# What every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def extras(record: logging.LogRecord) -> dict[str, Any]:
    fields = vars(record)
    keys = fields.keys() - _STANDARD
    if not keys:
        return {}
    # In the order they were given.
    return {k: v for k, v in fields.items() if k in keys and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **extras(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = extras(record)
        if not fields:
            return text
        return text + " " + " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)


def configure(level: str, form: str) -> None:
    """The root logger's one handler on stderr, for Kilas's loggers and uvicorn's alike."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if form == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's loggers pass their records on to the root's handler.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True

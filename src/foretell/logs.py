"""How `foretell serve` and `foretell worker` write what they say: as text (the default:
lines for a person) or as JSON lines (`--log-format json`, FORETELL_LOG_FORMAT), one object a
line with `time`, `level`, `logger`, `message` and whatever fields the caller named
(`prediction_id`, `model`, …), for a log pipeline to index.

Both go through `say` (progress lines) and the standard logging module (warnings, errors).
The first API token is printed as plain text in either format: a secret has no place in a
log pipeline."""

from __future__ import annotations

import datetime
import logging
import sys
import traceback
from typing import Any, Literal

import orjson

LogFormat = Literal["text", "json"]
FORMATS: tuple[LogFormat, ...] = ("text", "json")

#: progress lines (what `say` writes) come from this logger in JSON
PROGRESS = logging.getLogger("foretell.progress")
PROGRESS.setLevel(logging.INFO)  # a progress line is always shown

#: the attributes every LogRecord has: anything else on one came from `extra=`
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}

_format: LogFormat = "text"


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time (UTC, ISO 8601), level, logger, message, the
    record's extra fields, and the traceback (`exception`) if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.datetime.fromtimestamp(record.created, datetime.UTC)
        entry: dict[str, Any] = {
            "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return orjson.dumps(entry, default=str).decode()


def configure(log_format: LogFormat) -> None:
    """Set the process's format. Text leaves logging as Python has it (warnings and errors
    on stderr); JSON puts every record, foretell's from INFO up, as JSON on stderr."""
    global _format
    _format = log_format
    if log_format == "text":
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("foretell").setLevel(logging.INFO)


def current() -> LogFormat:
    """The format `configure` set ("text" until it is called)."""
    return _format


def say(line: str, **fields: Any) -> None:
    """A progress line: printed as it is (text), or logged with `fields` (JSON)."""
    if _format == "json":
        PROGRESS.info(line.strip(), extra=fields)
    else:
        print(line, flush=True)


def uvicorn_log_config() -> dict[str, Any] | None:
    """uvicorn's own logging setup for the format: its default for text; none for JSON, so
    its records reach the JSON handler like any other."""
    if _format == "json":
        return None
    from uvicorn.config import LOGGING_CONFIG

    return LOGGING_CONFIG

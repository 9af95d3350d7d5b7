"""Structured logs: one JSON object per line, carrying the article ID and narration key.

The web app and the workers set the context (:func:`bind`) around each request and task; every
line logged inside it, by our code or a library's, carries those fields.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_context: ContextVar[dict[str, Any] | None] = ContextVar("narrator_log_context", default=None)

CONTEXT_FIELDS = ("article_id", "narration_key", "narration_id", "request_id", "task_id")


def current_context() -> dict[str, Any]:
    return dict(_context.get() or {})


@contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Add fields to every log line written inside the block (``None`` values are dropped)."""
    merged = current_context()
    merged.update({k: v for k, v in fields.items() if v is not None})
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def push(**fields: Any) -> Token[dict[str, Any] | None]:
    """Like :func:`bind`, for frameworks that open and close the block in separate hooks."""
    merged = current_context()
    merged.update({k: v for k, v in fields.items() if v is not None})
    return _context.set(merged)


def pop(token: Token[dict[str, Any] | None]) -> None:
    _context.reset(token)


def update_context(**fields: Any) -> None:
    """Add fields to the current block's context (e.g. once a narration key is known)."""
    merged = current_context()
    merged.update({k: v for k, v in fields.items() if v is not None})
    _context.set(merged)


_RECORD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        context = _context.get() or {}
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None) or context.get(name)
            entry[name] = value
        for name, value in context.items():
            entry.setdefault(name, value)
        for name, value in record.__dict__.items():
            if name not in _RECORD_ATTRS and not name.startswith("_"):
                entry.setdefault(name, value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str | int = "INFO") -> None:
    """Write every logger's records to stderr as JSON lines.

    A console handler already on the root logger (``logging.basicConfig``, gunicorn's) gets the
    JSON formatter instead of a second handler; handlers of other kinds (a test runner's
    capture) are left alone.
    """
    root = logging.getLogger()
    consoles = [h for h in root.handlers if type(h) is logging.StreamHandler]
    if not consoles:
        consoles = [logging.StreamHandler(sys.stderr)]
        root.addHandler(consoles[0])
    for handler in consoles:
        handler.setFormatter(JsonFormatter())
    root.setLevel(level)


def masked_url(url: str | None) -> str:
    """``url`` with its password shown as ``***``: database and Redis URLs carry credentials,
    and logs and start-up banners are read by more people than the settings are."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparsable URL>"
    if password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.partition(':')[0]}:***@{host}"))

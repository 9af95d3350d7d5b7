"""JSON log lines carry the article ID and narration key of the block they were written in."""

from __future__ import annotations

import json
import logging
import sys

from narration import logs


def render(record_msg: str, **extra: object) -> dict:
    record = logging.makeLogRecord({"msg": record_msg, "levelname": "INFO", "name": "t", **extra})
    return json.loads(logs.JsonFormatter().format(record))  # type: ignore[no-any-return]


def test_bound_fields_are_on_every_line_inside_the_block() -> None:
    with logs.bind(article_id="a1", narration_key="k1"):
        inside = render("synthesizing")
        with logs.bind(narration_id="n1"):
            nested = render("chunk done")
    outside = render("idle")
    assert (inside["article_id"], inside["narration_key"]) == ("a1", "k1")
    assert nested["narration_id"] == "n1" and nested["article_id"] == "a1"
    assert outside["article_id"] is None and outside["narration_key"] is None


def test_extra_fields_and_exceptions_are_kept() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        line = render("failed", elapsed_ms=12.5, exc_info=sys.exc_info())
    assert line["elapsed_ms"] == 12.5
    assert "ValueError: bad" in line["exc"]
    assert line["level"] == "info" and line["msg"] == "failed"


def test_urls_in_logs_never_show_a_password() -> None:
    assert (
        logs.masked_url("postgresql+psycopg://narrator:s3cret@db:5432/narrator")
        == "postgresql+psycopg://narrator:***@db:5432/narrator"
    )
    assert logs.masked_url("redis://:pw@redis:6379/0") == "redis://:***@redis:6379/0"
    assert logs.masked_url("sqlite:////srv/catalog.sqlite3") == "sqlite:////srv/catalog.sqlite3"
    assert logs.masked_url(None) == ""

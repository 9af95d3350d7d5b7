"""Request log lines are JSON with the request ID and the article the request is about."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from narration.logs import JsonFormatter
from narration.settings import Settings
from service.app import create_app


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("narrator.access")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(previous)


def test_access_line_carries_request_and_article(
    settings: Settings, access_log: io.StringIO
) -> None:
    client = create_app(settings).test_client()
    response = client.get("/v1/articles/lee-ishiba", headers={"X-Request-ID": "req-42"})
    assert response.headers["X-Request-ID"] == "req-42"
    (line,) = [json.loads(raw) for raw in access_log.getvalue().splitlines()]
    assert line["msg"] == "GET /v1/articles/lee-ishiba 404"
    assert line["request_id"] == "req-42"
    assert line["article_id"] == "lee-ishiba"
    assert isinstance(line["elapsed_ms"], float)


def test_context_does_not_leak_into_the_next_request(
    settings: Settings, access_log: io.StringIO
) -> None:
    client = create_app(settings).test_client()
    client.get("/v1/articles/first")
    client.get("/healthz")
    lines = [json.loads(raw) for raw in access_log.getvalue().splitlines()]
    assert [line["article_id"] for line in lines] == ["first", None]

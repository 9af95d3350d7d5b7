"""Every error leaves the API as ``application/problem+json`` (RFC 9457), never a stack trace.

A client error names what was wrong in ``field`` (e.g. ``"id"``, ``"body.title"``) so the
publisher's engineers can fix the request without reading our logs.
"""

from __future__ import annotations

import errno
import logging
from http import HTTPStatus
from typing import Any

import redis.exceptions
from flask import Flask, Response, json
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from narration.contract import Problem
from narration.errors import NarrationError
from narration.vocabulary import ARTICLE_ID

PROBLEM_JSON = "application/problem+json"
OUTAGE_RETRY_AFTER_S = 5
OUTAGES: tuple[type[Exception], ...] = (
    OperationalError,  # the database refused, dropped the connection, or was locked
    InterfaceError,
    PoolTimeout,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)
"""Errors that mean a backing service is down: the request may succeed later, unchanged."""
STORE_RETRY_AFTER_S = 60
STORE_UNWRITABLE = frozenset({errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM})
"""Why the audio store may refuse a write: read-only, full, over quota, not ours to write."""

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error the client can act on; raised anywhere in a view."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        field: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field
        self.title = title
        self.headers = headers or {}
        self.extra = extra


def checked_article_id(article_id: str) -> str:
    """``article_id`` if it is one, else a 400 naming ``id`` (never a path, never a 404)."""
    if not ARTICLE_ID.fullmatch(article_id):
        raise ApiError(
            400,
            "an article ID is 1 to 128 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit",
            field="id",
        )
    return article_id


def problem(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body = Problem(
        title=title or HTTPStatus(status).phrase,
        status=status,
        detail=detail or None,
        field=field or None,
        **extra,
    )
    response = Response(
        json.dumps(body.model_dump(mode="json", exclude_none=True)),
        status=status,
        mimetype=PROBLEM_JSON,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 503:  # every 503 says when to come back
        response.headers.setdefault("Retry-After", str(OUTAGE_RETRY_AFTER_S))
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return problem(
            error.status,
            error.detail,
            title=error.title,
            field=error.field,
            headers=error.headers,
            **error.extra,
        )

    @app.errorhandler(NarrationError)
    def _narration_error(error: NarrationError) -> Response:
        # Bad input that the domain caught (unreadable article, bad voice, too long...).
        return problem(422, str(error), field=error.field)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        # Keep the headers the exception carries (Allow on 405, Content-Range on 416, ...).
        headers = {
            name: value
            for name, value in error.get_headers()
            if name.lower() not in {"content-type", "content-length"}
        }
        return problem(error.code or 500, error.description, headers=headers)

    def _outage(error: Exception) -> Response:
        log.error("a backing service is unavailable: %s", type(error).__name__, exc_info=error)
        return problem(
            503,
            "the catalog or the job queue is unreachable; try again shortly",
            headers={"Retry-After": str(OUTAGE_RETRY_AFTER_S)},
        )

    for outage in OUTAGES:
        app.register_error_handler(outage, _outage)

    @app.errorhandler(OSError)
    def _storage(error: OSError) -> Response:
        if error.errno not in STORE_UNWRITABLE:
            return _unexpected(error)
        log.error("the audio store cannot be written: %s", error)
        return problem(
            503,
            "the audio store cannot be written now (read-only or full); try again later",
            headers={"Retry-After": str(STORE_RETRY_AFTER_S)},
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return problem(500, "An internal error occurred; it has been logged.")

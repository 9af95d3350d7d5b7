"""Structured request logs: every line carries the request ID, and the article ID or narration
key the request is about (``narration.logs`` writes the JSON)."""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request

from narration import logs, metrics

log = logging.getLogger("narrator.access")

REQUEST_ID_HEADER = "X-Request-ID"


def init_request_logging(app: Flask) -> None:
    @app.before_request
    def _bind_context() -> None:
        request_id = request.headers.get(REQUEST_ID_HEADER, "")[:64] or uuid.uuid4().hex
        g.request_id = request_id
        g.started = time.monotonic()
        fields: dict[str, Any] = {"request_id": request_id}
        view_args = request.view_args or {}
        if "article_id" in view_args:
            fields["article_id"] = view_args["article_id"]
        if "narration_id" in view_args:
            fields["narration_id"] = view_args["narration_id"]
        if "key" in view_args:
            fields["narration_key"] = view_args["key"]
        g.log_token = logs.push(**fields)

    @app.after_request
    def _access_log(response: Response) -> Response:
        response.headers.setdefault(REQUEST_ID_HEADER, g.get("request_id", ""))
        started = g.get("started")
        elapsed_s = time.monotonic() - started if started else None
        elapsed_ms = round(elapsed_s * 1000, 1) if elapsed_s is not None else None
        route = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.HTTP_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        if elapsed_s is not None:
            metrics.HTTP_SECONDS.labels(route, request.method).observe(elapsed_s)
        log.info(
            "%s %s %d",
            request.method,
            request.path,
            response.status_code,
            extra={"elapsed_ms": elapsed_ms},
        )
        return response

    @app.teardown_request
    def _unbind(_: BaseException | None) -> None:
        token = g.pop("log_token", None)
        if token is not None:
            # A token from another context cannot be reset; the request is over anyway.
            with contextlib.suppress(ValueError):
                logs.pop(token)

"""Liveness (``/healthz``), readiness (``/readyz``) and Prometheus metrics (``/metrics``)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text

from narration import contract
from narration import metrics as narration_metrics
from narration.catalog.db import engine_for
from narration.redisconn import client
from narration.settings import Settings
from service.context import current_settings
from service.errors import OUTAGE_RETRY_AFTER_S

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 2.0


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and answering; says nothing about its dependencies."""
    return jsonify(status="ok")


def _check_redis(settings: Settings) -> None:
    client(settings, timeout=CHECK_TIMEOUT_S).ping()


def _check_database(settings: Settings) -> None:
    with engine_for(settings.catalog_url).connect() as conn:
        conn.execute(text("SELECT 1"))


def _check_store(settings: Settings) -> None:
    """The store takes a new file (a read-only mount refuses even root) and has room."""
    root = settings.audio_cache_dir
    if not root.is_dir():
        raise OSError(f"{root} is not a directory")
    with tempfile.NamedTemporaryFile(dir=root, prefix=".ready-"):
        pass
    free_mb = shutil.disk_usage(root).free // 1_000_000
    if free_mb < settings.min_free_mb:
        raise StoreFull(f"{free_mb} MB free, under NARRATOR_MIN_FREE_MB={settings.min_free_mb}")


class StoreFull(OSError):
    """Less free space in the audio store than the settings ask for."""


@bp.get("/readyz")
def readyz() -> Response:
    """Ready to take work: Redis, the catalog and the audio store all answer."""
    settings = current_settings()
    checks: dict[str, str] = {}
    for name, check in (
        ("redis", _check_redis),
        ("database", _check_database),
        ("audio_store", _check_store),
    ):
        try:
            check(settings)
            checks[name] = "ok"
        except StoreFull as exc:
            log.warning("readiness check %s failed: %s", name, exc)
            checks[name] = f"failed: low free space ({exc})"
        except Exception as exc:
            log.warning("readiness check %s failed: %s", name, exc)
            reason = os.strerror(exc.errno) if isinstance(exc, OSError) and exc.errno else ""
            checks[name] = f"failed: {type(exc).__name__}" + (f" ({reason})" if reason else "")
    ready = all(value == "ok" for value in checks.values())
    body = contract.Health(status="ready" if ready else "unavailable", checks=checks)
    response = jsonify(body.model_dump(mode="json"))
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    if not ready:
        response.headers["Retry-After"] = str(OUTAGE_RETRY_AFTER_S)
    return response


class QueueDepth(Collector):
    """Tasks waiting in Redis, read at each scrape: one LLEN per priority, no catalog query."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        from workers.celery_app import PRIORITY_STEPS, QUEUE, queue_keys

        gauge = GaugeMetricFamily(
            "narrator_queue_depth",
            "Tasks waiting in Redis, by priority (0 = breaking news, 9 = backfill).",
            labels=["queue", "priority"],
        )
        try:
            redis = client(self.settings, timeout=CHECK_TIMEOUT_S)
            for step, key in zip(PRIORITY_STEPS, queue_keys(), strict=True):
                depth: Any = redis.llen(key)
                gauge.add_metric([QUEUE, str(step)], float(depth))
        except Exception as exc:
            log.warning("queue depth unavailable: %s", exc)
            return
        yield gauge


@bp.get("/metrics")
def metrics() -> Response:
    """Counters and histograms kept by the processes that did the work
    (:mod:`narration.metrics`), plus the queue depth."""
    body = generate_latest(narration_metrics.registry())
    body += generate_latest(_queue_registry(current_settings()))
    return Response(
        body,
        mimetype=CONTENT_TYPE_LATEST.split(";")[0],
        headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"},
    )


def _queue_registry(settings: Settings) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(QueueDepth(settings))
    return registry

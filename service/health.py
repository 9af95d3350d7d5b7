"""Liveness (``/healthz``), readiness (``/readyz``) and Prometheus metrics (``/metrics``).

Metrics are read from Redis and the catalog at scrape time, so any API process reports what
every worker did: queue depth per priority, narrations by state, chunk synthesis latency, and
the chunk cache hit ratio.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text

from narration import contract
from narration.catalog import narrations, session_scope
from narration.catalog.db import engine_for
from narration.redisconn import client
from narration.settings import Settings
from service.context import current_settings
from service.errors import OUTAGE_RETRY_AFTER_S

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 2.0
LATENCY_BUCKETS_MS = (100, 250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000)


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


class CatalogCollector(Collector):
    """Everything in ``/metrics``, computed at each scrape."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        yield from self._queue_depth()
        yield from self._catalog()

    def _queue_depth(self) -> Iterator[Metric]:
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

    def _catalog(self) -> Iterator[Metric]:
        try:
            with session_scope(self.settings.catalog_url) as session:
                counts = narrations.counts_by_state(session)
                cached, planned = narrations.cache_totals(session)
                latency = narrations.synthesis_histogram(session, LATENCY_BUCKETS_MS)
        except Exception as exc:
            log.warning("catalog metrics unavailable: %s", exc)
            return
        by_state = GaugeMetricFamily(
            "narrator_narrations", "Narrations in the catalog, by state.", labels=["state"]
        )
        for state, count in counts.items():
            by_state.add_metric([state], float(count))
        yield by_state

        ratio = GaugeMetricFamily(
            "narrator_chunk_cache_hit_ratio",
            "Share of planned chunks found already synthesized in the cache.",
        )
        ratio.add_metric([], cached / planned if planned else 0.0)
        yield ratio
        chunks = GaugeMetricFamily(
            "narrator_chunks",
            "Chunks planned over all narrations, by cache outcome.",
            labels=["outcome"],
        )
        chunks.add_metric(["hit"], float(cached))
        chunks.add_metric(["miss"], float(planned - cached))
        yield chunks

        buckets: list[tuple[str, float]] = [
            (str(bound / 1000), float(count))
            for bound, count in zip(latency.buckets_ms, latency.cumulative, strict=True)
        ]
        buckets.append(("+Inf", float(latency.count)))
        histogram = HistogramMetricFamily(
            "narrator_synthesis_latency_seconds",
            "Wall time of one chunk's synthesis (engine calls, retries and encoding).",
            buckets=buckets,
            sum_value=latency.sum_ms / 1000,
        )
        yield histogram


@bp.get("/metrics")
def metrics() -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CatalogCollector(current_settings()))
    started = time.monotonic()
    body = generate_latest(registry)
    log.debug("metrics collected in %.3f s", time.monotonic() - started)
    return Response(
        body,
        mimetype=CONTENT_TYPE_LATEST.split(";")[0],
        headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"},
    )

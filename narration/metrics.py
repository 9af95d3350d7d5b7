"""Prometheus metrics, counted where the work happens rather than recomputed from the catalog
at every scrape.

The API counts requests (``service``); the catalog functions that record a narration's life
count narrations, chunk cache outcomes and synthesis time, in whichever process runs them (the
API or a worker); Celery tasks may count themselves with :data:`TASKS`.

Several processes: with ``PROMETHEUS_MULTIPROC_DIR`` set (an empty folder per host, shared by
gunicorn's workers and, under ``narrator serve``, the worker), every process writes its values
there and ``/metrics`` adds them up (prometheus_client's multiprocess mode). A worker on another
host serves its own with :func:`start_exporter`.
"""

from __future__ import annotations

import os

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    multiprocess,
    start_http_server,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
if _multiproc_dir := os.environ.get(MULTIPROC_ENV):
    # each process writes its values there from the moment a metric is made, just below
    os.makedirs(_multiproc_dir, exist_ok=True)

HTTP_REQUESTS = Counter(
    "narrator_http_requests_total",
    "HTTP requests answered, by route (the URL rule), method and status.",
    ["route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "narrator_http_request_duration_seconds",
    "Time to answer an HTTP request (until the body starts), by route and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SYNTHESIS_SECONDS = Histogram(
    "narrator_synthesis_latency_seconds",
    "Wall time of one chunk's synthesis (engine calls, retries and encoding).",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
CHUNKS = Counter(
    "narrator_chunks_total",
    "Chunks of new narrations, by cache outcome (hit: already synthesized).",
    ["outcome"],
)
NARRATIONS = Counter(
    "narrator_narrations_total",
    "Narrations entering a state: queued (a new one, or a failed one asked again), ready, failed.",
    ["state"],
)
TASKS = Counter(
    "narrator_tasks_total",
    "Celery tasks finished, by task name and outcome (ok, retry, failed).",
    ["task", "outcome"],
)


def registry() -> CollectorRegistry:
    """What ``/metrics`` shows: every process's values in multiprocess mode, else this one's."""
    if os.environ.get(MULTIPROC_ENV):
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)
        return combined
    return REGISTRY


def start_exporter(port: int, addr: str = "0.0.0.0") -> None:
    """Serve this process's metrics on ``addr:port`` (a worker on its own host)."""
    start_http_server(port, addr=addr, registry=registry())

"""Task counters for ``/metrics`` (:data:`narration.metrics.TASKS`), from Celery's signals, and
a worker's own metrics endpoint when ``NARRATOR_METRICS_PORT`` is set (a worker on a host where
no API process adds its values up)."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import task_failure, task_retry, task_success, worker_ready

from narration import metrics
from workers.celery_app import settings_of

log = logging.getLogger(__name__)


def _name(sender: Any) -> str:
    return str(getattr(sender, "name", None) or sender or "unknown")


def _succeeded(sender: Any = None, **_: Any) -> None:
    metrics.TASKS.labels(_name(sender), "ok").inc()


def _retried(sender: Any = None, **_: Any) -> None:
    metrics.TASKS.labels(_name(sender), "retry").inc()


def _failed(sender: Any = None, **_: Any) -> None:
    metrics.TASKS.labels(_name(sender), "failed").inc()


def _serve_metrics(sender: Any = None, **_: Any) -> None:
    port = settings_of(sender.app).metrics_port
    if port:
        metrics.start_exporter(port)
        log.info("worker metrics on port %d", port)


def connect() -> None:
    task_success.connect(_succeeded, weak=False, dispatch_uid="narrator.metrics.ok")
    task_retry.connect(_retried, weak=False, dispatch_uid="narrator.metrics.retry")
    task_failure.connect(_failed, weak=False, dispatch_uid="narrator.metrics.failed")
    worker_ready.connect(_serve_metrics, weak=False, dispatch_uid="narrator.metrics.serve")

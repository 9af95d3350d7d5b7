"""Finished, retried and failed Celery tasks are counted for /metrics."""

from __future__ import annotations

from celery.signals import task_failure, task_retry, task_success
from prometheus_client import REGISTRY

from workers import metrics as worker_metrics


class _Task:
    name = "narration.synthesize"


def count(outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "narrator_tasks_total", {"task": _Task.name, "outcome": outcome}
    )
    return value or 0.0


def test_task_signals_are_counted_by_name_and_outcome() -> None:
    worker_metrics.connect()
    before = {outcome: count(outcome) for outcome in ("ok", "retry", "failed")}
    task_success.send(sender=_Task())
    task_success.send(sender=_Task())
    task_retry.send(sender=_Task())
    task_failure.send(sender=_Task())
    assert count("ok") - before["ok"] == 2
    assert count("retry") - before["retry"] == 1
    assert count("failed") - before["failed"] == 1

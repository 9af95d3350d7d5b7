"""The Celery app, built from the same settings as the web app and the CLI.

Start a worker with ``celery -A workers.celery_app worker``. Reliability choices:

- ``acks_late`` + ``task_reject_on_worker_lost``: a task is acknowledged after it ran, so a
  worker killed mid-task gives its message back to Redis; every task is idempotent.
- prefetch 1: a worker holds no more messages than it runs, so a long stitch never strands
  synthesis tasks behind it, and priorities are honoured at each pick.
- the Redis visibility timeout (1 h) is above the longest task's hard limit, so Redis never
  hands a running task to a second worker.
- priorities are Redis priority steps on one queue: 0 (breaking news) before 3 (normal) before
  9 (archive backfill); ``queue_order_strategy=priority`` keeps that order across queues.
- the ``threads`` pool: synthesis is a network call, so many overlap in one process; stitching
  spends its time in ffmpeg, outside the GIL. Celery enforces the per-task time limits below
  only in the ``prefork`` pool (``--pool prefork``, e.g. a worker for long articles); under
  threads, each engine request's own time-out and bounded retries are what bound a task.
"""

from __future__ import annotations

import contextlib
from typing import Any

from celery import Celery
from celery.signals import (
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
)

from narration import logs
from narration.logs import configure_logging
from narration.redisconn import redis_url
from narration.settings import Settings, get_settings

QUEUE = "narration"
PRIORITY = {"high": 0, "normal": 3, "low": 9}
PRIORITY_STEPS = [0, 3, 6, 9]
"""kombu keeps one Redis list per step: ``narration`` for 0, ``narration:<n>`` above."""
VISIBILITY_TIMEOUT_S = 3600

SYNTHESIZE_SOFT_LIMIT_S = 120
SYNTHESIZE_HARD_LIMIT_S = 150
STITCH_SOFT_LIMIT_S = 900
STITCH_HARD_LIMIT_S = 960
PUBLISH_HARD_LIMIT_S = 60


def queue_keys() -> list[str]:
    """The Redis lists that hold waiting narration tasks, highest priority first."""
    return [QUEUE if step == 0 else f"{QUEUE}:{step}" for step in PRIORITY_STEPS]


def configure(celery: Celery, settings: Settings) -> None:
    url = redis_url(settings)
    transport = {
        "visibility_timeout": VISIBILITY_TIMEOUT_S,
        "priority_steps": PRIORITY_STEPS,
        "sep": ":",
        "queue_order_strategy": "priority",
    }
    celery.conf.update(
        broker_url=url,
        result_backend=url,
        broker_transport_options=transport,
        result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
        broker_connection_retry_on_startup=True,
        task_default_queue=QUEUE,
        task_default_priority=PRIORITY["normal"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_pool="threads",
        worker_concurrency=settings.worker_concurrency,
        worker_hijack_root_logger=False,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=24 * 3600,
        task_time_limit=STITCH_HARD_LIMIT_S,
        task_soft_time_limit=STITCH_SOFT_LIMIT_S,
        worker_cancel_long_running_tasks_on_connection_loss=True,
    )


def create_celery(settings: Settings | None = None) -> Celery:
    celery = Celery("narrator", include=["workers.tasks", "workers.webhooks"])
    configure(celery, settings or get_settings())
    return celery


app = create_celery()


@setup_logging.connect
def _setup_logging(**_: Any) -> None:
    configure_logging(get_settings().log_level)


@worker_init.connect
def _migrate_catalog(**_: Any) -> None:
    from narration.catalog import upgrade_to_head

    upgrade_to_head(get_settings().catalog_url)


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    # A forked pool process must not share the parent's database sockets.
    from narration.catalog.db import dispose_all

    dispose_all()


_log_tokens: dict[str, Any] = {}


def _task_log_fields(name: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """The narration a task works on, from its arguments (IDs and keys, by position)."""
    if name in ("narration.synthesize", "narration.stitch") and len(args) >= 2:
        return {"narration_id": args[0], "narration_key": args[1]}
    if name == "narration.publish" and len(args) >= 2:
        return {"narration_id": args[1]}
    return {}


@task_prerun.connect
def _bind_task_context(task_id: str, task: Any, args: tuple[Any, ...] = (), **_: Any) -> None:
    fields = _task_log_fields(task.name, tuple(args or ()))
    _log_tokens[task_id] = logs.push(task_id=task_id, task=task.name, **fields)


@task_postrun.connect
def _unbind_task_context(task_id: str, **_: Any) -> None:
    token = _log_tokens.pop(task_id, None)
    if token is not None:
        # A token set in another thread's context cannot be reset there; that context is gone.
        with contextlib.suppress(ValueError):
            logs.pop(token)

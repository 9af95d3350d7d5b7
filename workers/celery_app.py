"""The Celery app, built from a :class:`~narration.settings.Settings` by a factory.

Nothing here reads the environment: ``workers.main`` builds the worker's app from ``Settings()``
(``celery -A workers.main worker``), the API builds its sender from its own settings, and tests
build apps from explicit settings. Reliability choices:

- ``acks_late`` + ``task_reject_on_worker_lost``: a task is acknowledged after it ran, so a
  worker killed mid-task gives its message back to Redis; every task is idempotent.
- prefetch 1: a worker holds no more messages than it runs, so a long stitch never strands
  synthesis tasks behind it, and priorities are honoured at each pick.
- the Redis visibility timeout (40 min) is above the longest task's hard limit (16 min, a stitch)
  plus the longest wait a task announces (15 min, a rate-limited chunk holding its ETA
  message), so Redis never hands a running or waiting task to a second worker. Lost work does
  not wait for it: the reconciler (:mod:`narration.reconcile`) re-sends it after
  ``NARRATOR_STALL_AFTER_S`` without progress; the redelivery after the timeout only brings
  back messages of an attempt that has since been replaced, which do nothing.
- priorities are Redis priority steps on one queue: 0 (breaking news) before 3 (normal) before
  9 (archive backfill); ``queue_order_strategy=priority`` keeps that order across queues.
- the ``threads`` pool: synthesis is a network call, so many overlap in one process; stitching
  spends its time in ffmpeg, outside the GIL. The threads pool cannot cancel a running task, so
  a lost Redis connection must not try to (``worker_cancel_long_running_tasks_on_connection_loss``
  would make the worker exit with "does not implement kill_job"): running tasks finish, the
  consumer reconnects for as long as Redis stays away, and the reconciler re-sends whatever the
  outage lost. Celery enforces the per-task time limits below only in the ``prefork`` pool; under
  threads, each engine request's own time-out and bounded retries are what bound a task, and a
  task that hangs anyway shows as a stalled narration that the reconciler sends again.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from narration.redisconn import redis_url
from narration.settings import Settings

QUEUE = "narration"
PRIORITY = {"high": 0, "normal": 3, "low": 9}
PRIORITY_STEPS = [0, 3, 6, 9]
"""kombu keeps one Redis list per step: ``narration`` for 0, ``narration:<n>`` above."""

SYNTHESIZE_SOFT_LIMIT_S = 120
SYNTHESIZE_HARD_LIMIT_S = 150
STITCH_SOFT_LIMIT_S = 900
STITCH_HARD_LIMIT_S = 960
PUBLISH_HARD_LIMIT_S = 60
LONGEST_ANNOUNCED_WAIT_S = 900
"""The longest countdown a task retries with (``NARRATOR_TTS_BACKOFF_MAX_S``'s default)."""
VISIBILITY_TIMEOUT_S = 2400
"""Above ``STITCH_HARD_LIMIT_S + LONGEST_ANNOUNCED_WAIT_S``: see the module's docstring."""

WEB_REDIS_RETRIES = 2
WEB_REDIS_CONNECT_TIMEOUT_S = 3.0

SETTINGS_KEY = "narrator_settings"


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
        # Keep reconnecting for as long as Redis is away (a restart, a failover), never exit.
        broker_connection_retry=True,
        broker_connection_max_retries=None,
        task_default_queue=QUEUE,
        task_default_priority=PRIORITY["normal"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_pool="threads",
        worker_concurrency=settings.worker_concurrency,
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        # After a reconnect Celery lowers the prefetch count by the tasks still running and
        # raises it again as messages are acknowledged; behind a Redis restart that left
        # messages unacknowledgeable, a worker was seen idle for minutes with work queued.
        worker_enable_prefetch_count_reduction=False,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=24 * 3600,
        task_time_limit=STITCH_HARD_LIMIT_S,
        task_soft_time_limit=STITCH_SOFT_LIMIT_S,
    )
    celery.conf[SETTINGS_KEY] = settings


def create_celery(settings: Settings, *, sender_only: bool = False) -> Celery:
    """The Celery app for ``settings``. ``sender_only``: for a web process, which only sends
    jobs and must answer quickly while Redis is down instead of retrying for long."""
    celery = Celery("narrator", include=["workers.tasks", "workers.webhooks"])
    configure(celery, settings)
    if sender_only:
        # Celery's result backend would retry its connection 20 times, a second apart, before a
        # request could answer 503.
        celery.conf.result_backend_transport_options = {
            **celery.conf.result_backend_transport_options,
            "retry_policy": {"max_retries": WEB_REDIS_RETRIES, "interval_max": 0.5},
        }
        celery.conf.redis_socket_connect_timeout = WEB_REDIS_CONNECT_TIMEOUT_S
        celery.conf.broker_connection_timeout = WEB_REDIS_CONNECT_TIMEOUT_S
        celery.conf.broker_connection_max_retries = WEB_REDIS_RETRIES
    else:
        from workers import lifecycle, metrics

        lifecycle.connect()
        metrics.connect()
        celery.steps["worker"].add(lifecycle.PromptFetch)
    return celery


def settings_of(celery: Any) -> Settings:
    """The settings ``celery`` was built from."""
    settings: Settings = celery.conf[SETTINGS_KEY]
    return settings

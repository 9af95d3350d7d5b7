"""The Celery app is built from the shared settings with the reliability options it needs."""

from __future__ import annotations

import subprocess
import sys

from narration.settings import Settings
from workers.celery_app import (
    LONGEST_ANNOUNCED_WAIT_S,
    STITCH_HARD_LIMIT_S,
    VISIBILITY_TIMEOUT_S,
    create_celery,
    queue_keys,
    settings_of,
)


def test_broker_and_backend_come_from_the_settings(settings: Settings) -> None:
    url = "redis+socket:///tmp/narrator.sock"
    celery = create_celery(settings.model_copy(update={"redis_url": url}))
    assert celery.conf.broker_url == url
    assert celery.conf.result_backend == url


def test_reliability_options(settings: Settings) -> None:
    conf = create_celery(settings.model_copy(update={"worker_concurrency": 12})).conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_pool == "threads" and conf.worker_concurrency == 12
    transport = conf.broker_transport_options
    assert transport["visibility_timeout"] == VISIBILITY_TIMEOUT_S
    assert VISIBILITY_TIMEOUT_S > STITCH_HARD_LIMIT_S + LONGEST_ANNOUNCED_WAIT_S
    assert transport["queue_order_strategy"] == "priority"
    # The threads pool cannot cancel a task: asking it to on a lost connection kills the worker.
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is False
    assert conf.broker_connection_max_retries is None
    assert settings_of(create_celery(settings)) == settings


def test_the_web_sender_gives_up_on_redis_quickly(settings: Settings) -> None:
    conf = create_celery(settings, sender_only=True).conf
    assert conf.result_backend_transport_options["retry_policy"]["max_retries"] <= 2
    assert conf.broker_connection_max_retries is not None


def test_queue_keys_are_highest_priority_first() -> None:
    assert queue_keys() == ["narration", "narration:3", "narration:6", "narration:9"]


def test_a_worker_refuses_a_request_limit_of_zero_at_start_up() -> None:
    """Not a bare ValueError deep in the first task: the worker does not start, and says why."""
    env = {"NARRATOR_TTS_CONCURRENCY_MAX": "0", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", "import workers.main"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "tts_concurrency_max" in proc.stderr and "greater than or equal to 1" in proc.stderr


def test_a_rate_limited_chunk_waits_minutes_doubling_then_gives_up(settings: Settings) -> None:
    from workers.tasks import rate_limited_wait

    def most(low: float, high: float) -> float:
        return high

    waits = [rate_limited_wait(settings, n, most) for n in range(10)]
    assert waits[:6] == [60, 120, 240, 480, 900, 900]  # the defaults: a minute, doubling, 15 min
    given_up = waits.index(None)
    assert sum(w for w in waits[:given_up] if w) >= settings.tts_rate_limited_for_s
    assert rate_limited_wait(settings, 0, lambda low, high: low) == 30  # jitter: half to all

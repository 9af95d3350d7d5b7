"""The ``webhooks.deliver`` task in a real Celery worker process: retries, then gives up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from narration import webhooks
from narration.settings import Settings
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.worker_process import await_condition, celery_worker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SECRET = "hook-secret"


@pytest.fixture
def worker(tmp_path: Path, leased_redis_db: str) -> Iterator[tuple[Celery, Path]]:
    settings = Settings(
        redis_url=leased_redis_db,
        audio_cache_dir=tmp_path / "audio",
        webhook_secret=SECRET,
        engine="espeak",
    )
    with celery_worker(settings, tmp_path, concurrency=2):
        client = Celery(broker=leased_redis_db)
        yield client, next(tmp_path.glob("worker-*.log"))
        client.close()


def send(client: Celery, delivery: webhooks.Delivery) -> None:
    client.send_task(
        "webhooks.deliver",
        args=[delivery.url, delivery.event, delivery.delivery_id, delivery.body.decode()],
        queue="narration",
    )


def test_a_failing_receiver_gets_the_same_signed_event_until_it_accepts(
    worker: tuple[Celery, Path], webhook_receiver: WebhookReceiver
) -> None:
    client, _ = worker
    webhook_receiver.statuses = [503, 500]
    delivery = webhooks.build_delivery(webhook_receiver.url, "narration.ready", {"state": "ready"})
    send(client, delivery)
    attempts = [webhook_receiver.received.get(timeout=30) for _ in range(3)]
    assert [body for _, body in attempts] == [delivery.body] * 3
    for headers, body in attempts:
        assert headers[webhooks.DELIVERY_HEADER] == delivery.delivery_id
        assert webhooks.verify(
            SECRET, headers[webhooks.TIMESTAMP_HEADER], body, headers[webhooks.SIGNATURE_HEADER]
        )


def test_a_receiver_that_answers_gone_is_not_asked_again(
    worker: tuple[Celery, Path], webhook_receiver: WebhookReceiver
) -> None:
    client, log = worker
    webhook_receiver.statuses = [410]
    delivery = webhooks.build_delivery(
        webhook_receiver.url, "narration.failed", {"state": "failed"}
    )
    send(client, delivery)
    webhook_receiver.received.get(timeout=30)
    await_condition(
        lambda: f"webhook {delivery.delivery_id} dropped" in log.read_text(errors="replace"),
        timeout=30,
        what="the worker to drop the delivery",
    )
    assert webhook_receiver.received.empty()

"""The ``webhooks.deliver`` task in a real Celery worker process: retries, then gives up."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from celery import Celery

from narration import webhooks
from narration.settings import Settings
from tests.integration.worker_process import await_condition, celery_worker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SECRET = "hook-secret"


@dataclass
class Receiver:
    url: str = ""
    statuses: list[int] = field(default_factory=list)
    received: queue.Queue[tuple[dict[str, str], bytes]] = field(default_factory=queue.Queue)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = state.statuses.pop(0) if state.statuses else 204
            state.received.put((dict(self.headers.items()), body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


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
    worker: tuple[Celery, Path], receiver: Receiver
) -> None:
    client, _ = worker
    receiver.statuses = [503, 500]
    delivery = webhooks.build_delivery(receiver.url, "narration.ready", {"state": "ready"})
    send(client, delivery)
    attempts = [receiver.received.get(timeout=30) for _ in range(3)]
    assert [body for _, body in attempts] == [delivery.body] * 3
    for headers, body in attempts:
        assert headers[webhooks.DELIVERY_HEADER] == delivery.delivery_id
        assert webhooks.verify(
            SECRET, headers[webhooks.TIMESTAMP_HEADER], body, headers[webhooks.SIGNATURE_HEADER]
        )


def test_a_receiver_that_answers_gone_is_not_asked_again(
    worker: tuple[Celery, Path], receiver: Receiver
) -> None:
    client, log = worker
    receiver.statuses = [410]
    delivery = webhooks.build_delivery(receiver.url, "narration.failed", {"state": "failed"})
    send(client, delivery)
    receiver.received.get(timeout=30)
    await_condition(
        lambda: f"webhook {delivery.delivery_id} dropped" in log.read_text(errors="replace"),
        timeout=30,
        what="the worker to drop the delivery",
    )
    assert receiver.received.empty()

"""Webhook payload, signature and delivery, against a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import queue
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from narration import webhooks
from narration.errors import NarrationError

SECRET = "s3cret"


@dataclass
class Receiver:
    url: str
    statuses: list[int] = field(default_factory=list)
    """Status to answer per request, in order; 204 once they run out."""
    received: queue.Queue[tuple[dict[str, str], bytes]] = field(default_factory=queue.Queue)
    stall: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.put((dict(self.headers.items()), body))
            if state.stall.is_set():
                state.release.wait(5)  # answer only after the client has given up
            status = state.statuses.pop(0) if state.statuses else 204
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/narrator"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


NARRATION = {"state": "ready", "article_id": "a-1", "audio_url": "/audio/abc.mp3", "bytes": 10}


def test_body_carries_event_id_and_the_narration() -> None:
    delivery = webhooks.build_delivery("https://cms.example/hook", "narration.ready", NARRATION)
    payload = json.loads(delivery.body)
    assert payload["event"] == "narration.ready"
    assert payload["id"] == delivery.delivery_id
    assert payload["data"] == NARRATION
    assert payload["created"].endswith("Z")


def test_unknown_event_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown webhook event"):
        webhooks.build_delivery("https://cms.example/hook", "narration.gone", {})  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["ftp://x/y", "/relative", "http://", "javascript:alert(1)"])
def test_callback_url_must_be_absolute_http(url: str) -> None:
    with pytest.raises(NarrationError, match="callback_url") as info:
        webhooks.validate_callback_url(url)
    assert info.value.field == "callback_url"


def test_signature_verifies_and_rejects_tampering_and_replays() -> None:
    body = b'{"event":"narration.ready"}'
    signature = webhooks.sign(SECRET, 1_700_000_000, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert webhooks.verify(SECRET, "1700000000", body, signature, now=1_700_000_010)
    assert not webhooks.verify(SECRET, "1700000000", body + b" ", signature, now=1_700_000_010)
    assert not webhooks.verify("other", "1700000000", body, signature, now=1_700_000_010)
    assert not webhooks.verify(SECRET, "1700000001", body, signature, now=1_700_000_010)
    assert not webhooks.verify(SECRET, "1700000000", body, signature, now=1_700_001_000)
    assert not webhooks.verify(SECRET, "soon", body, signature)


def test_post_delivers_a_signed_body_the_receiver_can_verify(receiver: Receiver) -> None:
    delivery = webhooks.build_delivery(receiver.url, "narration.failed", {"error": "engine down"})
    assert webhooks.post(delivery, SECRET, timeout=5) == 204
    got_headers, got_body = receiver.received.get(timeout=5)
    assert got_body == delivery.body
    assert got_headers["Content-Type"] == "application/json"
    assert got_headers[webhooks.EVENT_HEADER] == "narration.failed"
    assert got_headers[webhooks.DELIVERY_HEADER] == delivery.delivery_id
    assert webhooks.verify(
        SECRET,
        got_headers[webhooks.TIMESTAMP_HEADER],
        got_body,
        got_headers[webhooks.SIGNATURE_HEADER],
    )


def test_without_a_secret_the_delivery_is_unsigned(receiver: Receiver) -> None:
    delivery = webhooks.build_delivery(receiver.url, "narration.ready", NARRATION)
    webhooks.post(delivery, None, timeout=5)
    got_headers, _ = receiver.received.get(timeout=5)
    assert webhooks.SIGNATURE_HEADER not in got_headers


@pytest.mark.parametrize("status", [429, 500, 503, 408])
def test_server_errors_and_throttling_are_transient(receiver: Receiver, status: int) -> None:
    receiver.statuses.append(status)
    delivery = webhooks.build_delivery(receiver.url, "narration.ready", NARRATION)
    with pytest.raises(webhooks.TransientWebhookError, match=str(status)):
        webhooks.post(delivery, SECRET, timeout=5)


@pytest.mark.parametrize("status", [400, 404, 410, 301])
def test_other_answers_are_permanent(receiver: Receiver, status: int) -> None:
    receiver.statuses.append(status)
    delivery = webhooks.build_delivery(receiver.url, "narration.ready", NARRATION)
    with pytest.raises(webhooks.PermanentWebhookError, match=str(status)):
        webhooks.post(delivery, SECRET, timeout=5)


def test_a_receiver_too_slow_to_answer_is_a_transient_timeout(receiver: Receiver) -> None:
    receiver.stall.set()
    delivery = webhooks.build_delivery(receiver.url, "narration.ready", NARRATION)
    with pytest.raises(webhooks.TransientWebhookError, match="timed out"):
        webhooks.post(delivery, SECRET, timeout=0.3)


def test_a_closed_port_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    delivery = webhooks.build_delivery(f"http://127.0.0.1:{port}/", "narration.ready", NARRATION)
    with pytest.raises(webhooks.TransientWebhookError):
        webhooks.post(delivery, SECRET, timeout=2)


def test_backoff_grows_and_is_capped() -> None:
    assert 1.0 <= webhooks.backoff_s(0) <= 2.0
    assert 64.0 <= webhooks.backoff_s(6) <= 128.0
    assert webhooks.backoff_s(30) <= 600.0

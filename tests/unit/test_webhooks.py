"""Webhook payload, signature and delivery, against a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import socket

import pytest

from narration import webhooks
from narration.errors import NarrationError
from tests.fakes.webhook_receiver import WebhookReceiver

SECRET = "s3cret"


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


def test_post_delivers_a_signed_body_the_receiver_can_verify(
    webhook_receiver: WebhookReceiver,
) -> None:
    delivery = webhooks.build_delivery(
        webhook_receiver.url, "narration.failed", {"error": "engine down"}
    )
    assert webhooks.post(delivery, SECRET, timeout=5) == 204
    got_headers, got_body = webhook_receiver.received.get(timeout=5)
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


def test_without_a_secret_the_delivery_is_unsigned(webhook_receiver: WebhookReceiver) -> None:
    delivery = webhooks.build_delivery(webhook_receiver.url, "narration.ready", NARRATION)
    webhooks.post(delivery, None, timeout=5)
    got_headers, _ = webhook_receiver.received.get(timeout=5)
    assert webhooks.SIGNATURE_HEADER not in got_headers


@pytest.mark.parametrize("status", [429, 500, 503, 408])
def test_server_errors_and_throttling_are_transient(
    webhook_receiver: WebhookReceiver, status: int
) -> None:
    webhook_receiver.statuses.append(status)
    delivery = webhooks.build_delivery(webhook_receiver.url, "narration.ready", NARRATION)
    with pytest.raises(webhooks.TransientWebhookError, match=str(status)):
        webhooks.post(delivery, SECRET, timeout=5)


@pytest.mark.parametrize("status", [400, 404, 410, 301])
def test_other_answers_are_permanent(webhook_receiver: WebhookReceiver, status: int) -> None:
    webhook_receiver.statuses.append(status)
    delivery = webhooks.build_delivery(webhook_receiver.url, "narration.ready", NARRATION)
    with pytest.raises(webhooks.PermanentWebhookError, match=str(status)):
        webhooks.post(delivery, SECRET, timeout=5)


def test_a_receiver_too_slow_to_answer_is_a_transient_timeout(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.stall.set()
    delivery = webhooks.build_delivery(webhook_receiver.url, "narration.ready", NARRATION)
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


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[fe80::1]/hook",
        "http://0.0.0.0:8080/hook",
        "http://[::ffff:169.254.169.254]/hook",
        "http://224.0.0.1/hook",
    ],
)
def test_callback_url_may_not_point_at_link_local_or_unspecified_addresses(url: str) -> None:
    with pytest.raises(NarrationError, match="callback_url") as info:
        webhooks.validate_callback_url(url)
    assert info.value.field == "callback_url"


def test_listed_webhook_hosts_are_the_only_ones_allowed() -> None:
    hosts = ["hooks.example"]
    assert webhooks.validate_callback_url("https://HOOKS.example/x", hosts=hosts)
    with pytest.raises(NarrationError, match="NARRATOR_WEBHOOK_HOSTS"):
        webhooks.validate_callback_url("http://127.0.0.1:9000/x", hosts=hosts)


def test_post_refuses_a_host_outside_the_list(webhook_receiver: WebhookReceiver) -> None:
    delivery = webhooks.build_delivery(webhook_receiver.url, "narration.ready", NARRATION)
    with pytest.raises(webhooks.PermanentWebhookError, match="NARRATOR_WEBHOOK_HOSTS"):
        webhooks.post(delivery, SECRET, timeout=5, hosts=["hooks.example"])
    assert webhook_receiver.received.empty()


def test_post_refuses_a_name_that_now_resolves_to_a_metadata_address(
    webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The name was fine when the callback was accepted; it points elsewhere at delivery time.
    url = webhook_receiver.url.replace("127.0.0.1", "hooks.example")
    delivery = webhooks.build_delivery(url, "narration.ready", NARRATION)
    metadata = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 0))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: metadata)
    with pytest.raises(webhooks.PermanentWebhookError, match=r"169\.254\.169\.254"):
        webhooks.post(delivery, SECRET, timeout=5)
    assert webhook_receiver.received.empty()

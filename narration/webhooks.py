"""Webhooks: tell a publisher's system that a narration is ready or has failed.

A delivery is an HTTP POST of a JSON body, signed with HMAC-SHA256 so the receiver can check it
came from this service and was not replayed::

    X-Narrator-Event: narration.ready
    X-Narrator-Delivery: 3f0c…            (the same on every retry of one event)
    X-Narrator-Timestamp: 1767225600      (seconds since the epoch, per attempt)
    X-Narrator-Signature: sha256=<hex of HMAC-SHA256(secret, "<timestamp>." + body)>

The body is built once per event, so every retry sends the same bytes; only the timestamp and
signature change. Retrying (with backoff) is the caller's job: :func:`post` says whether a
failure is worth another attempt by the exception it raises.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import random
import socket
import time
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from narration.errors import NarrationError

Event = Literal["narration.ready", "narration.failed"]
EVENTS: tuple[Event, ...] = ("narration.ready", "narration.failed")

SIGNATURE_HEADER = "X-Narrator-Signature"
TIMESTAMP_HEADER = "X-Narrator-Timestamp"
EVENT_HEADER = "X-Narrator-Event"
DELIVERY_HEADER = "X-Narrator-Delivery"
USER_AGENT = "narrator-webhooks/1"

DEFAULT_TOLERANCE_S = 300
"""How old a signed timestamp a receiver should accept; older ones may be replays."""


class WebhookError(NarrationError):
    """A delivery failed."""


class TransientWebhookError(WebhookError):
    """Worth retrying: time-outs, refused connections, HTTP 408, 429 and 5xx."""


class PermanentWebhookError(WebhookError):
    """Retrying will not help: the receiver answered another 4xx (e.g. 404, 410)."""


@dataclass(frozen=True)
class Delivery:
    """One event to one URL: the exact bytes to send and the id that names it on every retry."""

    url: str
    event: Event
    delivery_id: str
    body: bytes


def _forbidden_address(address: str) -> bool:
    """Addresses no callback may reach unless its host is listed: link-local (cloud metadata
    services live at 169.254.169.254), multicast and unspecified."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    return ip.is_link_local or ip.is_multicast or ip.is_unspecified


def validate_callback_url(
    url: str, *, field: str = "callback_url", hosts: Collection[str] = ()
) -> str:
    """Return ``url`` if it is an absolute http(s) URL to an acceptable host, else raise a field
    error. ``hosts`` (``NARRATOR_WEBHOOK_HOSTS``), when given, is the only hosts allowed."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise NarrationError(f"{field} must be an absolute http or https URL", field=field)
    if len(url) > 2048:
        raise NarrationError(f"{field} is longer than 2048 characters", field=field)
    host = parts.hostname.lower()
    if hosts and host not in {allowed.lower() for allowed in hosts}:
        raise NarrationError(f"{field} host {host!r} is not in NARRATOR_WEBHOOK_HOSTS", field=field)
    if not hosts and _forbidden_address(host):
        raise NarrationError(f"{field} may not point at {host}", field=field)
    return url.strip()


def check_destination(url: str, hosts: Collection[str] = ()) -> None:
    """Refuse, just before sending, a URL whose host is not allowed or whose name now resolves
    to a forbidden address (a name can be pointed anywhere after the URL was accepted)."""
    try:
        validate_callback_url(url, hosts=hosts)
    except NarrationError as exc:
        raise PermanentWebhookError(str(exc)) from exc
    if hosts:
        return
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise TransientWebhookError(f"webhook host {host!r} does not resolve: {exc}") from exc
    for info in infos:
        if _forbidden_address(str(info[4][0])):
            raise PermanentWebhookError(f"webhook host {host!r} resolves to {info[4][0]}")


def build_delivery(url: str, event: Event, data: Mapping[str, Any]) -> Delivery:
    """The event's JSON body: ``{"id", "event", "created", "data"}``.

    ``data`` is the narration as ``GET …/narration`` shows it (state, audio_url, duration_ms,
    error, …), so a receiver needs no second request.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    delivery_id = uuid.uuid4().hex
    payload = {
        "id": delivery_id,
        "event": event,
        "created": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "data": dict(data),
    }
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()
    return Delivery(url=validate_callback_url(url), event=event, delivery_id=delivery_id, body=body)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value: ``sha256=<hex>`` over ``"<timestamp>." + body``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(
    secret: str,
    timestamp: str | int,
    body: bytes,
    signature: str,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """What a receiver does: check the signature in constant time and the timestamp's age."""
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, stamp, body), signature)


def headers(
    delivery: Delivery, secret: str | None, *, timestamp: int | None = None
) -> dict[str, str]:
    """Headers for one attempt. Without a secret the delivery goes unsigned."""
    stamp = int(time.time()) if timestamp is None else timestamp
    result = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: delivery.delivery_id,
        TIMESTAMP_HEADER: str(stamp),
    }
    if secret:
        result[SIGNATURE_HEADER] = sign(secret, stamp, delivery.body)
    return result


def post(
    delivery: Delivery,
    secret: str | None,
    *,
    timeout: float = 10.0,
    hosts: Collection[str] = (),
) -> int:
    """Send one attempt; return the receiver's 2xx status.

    Redirects are not followed: a signed body should reach the URL the publisher registered.
    ``hosts``: the allowed callback hosts (see :func:`validate_callback_url`).
    """
    check_destination(delivery.url, hosts)
    try:
        response = requests.post(
            delivery.url,
            data=delivery.body,
            headers=headers(delivery, secret),
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.Timeout as exc:
        raise TransientWebhookError(
            f"webhook to {delivery.url} timed out after {timeout} s"
        ) from exc
    except requests.RequestException as exc:
        raise TransientWebhookError(f"webhook to {delivery.url} failed: {exc}") from exc
    status = response.status_code
    response.close()
    if 200 <= status < 300:
        return status
    if status in {408, 425, 429} or status >= 500:
        raise TransientWebhookError(f"webhook to {delivery.url} answered HTTP {status}")
    raise PermanentWebhookError(f"webhook to {delivery.url} answered HTTP {status}")


def backoff_s(attempt: int, *, base: float = 2.0, cap: float = 600.0) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based): exponential with jitter, so
    receivers coming back from an outage are not hit by every retry at once."""
    ceiling = min(cap, base * 2**attempt)
    return ceiling / 2 + random.uniform(0, ceiling / 2)

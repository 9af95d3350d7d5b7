"""Deliver webhooks from the workers, retrying with backoff until the receiver takes them.

The publish and fail tasks call :func:`notify`; it builds the signed body once and queues
``webhooks.deliver``, so a slow or dead receiver never holds up a narration.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from celery import Task, shared_task

from narration import webhooks
from narration.errors import NarrationError
from workers.celery_app import settings_of

log = logging.getLogger(__name__)


def notify(callback_url: str | None, event: webhooks.Event, data: Mapping[str, Any]) -> None:
    """Queue one delivery of ``event`` with ``data`` (the narration's status object).

    Does nothing without a URL. Never raises for a bad URL: the URL was validated when the
    request was accepted, and a webhook must not fail the narration it reports on.
    """
    if not callback_url:
        return
    try:
        delivery = webhooks.build_delivery(callback_url, event, data)
    except NarrationError as exc:
        log.warning("webhook not sent: %s", exc)
        return
    deliver.delay(delivery.url, delivery.event, delivery.delivery_id, delivery.body.decode())


DELIVER_TIME_LIMIT_S = 120
"""Far above any sane NARRATOR_WEBHOOK_TIMEOUT; only a hung socket gets here."""


@shared_task(
    name="webhooks.deliver",
    bind=True,
    acks_late=True,
    ignore_result=True,
    time_limit=DELIVER_TIME_LIMIT_S,
)
def deliver(self: Task, url: str, event: webhooks.Event, delivery_id: str, body: str) -> int | None:
    """POST one event; on a transient failure retry after an exponential, jittered delay."""
    settings = settings_of(self.app)
    delivery = webhooks.Delivery(url=url, event=event, delivery_id=delivery_id, body=body.encode())
    try:
        return webhooks.post(
            delivery,
            settings.webhook_secret,
            timeout=settings.webhook_timeout,
            hosts=settings.webhook_hosts,
        )
    except webhooks.PermanentWebhookError as exc:
        log.warning("webhook %s dropped: %s", delivery_id, exc)
        return None
    except webhooks.TransientWebhookError as exc:
        attempt = self.request.retries
        if attempt >= settings.webhook_retries:
            log.warning("webhook %s dropped after %d attempts: %s", delivery_id, attempt + 1, exc)
            return None
        raise self.retry(exc=exc, countdown=webhooks.backoff_s(attempt), max_retries=None) from exc

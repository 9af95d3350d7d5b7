"""A publisher's webhook endpoint on loopback, for the tests of webhook delivery.

It records the headers and body of every POST, answers each with the next status of
:attr:`WebhookReceiver.statuses` (204 once they run out) and, while :attr:`WebhookReceiver.stall`
is set, holds its answer until :attr:`WebhookReceiver.release` is set (or 5 s have passed), so a
client's timeout can be seen.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import pytest

from tests.fakes.loopback import loopback

Delivery = tuple[dict[str, str], bytes]


@dataclass
class WebhookReceiver:
    url: str = ""
    statuses: list[int] = field(default_factory=list)
    """Status to answer per request, in order; 204 once they run out."""
    deliveries: list[Delivery] = field(default_factory=list)
    """Every request so far, in arrival order."""
    received: queue.Queue[Delivery] = field(default_factory=queue.Queue)
    """The same requests, to wait for the next one with ``get(timeout=...)``."""
    stall: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[str]:
        """The ``event`` of every delivery so far."""
        return [json.loads(body)["event"] for _, body in self.deliveries]


def _handler(state: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            delivery = (dict(self.headers.items()), body)
            with state._lock:
                state.deliveries.append(delivery)
                state.received.put(delivery)
                status = state.statuses.pop(0) if state.statuses else 204
            if state.stall.is_set():
                state.release.wait(5)  # answer only after the client has given up
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """The receiver on 127.0.0.1 (a free port); send deliveries to ``.url``."""
    state = WebhookReceiver()
    with loopback(_handler(state)) as base:
        state.url = f"{base}/hooks/narrator"
        try:
            yield state
        finally:
            state.release.set()  # let a stalled answer finish before the server closes

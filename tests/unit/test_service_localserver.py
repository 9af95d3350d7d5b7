"""The local server closes a response whose client hung up mid-body.

Werkzeug skips closing the response when reading the dropped socket fails after a write
failed; which of the two a reset surfaces in depends on timing, so the handler's part is
tested directly and the server's wiring with a real connection.
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterable, Iterator
from typing import Any

from service import localserver
from tests.fakes.loopback import serving


class _Body:
    def __init__(self) -> None:
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        yield b"audio"

    def close(self) -> None:
        self.closed.set()


def _app(bodies: list[_Body]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "audio/mpeg")])
        body = _Body()
        bodies.append(body)
        return body

    return app


def test_a_dropped_connection_closes_the_response_it_was_sending() -> None:
    bodies: list[_Body] = []
    environ: dict[str, Any] = {}
    localserver._remembering(_app(bodies))(environ, lambda status, headers: None)
    handler = object.__new__(localserver._ClosingRequestHandler)
    handler.connection_dropped(ConnectionResetError(), environ)
    assert bodies[0].closed.is_set()


def test_the_server_answers_through_the_closing_handler() -> None:
    bodies: list[_Body] = []
    server = localserver.local_server("127.0.0.1", 0, _app(bodies))
    assert server.RequestHandlerClass is localserver._ClosingRequestHandler
    with serving(server) as url, urllib.request.urlopen(url, timeout=5) as answer:
        assert answer.read() == b"audio"
    assert bodies[0].closed.wait(5)

"""The local server (waitress) serves the app and closes a response whose client hung up."""

from __future__ import annotations

import socket
import threading
import urllib.request
from collections.abc import Iterable, Iterator
from typing import Any

from service import localserver
from tests.fakes.loopback import serving


class _Body:
    """An endless body, like a long audio file being sent to a slow client."""

    def __init__(self) -> None:
        self.closed = threading.Event()
        self.started = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        self.started.set()
        while not self.closed.is_set():
            yield b"\0" * 65536

    def close(self) -> None:
        self.closed.set()


def _app(bodies: list[_Body], *, endless: bool) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "audio/mpeg")])
        if not endless:
            return [b"audio"]
        body = _Body()
        bodies.append(body)
        return body

    return app


def test_the_server_answers_and_stops() -> None:
    server = localserver.local_server("127.0.0.1", 0, _app([], endless=False))
    with serving(server) as url, urllib.request.urlopen(url, timeout=5) as answer:  # type: ignore[arg-type]
        assert answer.read() == b"audio"
        assert answer.headers["Server"] == "narrator"


def test_a_dropped_connection_closes_the_response_it_was_sending() -> None:
    bodies: list[_Body] = []
    server = localserver.local_server("127.0.0.1", 0, _app(bodies, endless=True))
    with serving(server) as url:  # type: ignore[arg-type]
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(b"GET /a.mp3 HTTP/1.1\r\nHost: x\r\n\r\n")
            assert client.recv(4096).startswith(b"HTTP/1.1 200")
        # the client is gone mid-body: the server must close the body it was sending
        assert bodies[0].closed.wait(10)

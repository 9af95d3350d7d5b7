"""Serve a local HTTP stand-in on 127.0.0.1 for the length of a ``with`` block."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def serving(server: socketserver.TCPServer) -> Iterator[str]:
    """Run ``server`` (already bound to a loopback port) in a daemon thread; yield its base URL.

    The server is always shut down and its socket closed, so a failing test leaves no port open.
    """
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def loopback(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free 127.0.0.1 port, a thread per request; yield the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # A handler still stuck in a request must not keep the test process alive.
    server.daemon_threads = True
    with serving(server) as url:
        yield url

"""The HTTP server ``narrator serve`` (and the tests) run the app on: waitress.

Waitress is a production WSGI server with a fixed pool of threads; it closes a response when
its client hangs up mid-body (browsers abort audio range requests all the time), so an open
audio file never waits for the garbage collector. This module gives it the small
``serve_forever`` / ``shutdown`` / ``server_close`` surface the callers use.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING

import waitress
from waitress.server import BaseWSGIServer

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

THREADS = 8
"""Requests served at once; audio is sent by nginx in production, so a few threads suffice."""


class LocalServer:
    """A waitress server bound to ``host:port``; not yet serving."""

    def __init__(self, host: str, port: int, app: WSGIApplication, threads: int) -> None:
        server = waitress.create_server(
            app, host=host, port=port, threads=threads, ident="narrator", channel_timeout=30
        )
        assert isinstance(server, BaseWSGIServer)  # one address: never a MultiSocketServer
        self._server = server
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self.server_address: tuple[str, int] = (host, int(server.effective_port))

    @property
    def server_port(self) -> int:
        return self.server_address[1]

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until :meth:`shutdown`."""
        del poll_interval  # waitress polls on its own timeout
        try:
            with contextlib.suppress(OSError, ValueError):  # sockets closed under the loop
                self._server.run()
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop taking requests, close every connection, finish the running requests; wait
        for :meth:`serve_forever` to return. Call it from another thread."""
        if self._stopping.is_set():
            self._stopped.wait(10)
            return
        self._stopping.set()
        # waitress has no stop call: closing every dispatcher empties its loop's map
        logging.getLogger("waitress").setLevel(logging.CRITICAL)
        server = self._server
        while server._map:
            for dispatcher in list(server._map.values()):
                with contextlib.suppress(OSError):
                    dispatcher.handle_close()
        server.task_dispatcher.shutdown()
        self._stopped.wait(10)

    def server_close(self) -> None:
        if not self._stopping.is_set():
            self._stopping.set()
            with contextlib.suppress(OSError):
                self._server.close()
            self._server.task_dispatcher.shutdown()


def local_server(
    host: str, port: int, app: WSGIApplication, *, threads: int = THREADS
) -> LocalServer:
    """A waitress server for ``app`` on ``host:port`` (0: any free port); not yet serving."""
    return LocalServer(host, port, app, threads)

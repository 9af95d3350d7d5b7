"""The threaded HTTP server ``narrator serve`` (and the tests) run the app on.

Werkzeug's server does not close a response whose client hangs up mid-body, and browsers do
that all the time with audio: they abort a range request as soon as they know enough. The
open audio file would then wait for the garbage collector. Here the response is remembered in
the WSGI environment and closed when the connection drops.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

_RESPONSE = "narrator.response"


class _ClosingRequestHandler(WSGIRequestHandler):
    def connection_dropped(
        self, error: BaseException, environ: WSGIEnvironment | None = None
    ) -> None:
        body: Any = environ.get(_RESPONSE) if environ else None
        if body is not None and hasattr(body, "close"):
            body.close()


def _remembering(app: WSGIApplication) -> WSGIApplication:
    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = app(environ, start_response)
        environ[_RESPONSE] = body
        return body

    return wsgi


def local_server(host: str, port: int, app: WSGIApplication) -> BaseWSGIServer:
    """A threaded server for ``app`` on ``host:port`` (0: any free port); not yet serving."""
    return make_server(
        host, port, _remembering(app), threaded=True, request_handler=_ClosingRequestHandler
    )

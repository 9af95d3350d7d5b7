"""A local stand-in for a publisher's CMS, for the article pull source.

``GET /api/<id>.json`` answers CMS JSON from :attr:`CmsStandIn.articles` (edit it to simulate an
edit in the CMS), ``GET /pages/<id>`` the article as a public HTML page. Misbehaviour on demand:
``/redirect-away/<id>`` redirects to another host, ``/redirect-home/<id>`` to ``/api/<id>.json``,
``/huge/<id>`` and ``/huge-chunked/<id>`` send more than any limit (with and without a length),
``/slow/<id>`` waits :attr:`CmsStandIn.slow_s` before answering, ``/drip/<id>`` sends its body
a byte every 0.1 s (each within any read time-out, the whole taking hours), ``/broken/<id>`` is
a 500.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.fakes.loopback import loopback


@dataclass
class CmsStandIn:
    url: str = ""
    articles: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    slow_s: float = 5.0


def page(article: dict[str, Any]) -> str:
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in article["body"].split("\n\n"))
    return (
        f"<!doctype html><html lang='{article.get('lang', 'en')}'><head>"
        f"<title>{html.escape(article['title'])} | The Daily Stand-in</title></head><body>"
        "<nav>Home &gt; City</nav><article>"
        f"<h1>{html.escape(article['title'])}</h1>{paragraphs}</article>"
        "<footer>Subscribe to our newsletter</footer></body></html>"
    )


def _handler(state: CmsStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            state.requests.append(self.path)
            kind, _, article_id = self.path.strip("/").partition("/")
            article_id = article_id.removesuffix(".json")
            article = state.articles.get(article_id)
            if kind == "redirect-away":
                host = f"http://localhost:{self.server.server_address[1]}"
                self._send(302, b"", "text/plain", Location=f"{host}/api/{article_id}.json")
            elif kind == "redirect-home":
                self._send(302, b"", "text/plain", Location=f"/api/{article_id}.json")
            elif kind == "huge":
                self._send(200, b"x" * 300_000, "text/plain")
            elif kind == "huge-chunked":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                piece = b"y" * 65_536
                for _ in range(5):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            elif kind == "slow":
                time.sleep(state.slow_s)
                self._send(200, b"{}", "application/json")
            elif kind == "drip":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                try:
                    for _ in range(100_000):
                        self.wfile.write(b"z")
                        self.wfile.flush()
                        time.sleep(0.1)
                except OSError:  # the client gave up, as it should
                    pass
            elif kind == "broken":
                self._send(500, b"<h1>Internal Server Error</h1>", "text/html")
            elif article is None:
                self._send(404, b"<h1>Not Found</h1>", "text/html")
            elif kind == "api":
                self._send(200, json.dumps(article).encode(), "application/json; charset=utf-8")
            elif kind == "pages":
                self._send(200, page(article).encode(), "text/html; charset=utf-8")
            else:
                self._send(404, b"<h1>Not Found</h1>", "text/html")

    return Handler


@pytest.fixture
def cms_server() -> Iterator[CmsStandIn]:
    """The CMS stand-in on 127.0.0.1 (a free port)."""
    state = CmsStandIn()
    with loopback(_handler(state)) as url:
        state.url = url
        yield state

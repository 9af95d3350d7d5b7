"""A local stand-in for Google Translate's speech endpoint, as gTTS calls it.

It answers ``POST /_/TranslateWebserverUi/data/batchexecute`` with the form field ``f.req``
exactly as Google does: a ``)]}'`` preamble, then length-prefixed lines, the one carrying
``jQ1olc`` holding the base64 of an MP3 (24 kHz mono MPEG-2 layer III, 32 kbps -- here spoken by
eSpeak NG, so the audio is real speech of the requested text).

Modes: ``normal``; ``latency`` (every answer waits ``latency`` seconds, plus
``latency_per_char`` seconds for each character spoken, as Google's answer time grows with the
text); ``429``, ``5xx`` and ``403`` (every request fails with that status: rate limited, down,
refusing); :meth:`GttsStandIn.fail_next` to fail only the next *n* requests, and
:meth:`GttsStandIn.fail_for` to fail every request for a while (a 429 storm). It counts requests
(and failed ones) and records each text it spoke, with the time of each request.

Run it as a process for benchmarks and fault drills::

    python -m tests.fakes.gtts_server --port 8765 --latency 0.2 --latency-per-char 0.001
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler

import pytest

from narration.audio import Pcm, encode_mp3, find_ffmpeg
from narration.engines.espeak import EspeakEngine
from tests.fakes.loopback import loopback

PATH = "/_/TranslateWebserverUi/data/batchexecute"


@lru_cache(maxsize=512)
def speech_mp3(text: str, lang: str) -> bytes:
    """``text`` spoken by eSpeak NG, encoded as Google encodes its answers."""
    ffmpeg = find_ffmpeg()
    engine = EspeakEngine(ffmpeg=ffmpeg)
    try:
        voice = engine.resolve_voice(None, lang)
    except Exception:
        voice = engine.resolve_voice(None, "en")
    pcm = engine.synthesize(text, voice=voice, lang=lang, speed=1.0)
    return encode_mp3(ffmpeg, Pcm(pcm.samples, pcm.rate), 32, rate=24_000)


def answer_body(mp3: bytes) -> str:
    """Google's batchexecute answer framing around one MP3."""
    audio = base64.b64encode(mp3).decode("ascii")
    compact = {"separators": (",", ":")}
    payload = json.dumps(
        [
            ["wrb.fr", "jQ1olc", json.dumps([audio]), None, None, None, "generic"],
            ["di", 58],
            ["af.httprm", 57, "-7405617898767935960", 9],
        ],
        **compact,  # type: ignore[arg-type]
    )
    end = json.dumps([["e", 4, None, None, len(payload) + 36]], **compact)  # type: ignore[arg-type]
    return f")]}}'\n\n{len(payload)}\n{payload}\n{len(end)}\n{end}\n"


@dataclass
class GttsStandIn:
    url: str = ""
    mode: str = "normal"
    latency: float = 0.0
    latency_per_char: float = 0.0
    retry_after: str | None = None
    """Sent as ``Retry-After`` with every 429."""
    requests: int = 0
    failed: int = 0
    texts: list[str] = field(default_factory=list)
    request_times: list[float] = field(default_factory=list)
    """``time.monotonic()`` of every request, answered or failed, in arrival order."""
    _fail: list[int] = field(default_factory=list)
    _fail_until: float = 0.0
    _fail_status: int = 429
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, status: int, count: int = 1) -> None:
        """Answer the next ``count`` requests with HTTP ``status``, then answer normally."""
        with self._lock:
            self._fail.extend([status] * count)

    def fail_for(self, seconds: float, status: int = 429) -> None:
        """Answer every request with HTTP ``status`` for ``seconds`` from now, then normally."""
        with self._lock:
            self._fail_until = time.monotonic() + seconds
            self._fail_status = status

    def reset_counts(self) -> None:
        with self._lock:
            self.requests = 0
            self.failed = 0
            self.texts.clear()
            self.request_times.clear()

    def _next_failure(self) -> int | None:
        with self._lock:
            now = time.monotonic()
            self.requests += 1
            self.request_times.append(now)
            failure: int | None = None
            if self._fail:
                failure = self._fail.pop(0)
            elif now < self._fail_until:
                failure = self._fail_status
            elif self.mode == "429":
                failure = 429
            elif self.mode == "5xx":
                failure = 503
            elif self.mode == "403":
                failure = 403
            if failure is not None:
                self.failed += 1
            return failure


def _handler(state: GttsStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            if self.path.split("?")[0] != PATH:
                self._send(404, b"Not Found", "text/plain")
                return
            failure = state._next_failure()
            if failure is not None:
                if state.latency:
                    time.sleep(state.latency)
                self.send_response(failure)
                if failure == 429 and state.retry_after:
                    self.send_header("Retry-After", state.retry_after)
                body = b"<html>Error</html>"
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            try:
                rpc = json.loads(form["f.req"][0])
                rpc_id, params = rpc[0][0][0], json.loads(rpc[0][0][1])
                text, lang = str(params[0]), str(params[1])
            except (KeyError, IndexError, ValueError):
                self._send(400, b"Bad Request", "text/plain")
                return
            if rpc_id != "jQ1olc" or not text.strip():
                self._send(400, b"Bad Request", "text/plain")
                return
            wait = state.latency + state.latency_per_char * len(text)
            if wait:
                time.sleep(wait)
            with state._lock:
                state.texts.append(text)
            body = answer_body(speech_mp3(text, lang)).encode()
            self._send(200, body, "application/json; charset=utf-8")

    return Handler


@pytest.fixture
def gtts_server() -> Iterator[GttsStandIn]:
    """The stand-in on 127.0.0.1 (a free port); point ``NARRATOR_GTTS_ENDPOINT`` at ``.url``."""
    state = GttsStandIn()
    with loopback(_handler(state)) as url:
        state.url = url
        yield state


def main(argv: list[str] | None = None) -> None:
    """Serve the stand-in as a process until interrupted (benchmarks, fault drills)."""
    import argparse
    from http.server import ThreadingHTTPServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--latency-per-char", type=float, default=0.0, help="seconds per char")
    parser.add_argument("--mode", default="normal", choices=["normal", "429", "5xx", "403"])
    args = parser.parse_args(argv)
    state = GttsStandIn(
        mode=args.mode, latency=args.latency, latency_per_char=args.latency_per_char
    )
    server = ThreadingHTTPServer(("127.0.0.1", args.port), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    print(state.url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

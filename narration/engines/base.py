"""The one small interface every speech engine sits behind, and how failures are told apart.

An engine turns one piece of text into PCM. Everything else -- chunking, caching, retrying,
rate limiting, falling back -- lives outside the engines so each engine stays a thin adapter.
Failures are raised as :class:`~narration.errors.TransientEngineError` (worth retrying: 429,
5xx, time-outs, dropped connections), :class:`~narration.errors.EngineUnreachable` (the host
cannot be reached at all) or :class:`~narration.errors.PermanentEngineError` (will not get
better: bad language or voice, other 4xx, a missing model).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import requests
import urllib3

from narration.audio import Pcm
from narration.errors import (
    EngineUnreachable,
    PermanentEngineError,
    TransientEngineError,
)
from narration.ratelimit import RateLimiter


@runtime_checkable
class Engine(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def max_chars(self) -> int:
        """Longest chunk of text this engine is given at once (characters)."""
        ...

    @property
    def remote(self) -> bool:
        """Whether it calls a remote service (rate-limited, worth a thread pool)."""
        ...

    def version(self) -> str:
        """Changes whenever the same text could come out sounding different (package version,
        library version, model file hash); part of every chunk key."""
        ...

    def resolve_voice(self, voice: str | None, lang: str) -> str:
        """The concrete voice for ``lang`` (``voice`` when given); raises
        PermanentEngineError if the engine cannot speak ``lang``."""
        ...

    def resolve_lang(self, lang: str) -> str:
        """The language the engine actually speaks for ``lang``, as the engine names it (gTTS
        speaks ``en`` for ``en-US``); part of every chunk key, so one audio has one key."""
        ...

    def synthesize(
        self,
        text: str,
        *,
        voice: str,
        lang: str,
        speed: float,
        limiter: RateLimiter | None = None,
    ) -> Pcm:
        """Speak ``text``; hold a ``limiter.slot()`` around every remote request."""
        ...


def http_error(
    engine: str, status: int, reason: str = "", retry_after: str | None = None
) -> TransientEngineError | PermanentEngineError:
    """Map an HTTP status from an engine's service to a transient or permanent error. A
    transient one carries ``retry_after`` (seconds) when the server said how long to wait."""
    text = f"{engine}: HTTP {status}{(' ' + reason) if reason else ''}"
    if status == 429 or status >= 500 or status in (408, 425):
        kind = "rate limited" if status == 429 else "server error"
        error = TransientEngineError(f"{text} ({kind}; retry later)")
        error.retry_after = _seconds(retry_after)  # type: ignore[attr-defined]
        return error
    if status == 403:
        return PermanentEngineError(f"{text} (refused: the upstream API may have changed)")
    return PermanentEngineError(f"{text} (request rejected)")


def _seconds(retry_after: str | None) -> float | None:
    """``Retry-After`` in its seconds form (the HTTP-date form is not worth parsing here)."""
    try:
        return max(0.0, float(retry_after)) if retry_after else None
    except ValueError:
        return None


def request_error(engine: str, url: str, exc: requests.RequestException) -> TransientEngineError:
    """Map a failed request (no HTTP answer) to EngineUnreachable or a transient error.

    Unreachable means no connection could be made (refused, no route, no DNS, connect
    time-out). A connection the host accepted and then dropped (a reset, a closed keep-alive
    connection) is the host being there and busy: retried, never a reason to fall back."""
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.Timeout):
        cause = exc.args[0] if exc.args else None
        cause = getattr(cause, "reason", None) or cause
        if isinstance(cause, urllib3.exceptions.ProtocolError):
            return TransientEngineError(f"{engine}: {url} dropped the connection")
    if isinstance(exc, requests.ConnectTimeout | requests.ConnectionError):
        return EngineUnreachable(f"{engine}: cannot reach {url}: {type(exc).__name__}")
    if isinstance(exc, requests.Timeout):
        return TransientEngineError(f"{engine}: no answer from {url} in time")
    return TransientEngineError(f"{engine}: request to {url} failed: {type(exc).__name__}")

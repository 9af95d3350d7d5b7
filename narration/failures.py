"""Why a narration failed: a stable category for programs and plain words for a newsroom.

Every failure recorded in the catalog goes through :func:`classify`, so what a publisher reads
says what happened and what to do about it, and never shows a task ID, an exception class or a
path on the server. The full exception goes to the worker's log, under the narration's ID.

Categories (``error_category`` in the status JSON):

``tts_refused``        the speech service refused the request (HTTP 403): retrying will not help
``tts_rejected``       the speech service cannot speak this text, language or voice
``tts_rate_limited``   the speech service kept rate-limiting (HTTP 429) beyond the waiting budget
``tts_unavailable``    the speech service could not be reached, or kept failing
``store_full``         no space left in the audio store
``store_unwritable``   the audio store cannot be written (read-only, no permission)
``article_unreadable`` the article cannot be narrated (empty, undecodable, too long)
``timed_out``          a step ran over its time limit
``internal``           anything else: a fault of ours, logged in full
"""

from __future__ import annotations

import errno
import re
from dataclasses import dataclass
from enum import StrEnum

from narration.errors import (
    EngineError,
    EngineUnreachable,
    NarrationError,
    PermanentEngineError,
    TransientEngineError,
    UnreadableArticle,
)


class Category(StrEnum):
    TTS_REFUSED = "tts_refused"
    TTS_REJECTED = "tts_rejected"
    TTS_RATE_LIMITED = "tts_rate_limited"
    TTS_UNAVAILABLE = "tts_unavailable"
    STORE_FULL = "store_full"
    STORE_UNWRITABLE = "store_unwritable"
    ARTICLE_UNREADABLE = "article_unreadable"
    TIMED_OUT = "timed_out"
    INTERNAL = "internal"


@dataclass(frozen=True)
class Failure:
    category: Category
    message: str


class RateLimitedTooLong(TransientEngineError):
    """A chunk waited out rate limits for longer than ``NARRATOR_TTS_RATE_LIMITED_FOR_S``."""


STORE_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
STORE_UNWRITABLE_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}

_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
_PATH = re.compile(r"(?<![\w.])/(?:[\w.@+-]+/)*[\w.@+-]+")
_UUID = re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b", re.I)
_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")


def plain(text: str, limit: int = 300) -> str:
    """``text`` without URLs, server paths or UUIDs, on one line, at most ``limit`` chars."""
    text = _URL.sub("the service", text)
    text = _PATH.sub("a file", text)
    text = _UUID.sub("", text)
    text = " ".join(text.split())
    return text[:limit]


def http_status(exc: BaseException) -> int | None:
    """The HTTP status an engine error reports, if any."""
    status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status
    match = _HTTP_STATUS.search(str(exc))
    return int(match.group(1)) if match else None


def is_rate_limited(exc: BaseException) -> bool:
    return isinstance(exc, TransientEngineError) and http_status(exc) == 429


def classify(exc: BaseException) -> Failure:
    """The category and plain-words message for ``exc`` (already unwrapped from Celery)."""
    if isinstance(exc, RateLimitedTooLong) or is_rate_limited(exc):
        return Failure(
            Category.TTS_RATE_LIMITED,
            "The speech service kept limiting our requests (HTTP 429) for too long. "
            "Ask again later, or raise the speech quota.",
        )
    if isinstance(exc, PermanentEngineError):
        if http_status(exc) == 403:
            return Failure(
                Category.TTS_REFUSED,
                "The speech service refused to speak this narration (HTTP 403). Retrying will "
                "not help until the service accepts our requests again.",
            )
        return Failure(
            Category.TTS_REJECTED,
            f"The speech engine cannot speak this narration: {plain(str(exc))}",
        )
    if isinstance(exc, EngineUnreachable | TransientEngineError | EngineError):
        return Failure(
            Category.TTS_UNAVAILABLE,
            "The speech service could not be reached or kept failing. Ask again later.",
        )
    if isinstance(exc, UnreadableArticle):
        return Failure(
            Category.ARTICLE_UNREADABLE, f"The article cannot be narrated: {plain(str(exc))}"
        )
    text = str(exc)
    if (isinstance(exc, OSError) and exc.errno in STORE_FULL_ERRNOS) or (
        "No space left on device" in text or "Disk quota exceeded" in text
    ):
        return Failure(
            Category.STORE_FULL,
            "The audio store is full. Free some space, then ask for the narration again.",
        )
    if (isinstance(exc, OSError) and exc.errno in STORE_UNWRITABLE_ERRNOS) or (
        "Read-only file system" in text
    ):
        return Failure(
            Category.STORE_UNWRITABLE,
            "The audio store cannot be written (read-only or not permitted). Fix its "
            "permissions, then ask for the narration again.",
        )
    if type(exc).__name__ in ("SoftTimeLimitExceeded", "TimeLimitExceeded", "TimeoutError"):
        return Failure(
            Category.TIMED_OUT, "The narration took too long and was stopped. Ask again later."
        )
    if isinstance(exc, NarrationError):
        return Failure(Category.INTERNAL, plain(str(exc)))
    return Failure(
        Category.INTERNAL,
        "An internal error stopped this narration; it is in the service's log under this "
        "narration's ID. Ask again, and report it if it happens again.",
    )


def store_failure(free_bytes: int | None, *, minimum: int = 16 * 1024 * 1024) -> Failure | None:
    """``store_full`` when the store has under ``minimum`` bytes free: a full disk shows up in
    many guises (an empty file from a tool that could not write, a refused empty chunk)."""
    if free_bytes is not None and free_bytes < minimum:
        return classify(OSError(errno.ENOSPC, "No space left on device"))
    return None

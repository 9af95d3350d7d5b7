"""Retrying transient failures: exponential backoff with full jitter.

Full jitter (a random wait between zero and the exponential cap) keeps many workers that failed
together from retrying together and tripping the same rate limit again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from narration.errors import TransientEngineError

T = TypeVar("T")

BASE_DELAY = 0.5
MAX_DELAY = 20.0
MAX_RETRY_AFTER = 60.0
"""Longest server-requested wait honoured in-process; longer ones are for the task queue."""


def backoff_delay(attempt: int, base: float = BASE_DELAY, cap: float = MAX_DELAY) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based)."""
    return random.uniform(0.0, min(cap, base * 2 ** (attempt - 1)))


def call_with_retries(
    fn: Callable[[], T],
    *,
    retries: int,
    retry_if: Callable[[TransientEngineError], bool] = lambda exc: True,
    sleep: Callable[[float], None] = time.sleep,
    base: float = BASE_DELAY,
) -> T:
    """Call ``fn``; on a TransientEngineError that ``retry_if`` accepts, wait and call again,
    at most ``retries`` more times; then re-raise the last error. Other errors pass through.
    The wait is the jittered backoff, or the server's ``retry_after`` when that is longer."""
    attempt = 0
    while True:
        try:
            return fn()
        except TransientEngineError as exc:
            attempt += 1
            if attempt > retries or not retry_if(exc):
                raise
            asked = getattr(exc, "retry_after", None) or 0.0
            if asked > MAX_RETRY_AFTER:
                raise
            sleep(max(backoff_delay(attempt, base), asked))

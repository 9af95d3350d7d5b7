"""One engine request rate for every worker: a GCRA token bucket kept in Redis.

``rate_limit`` in Celery is per worker process; the gTTS quota is per machine (per IP), so the
limit lives in Redis and every process asks it before each request. The decision is one Lua
script (atomic, using Redis's clock, so workers' clocks need not agree).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol, runtime_checkable

_GCRA = """
local key = KEYS[1]
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', key) or now)
if tat < now then tat = now end
local wait = tat - burst - now
if wait > 0 then return tostring(wait) end
local new_tat = tat + interval
redis.call('SET', key, tostring(new_tat), 'PX', math.ceil(new_tat - now) + 1000)
return '0'
"""


@runtime_checkable
class RateLimiter(Protocol):
    def acquire(self) -> None:
        """Block until one more request may be sent."""
        ...


class RedisRateLimiter:
    """At most ``rate_per_sec`` acquisitions per second across every process sharing
    ``client`` and ``key``, with bursts of up to ``burst`` requests."""

    def __init__(
        self,
        client: Any,
        rate_per_sec: float,
        key: str = "narrator:tts",
        *,
        burst: int = 1,
        sleep: Any = time.sleep,
    ) -> None:
        if rate_per_sec <= 0:
            raise ValueError("rate_per_sec must be positive")
        self.key = key
        self.interval_ms = 1000.0 / rate_per_sec
        self.burst_ms = self.interval_ms * max(burst - 1, 0)
        self._script = client.register_script(_GCRA)
        self._sleep = sleep

    def try_acquire(self) -> float:
        """Take a token if one is free (return 0.0), else return the seconds to wait."""
        wait_ms = float(self._script(keys=[self.key], args=[self.interval_ms, self.burst_ms]))
        return max(wait_ms, 0.0) / 1000.0

    def acquire(self) -> None:
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return
            self._sleep(wait)


class LocalRateLimiter:
    """The same limit within one process (``narrator narrate`` needs no Redis)."""

    def __init__(self, rate_per_sec: float) -> None:
        if rate_per_sec <= 0:
            raise ValueError("rate_per_sec must be positive")
        self.interval = 1.0 / rate_per_sec
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)

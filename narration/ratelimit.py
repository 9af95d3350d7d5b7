"""How many engine requests may be in flight at once, adapted to what the provider allows.

The limit is a number of concurrent requests (slots), shared by every worker process through
Redis, kept between a floor and a ceiling and adapted like TCP's congestion window:

- each answered request raises it by ``1 / limit`` (one more slot per round of answers);
- a 429, a 5xx or a time-out halves it (at most once per :data:`DECREASE_COOLDOWN_S`, so one
  burst of refusals counts once, not once per refused request);
- a ``Retry-After`` closes the gate for every worker until that moment;
- any other failure (an unreachable host, a permanent refusal) leaves the limit as it is.

A slot is a lease with an expiry (a member of a Redis sorted set scored by its deadline), so a
worker killed mid-request frees its slots when the lease runs out instead of holding them
forever. Every decision is one Lua script, atomic and timed by Redis's clock, so workers' clocks
need not agree. With no Redis (``narrator narrate``) :class:`LocalRequestLimiter` applies the
same rules within the process.

A limit nobody has touched for :data:`IDLE_FORGET_S` is forgotten and starts again at the
ceiling: what the provider refused an hour ago says little about now.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

from narration.errors import EngineUnreachable, TransientEngineError

DECREASE_FACTOR = 0.5
DECREASE_COOLDOWN_S = 1.0
IDLE_FORGET_S = 600
POLL_S = (0.005, 0.025)
"""A waiting worker asks again after a random pause in this range (seconds)..."""
MAX_POLL_FACTOR = 8
"""...growing to at most this many times it while it keeps finding every slot in use."""


@runtime_checkable
class RequestLimiter(Protocol):
    def slot(self) -> contextlib.AbstractContextManager[None]:
        """Hold one request slot for the ``with`` block. An exception leaving the block is the
        outcome: a :class:`~narration.errors.TransientEngineError` (not
        :class:`~narration.errors.EngineUnreachable`) means the provider pushed back; none
        means it answered."""
        ...


RateLimiter = RequestLimiter
"""The name engines have always taken their limiter by."""


def _outcome(exc: BaseException | None) -> tuple[str, float]:
    """How a request ended, for the limit: ``answered`` (grow), ``pushback`` (429, 5xx,
    time-out: shrink) or ``other`` (unreachable, refused for good, cancelled: no news about
    the provider's load), and the seconds it asked us to wait."""
    if exc is None:
        return "answered", 0.0
    if isinstance(exc, TransientEngineError) and not isinstance(exc, EngineUnreachable):
        return "pushback", float(getattr(exc, "retry_after", None) or 0.0)
    return "other", 0.0


_ACQUIRE = """
local leases, limit_key, closed_key = KEYS[1], KEYS[2], KEYS[3]
local token, lease_ms, floor, ceiling, idle_ms =
  ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
local closed = tonumber(redis.call('GET', closed_key) or 0)
if closed > now then return closed - now end
local limit = tonumber(redis.call('GET', limit_key) or ceiling)
if limit < floor then limit = floor end
if limit > ceiling then limit = ceiling end
if redis.call('ZCARD', leases) >= math.floor(limit) then return -1 end
redis.call('ZADD', leases, now + lease_ms, token)
redis.call('PEXPIRE', leases, lease_ms + idle_ms)
return 0
"""

_RELEASE = """
local leases, limit_key, closed_key, decreased_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local token, outcome, retry_ms, floor, ceiling, factor, cooldown_ms, idle_ms =
  ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]),
  tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', leases, token)
local limit = tonumber(redis.call('GET', limit_key) or ceiling)
if outcome == 'pushback' then
  local last = tonumber(redis.call('GET', decreased_key) or 0)
  if now - last >= cooldown_ms then
    limit = limit * factor
    redis.call('SET', decreased_key, now, 'PX', cooldown_ms + 1000)
  end
  if retry_ms > 0 then
    local closed = tonumber(redis.call('GET', closed_key) or 0)
    if now + retry_ms > closed then
      redis.call('SET', closed_key, now + retry_ms, 'PX', retry_ms + 1000)
    end
  end
elseif outcome == 'answered' then
  limit = limit + 1 / limit
end
if limit < floor then limit = floor end
if limit > ceiling then limit = ceiling end
redis.call('SET', limit_key, tostring(limit), 'PX', idle_ms)
return tostring(limit)
"""


class RedisRequestLimiter:
    """The adaptive limit shared by every process whose ``client`` reaches the same Redis."""

    def __init__(
        self,
        client: Any,
        *,
        ceiling: int,
        floor: int = 1,
        key: str = "narrator:tts",
        lease_s: float = 60.0,
        sleep: Any = time.sleep,
    ) -> None:
        if not 1 <= floor <= ceiling:
            raise ValueError("need 1 <= floor <= ceiling")
        self.ceiling, self.floor = ceiling, floor
        self.keys = [f"{key}:{name}" for name in ("leases", "limit", "closed", "decreased")]
        self.lease_ms = int(lease_s * 1000)
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)
        self._client = client
        self._sleep = sleep

    def _attempt(self, token: str) -> int:
        """0: the slot is taken; -1: all are in use; else the gate's remaining closed ms."""
        return int(
            self._acquire(
                keys=self.keys[:3],
                args=[token, self.lease_ms, self.floor, self.ceiling, IDLE_FORGET_S * 1000],
            )
        )

    def try_acquire(self, token: str) -> float:
        """Take a slot under ``token`` if one is free (0.0), else the seconds to wait before
        asking again: the gate's remaining closed time, or a short poll when all are taken."""
        wait_ms = self._attempt(token)
        if wait_ms == 0:
            return 0.0
        if wait_ms < 0:
            return random.uniform(*POLL_S)
        return wait_ms / 1000.0

    def release(self, token: str, exc: BaseException | None = None) -> float:
        """Give the slot back, adapting the limit to the outcome; return the new limit."""
        outcome, retry_after = _outcome(exc)
        args: list[Any] = [token, outcome, int(retry_after * 1000), self.floor]
        args += [self.ceiling, DECREASE_FACTOR, int(DECREASE_COOLDOWN_S * 1000)]
        args += [IDLE_FORGET_S * 1000]
        return float(self._release(keys=self.keys, args=args))

    def limit(self) -> float:
        value = self._client.get(self.keys[1])
        return float(value) if value is not None else float(self.ceiling)

    def in_flight(self) -> int:
        now_ms = int(time.time() * 1000)
        return int(self._client.zcount(self.keys[0], now_ms, "+inf"))

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        token = uuid.uuid4().hex
        polls = 0
        while True:
            wait_ms = self._attempt(token)
            if wait_ms == 0:
                break
            if wait_ms > 0:  # the gate is closed: wait it out, then ask again
                self._sleep(wait_ms / 1000.0 + random.uniform(*POLL_S))
                continue
            # All slots in use: ask again soon, then less and less often, so hundreds of
            # waiting threads do not flood Redis while the provider holds the limit low.
            polls += 1
            self._sleep(random.uniform(*POLL_S) * min(2 ** (polls - 1), MAX_POLL_FACTOR))
        try:
            yield
        except BaseException as exc:
            self.release(token, exc)
            raise
        self.release(token)


class LocalRequestLimiter:
    """The same adaptive limit within one process (``narrator narrate`` needs no Redis)."""

    def __init__(self, *, ceiling: int, floor: int = 1) -> None:
        if not 1 <= floor <= ceiling:
            raise ValueError("need 1 <= floor <= ceiling")
        self.ceiling, self.floor = ceiling, floor
        self._limit = float(ceiling)
        self._in_flight = 0
        self._closed_until = 0.0
        self._decreased_at = -DECREASE_COOLDOWN_S
        self._cond = threading.Condition()

    def limit(self) -> float:
        with self._cond:
            return self._limit

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        with self._cond:
            while True:
                now = time.monotonic()
                if now < self._closed_until:
                    self._cond.wait(self._closed_until - now)
                elif self._in_flight >= int(self._limit):
                    self._cond.wait()
                else:
                    break
            self._in_flight += 1
        outcome: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            outcome = exc
            raise
        finally:
            self._release(outcome)

    def _release(self, exc: BaseException | None) -> None:
        outcome, retry_after = _outcome(exc)
        with self._cond:
            self._in_flight -= 1
            now = time.monotonic()
            if outcome == "pushback":
                if now - self._decreased_at >= DECREASE_COOLDOWN_S:
                    self._limit *= DECREASE_FACTOR
                    self._decreased_at = now
                self._closed_until = max(self._closed_until, now + retry_after)
            elif outcome == "answered":
                self._limit += 1.0 / self._limit
            self._limit = min(float(self.ceiling), max(float(self.floor), self._limit))
            self._cond.notify_all()


def shared_limiter(settings: Any) -> RedisRequestLimiter:
    """The limiter every worker of ``settings``'s Redis shares, one per process and settings."""
    from narration.redisconn import redis_url

    return _shared(
        redis_url(settings),
        int(settings.tts_concurrency_max),
        int(settings.tts_concurrency_min),
        float(settings.gtts_timeout),
    )


_shared_lock = threading.Lock()
_shared_cache: dict[tuple[str, int, int, float], RedisRequestLimiter] = {}


def _shared(url: str, ceiling: int, floor: int, timeout: float) -> RedisRequestLimiter:
    from narration.redisconn import client_for

    key = (url, ceiling, floor, timeout)
    with _shared_lock:
        if key not in _shared_cache:
            # A lease outlives the longest request (connect + read time-outs) with room to
            # spare; only a dead worker's slot ever reaches its expiry.
            _shared_cache[key] = RedisRequestLimiter(
                client_for(url), ceiling=ceiling, floor=floor, lease_s=2 * timeout + 10
            )
        return _shared_cache[key]

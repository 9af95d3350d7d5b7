from __future__ import annotations

import uuid

import pytest
import redis

from narration.ratelimit import RedisRateLimiter

pytestmark = pytest.mark.integration


def _client(url: str) -> redis.Redis:
    if url.startswith("redis+socket://"):
        return redis.Redis(unix_socket_path=url.removeprefix("redis+socket://"))
    return redis.Redis.from_url(url)


def test_one_budget_shared_by_every_limiter(redis_url: str) -> None:
    key = f"narrator:test:{uuid.uuid4().hex}"
    a = RedisRateLimiter(_client(redis_url), 2.0, key)
    b = RedisRateLimiter(_client(redis_url), 2.0, key)  # another process, as far as Redis knows
    assert a.try_acquire() == 0.0
    wait = b.try_acquire()
    assert 0.3 < wait <= 0.5  # 2 per second: the next slot is half a second after the first


def test_burst_allows_that_many_at_once(redis_url: str) -> None:
    key = f"narrator:test:{uuid.uuid4().hex}"
    limiter = RedisRateLimiter(_client(redis_url), 1.0, key, burst=3)
    assert [limiter.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.try_acquire() > 0.5


def test_acquire_waits_for_the_slot_it_was_told(redis_url: str) -> None:
    key = f"narrator:test:{uuid.uuid4().hex}"
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        _client(redis_url).delete(key)  # time passes: the bucket refills

    limiter = RedisRateLimiter(_client(redis_url), 5.0, key, sleep=sleep)
    limiter.acquire()
    limiter.acquire()
    assert len(slept) == 1 and 0.1 < slept[0] <= 0.2

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


_CHILD = """
import sys, time, redis
from narration.ratelimit import RedisRateLimiter
url, key, rate, count, start_at = sys.argv[1:6]
if url.startswith("redis+socket://"):
    client = redis.Redis(unix_socket_path=url.removeprefix("redis+socket://"))
else:
    client = redis.Redis.from_url(url)
limiter = RedisRateLimiter(client, float(rate), key)
time.sleep(max(0.0, float(start_at) - time.time()))  # all start together: a barrier
first = time.time()
for _ in range(int(count)):
    limiter.acquire()
print(first, time.time())
"""


def test_processes_share_one_rate(redis_url: str) -> None:
    """Three worker processes taking ten requests each at 50 per second, all starting at
    once: the thirty grants cannot fit in less than twenty-nine intervals, whoever takes them.
    Limits kept per process would let each process through in nine."""
    import subprocess
    import sys
    import time

    key = f"narrator:test:{uuid.uuid4().hex}"
    rate, count, processes = 50.0, 10, 3
    start_at = time.time() + 2.0  # after every child has started and imported
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, redis_url, key, str(rate), str(count), str(start_at)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    outputs = [child.communicate(timeout=60)[0] for child in children]
    assert [child.returncode for child in children] == [0] * processes
    spans = [tuple(map(float, out.split())) for out in outputs]
    # Each child notes the time before its first request and after its last grant, so the
    # span below can only overstate the time the grants took, never understate it.
    took = max(end for _, end in spans) - min(start for start, _ in spans)
    assert took >= (processes * count - 1) / rate

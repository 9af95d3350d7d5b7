"""The adaptive limit on engine requests in flight, shared through a real Redis."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest
import redis

from narration.errors import EngineUnreachable, TransientEngineError
from narration.ratelimit import DECREASE_COOLDOWN_S, RedisRequestLimiter

pytestmark = pytest.mark.integration


def _client(url: str) -> redis.Redis:
    if url.startswith("redis+socket://"):
        return redis.Redis(unix_socket_path=url.removeprefix("redis+socket://"))
    return redis.Redis.from_url(url)


def _limiter(url: str, key: str, **kwargs: object) -> RedisRequestLimiter:
    options: dict[str, object] = {"ceiling": 4, "floor": 1, "key": key}
    options.update(kwargs)
    return RedisRequestLimiter(_client(url), **options)  # type: ignore[arg-type]


def _rate_limited(retry_after: float | None = None) -> TransientEngineError:
    error = TransientEngineError("gtts: HTTP 429 (rate limited; retry later)")
    error.retry_after = retry_after  # type: ignore[attr-defined]
    return error


def test_slots_are_shared_by_every_limiter(redis_url: str) -> None:
    key = f"narrator:test:{uuid.uuid4().hex}"
    a = _limiter(redis_url, key, ceiling=2)
    b = _limiter(redis_url, key, ceiling=2)  # another process, as far as Redis knows
    assert a.try_acquire("one") == 0.0
    assert b.try_acquire("two") == 0.0
    assert 0 < b.try_acquire("three") < 0.1  # all taken: ask again shortly
    a.release("one")
    assert b.try_acquire("three") == 0.0
    assert a.in_flight() == 2


def test_a_dead_workers_slots_come_back_when_their_lease_runs_out(redis_url: str) -> None:
    key = f"narrator:test:{uuid.uuid4().hex}"
    crashed = _limiter(redis_url, key, ceiling=1, lease_s=0.3)
    alive = _limiter(redis_url, key, ceiling=1, lease_s=0.3)
    assert crashed.try_acquire("never-released") == 0.0
    assert alive.try_acquire("waiting") > 0
    deadline = time.monotonic() + 10
    while alive.try_acquire("waiting") > 0:  # awaited, not slept for a guessed time
        assert time.monotonic() < deadline, "the lease never expired"
        time.sleep(0.05)
    assert alive.in_flight() == 1


def test_pushback_halves_the_limit_once_per_burst_and_answers_grow_it(redis_url: str) -> None:
    key = f"narrator:test:{uuid.uuid4().hex}"
    limiter = _limiter(redis_url, key, ceiling=16, floor=2)
    assert limiter.limit() == 16
    for n in range(4):  # four refusals of one burst count once
        assert limiter.try_acquire(f"t{n}") == 0.0
    for n in range(4):
        limiter.release(f"t{n}", _rate_limited())
    assert limiter.limit() == 8
    limiter.release("late", EngineUnreachable("no route"))  # not the provider pushing back
    assert limiter.limit() == 8
    for _ in range(40):
        limiter.release("answered")
    assert 10 < limiter.limit() <= 16


def test_the_limit_stays_between_floor_and_ceiling(redis_url: str) -> None:
    key = f"narrator:test:{uuid.uuid4().hex}"
    limiter = _limiter(redis_url, key, ceiling=4, floor=2)
    client = _client(redis_url)
    for _ in range(3):
        client.delete(f"{key}:decreased")  # the next burst, without waiting out the cooldown
        limiter.release("x", _rate_limited())
    assert limiter.limit() == 2
    for _ in range(100):
        limiter.release("x")
    assert limiter.limit() == 4
    assert DECREASE_COOLDOWN_S > 0


def test_retry_after_closes_the_gate_for_everyone(redis_url: str) -> None:
    key = f"narrator:test:{uuid.uuid4().hex}"
    a = _limiter(redis_url, key)
    b = _limiter(redis_url, key)
    assert a.try_acquire("t") == 0.0
    a.release("t", _rate_limited(retry_after=2.0))
    wait = b.try_acquire("u")
    assert 1.5 < wait <= 2.0


_CHILD = """
import sys, time, redis
from narration.ratelimit import RedisRequestLimiter
url, key, count, start_at = sys.argv[1:5]
if url.startswith("redis+socket://"):
    client = redis.Redis(unix_socket_path=url.removeprefix("redis+socket://"))
else:
    client = redis.Redis.from_url(url)
limiter = RedisRequestLimiter(client, ceiling=3, key=key)
keep_most = client.register_script(
    "local m = tonumber(redis.call('GET', KEYS[1]) or 0) "
    "if tonumber(ARGV[1]) > m then redis.call('SET', KEYS[1], ARGV[1]) end"
)
time.sleep(max(0.0, float(start_at) - time.time()))  # all start together: a barrier
most = 0
for _ in range(int(count)):
    with limiter.slot():
        now = client.incr(key + ":now")
        keep_most(keys=[key + ":most"], args=[now])
        time.sleep(0.02)  # a request in flight
        client.decr(key + ":now")
print("ok")
"""


def test_processes_never_hold_more_slots_than_the_limit(redis_url: str) -> None:
    """Three worker processes with eight requests each, all at once: never more than three in
    flight together, whoever holds them; limits kept per process would allow nine."""
    key = f"narrator:test:{uuid.uuid4().hex}"
    start_at = time.time() + 2.0  # after every child has started and imported
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, redis_url, key, "8", str(start_at)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0, 0]
    assert outputs == ["ok\n"] * 3
    most = int(_client(redis_url).get(f"{key}:most") or 0)
    assert 1 <= most <= 3

"""The in-process request limit (``narrator narrate``): the same rules as the shared one."""

from __future__ import annotations

import threading

import pytest

from narration.errors import EngineUnreachable, TransientEngineError
from narration.ratelimit import LocalRequestLimiter


def _refused(retry_after: float | None = None) -> TransientEngineError:
    error = TransientEngineError("gtts: HTTP 429")
    error.retry_after = retry_after  # type: ignore[attr-defined]
    return error


def test_never_more_requests_in_flight_than_the_limit() -> None:
    limiter = LocalRequestLimiter(ceiling=3)
    inside = threading.Semaphore(0)
    release = threading.Event()
    state = {"now": 0, "most": 0}
    lock = threading.Lock()

    def request() -> None:
        with limiter.slot():
            with lock:
                state["now"] += 1
                state["most"] = max(state["most"], state["now"])
            inside.release()
            release.wait(30)
            with lock:
                state["now"] -= 1

    threads = [threading.Thread(target=request) for _ in range(7)]
    for t in threads:
        t.start()
    for _ in range(3):
        assert inside.acquire(timeout=30)
    assert not inside.acquire(timeout=0.2)  # the fourth waits for a slot
    release.set()
    for t in threads:
        t.join(30)
    assert state["most"] == 3 and state["now"] == 0


def test_refusals_halve_the_limit_and_answers_grow_it_back() -> None:
    limiter = LocalRequestLimiter(ceiling=16, floor=2)
    for _ in range(3):  # one burst: counted once
        with pytest.raises(TransientEngineError), limiter.slot():
            raise _refused()
    assert limiter.limit() == 8
    with pytest.raises(EngineUnreachable), limiter.slot():
        raise EngineUnreachable("no route")  # says nothing about the provider's load
    assert limiter.limit() == 8
    for _ in range(30):
        with limiter.slot():
            pass
    assert 10 < limiter.limit() <= 16

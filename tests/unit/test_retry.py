from __future__ import annotations

import pytest

from narration.errors import EngineUnreachable, PermanentEngineError, TransientEngineError
from narration.retry import backoff_delay, call_with_retries


def test_backoff_grows_exponentially_within_cap() -> None:
    for attempt in range(1, 10):
        assert (
            0.0 <= backoff_delay(attempt, base=0.5, cap=4.0) <= min(4.0, 0.5 * 2 ** (attempt - 1))
        )


def test_retries_transient_errors_then_succeeds() -> None:
    calls: list[int] = []
    waits: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise TransientEngineError("429")
        return "ok"

    assert call_with_retries(flaky, retries=5, sleep=waits.append) == "ok"
    assert len(calls) == 3 and len(waits) == 2


def test_gives_up_after_the_retries() -> None:
    waits: list[float] = []

    def always() -> None:
        raise TransientEngineError("503")

    with pytest.raises(TransientEngineError):
        call_with_retries(always, retries=2, sleep=waits.append)
    assert len(waits) == 2


def test_permanent_errors_and_refused_transients_are_not_retried() -> None:
    waits: list[float] = []

    def bad() -> None:
        raise PermanentEngineError("400")

    with pytest.raises(PermanentEngineError):
        call_with_retries(bad, retries=5, sleep=waits.append)

    def down() -> None:
        raise EngineUnreachable("no route")

    with pytest.raises(EngineUnreachable):
        call_with_retries(
            down,
            retries=5,
            sleep=waits.append,
            retry_if=lambda e: not isinstance(e, EngineUnreachable),
        )
    assert waits == []


def test_waits_at_least_as_long_as_the_server_asked() -> None:
    waits: list[float] = []
    calls: list[int] = []

    def busy() -> str:
        calls.append(1)
        if len(calls) == 1:
            error = TransientEngineError("429")
            error.retry_after = 3.0  # type: ignore[attr-defined]
            raise error
        return "ok"

    assert call_with_retries(busy, retries=2, sleep=waits.append, base=0.1) == "ok"
    assert waits == [3.0]


def test_a_wait_too_long_for_in_process_retries_is_raised() -> None:
    waits: list[float] = []

    def closed() -> None:
        error = TransientEngineError("429")
        error.retry_after = 3600.0  # type: ignore[attr-defined]
        raise error

    with pytest.raises(TransientEngineError):
        call_with_retries(closed, retries=5, sleep=waits.append)
    assert waits == []

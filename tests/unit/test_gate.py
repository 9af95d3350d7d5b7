from __future__ import annotations

import threading
import time

import pytest

from narration.gate import PriorityGate


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


def test_the_most_urgent_waiter_goes_first_then_in_order_of_arrival() -> None:
    gate = PriorityGate(1)
    entered: list[str] = []
    release = threading.Event()

    def holder() -> None:
        with gate.hold(9):
            entered.append("holder")
            release.wait(10)

    def waiter(name: str, priority: int) -> None:
        with gate.hold(priority):
            entered.append(name)

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    wait_for(lambda: entered == ["holder"], "the holder to enter")
    for n, (name, priority) in enumerate(
        [("backfill-1", 9), ("backfill-2", 9), ("normal", 3), ("breaking", 0)]
    ):
        thread = threading.Thread(target=waiter, args=(name, priority))
        thread.start()
        threads.append(thread)
        wait_for(lambda n=n: gate.waiting() == n + 1, f"{name} to queue")
    release.set()
    for thread in threads:
        thread.join(10)
    assert entered == ["holder", "breaking", "normal", "backfill-1", "backfill-2"]


def test_never_more_inside_than_its_slots() -> None:
    gate = PriorityGate(2)
    inside = 0
    most = 0
    lock = threading.Lock()

    def work(priority: int) -> None:
        nonlocal inside, most
        with gate.hold(priority):
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.002)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=work, args=(i % 3,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert most == 2 and inside == 0 and gate.waiting() == 0


def test_a_gate_needs_a_slot() -> None:
    with pytest.raises(ValueError):
        PriorityGate(0)


def test_within_a_priority_first_chunks_go_before_later_ones() -> None:
    gate = PriorityGate(1)
    entered: list[str] = []
    release = threading.Event()

    def holder() -> None:
        with gate.hold(3):
            entered.append("holder")
            release.wait(10)

    def waiter(name: str, rank: int) -> None:
        with gate.hold(3, rank=rank):
            entered.append(name)

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    wait_for(lambda: entered == ["holder"], "the holder to enter")
    for n, (name, rank) in enumerate([("a-chunk-5", 1), ("a-chunk-6", 1), ("b-chunk-0", 0)]):
        thread = threading.Thread(target=waiter, args=(name, rank))
        thread.start()
        threads.append(thread)
        wait_for(lambda n=n: gate.waiting() == n + 1, f"{name} to queue")
    release.set()
    for thread in threads:
        thread.join(10)
    assert entered == ["holder", "b-chunk-0", "a-chunk-5", "a-chunk-6"]

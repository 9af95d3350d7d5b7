"""A priority gate: at most ``slots`` threads inside at once, waiters let in most urgent first.

A worker runs several synthesis tasks at once in threads, which suits network engines. An
offline engine is different: eSpeak NG holds one process-wide lock (the library keeps global
state) and Piper wants the CPU, so the threads queue for it, and a lock lets them in in no
particular order. Behind an archive backfill, a breaking-news chunk that Redis handed over
first would still wait behind every backfill chunk already queued in the process. Through the
gate it waits for the chunks being spoken at most; and a narration's first chunk (its stream
starts with it) goes before other narrations' later chunks of the same priority.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class PriorityGate:
    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("a gate needs at least one slot")
        self.slots = slots
        self._inside = 0
        self._queue: list[tuple[int, int, int]] = []
        self._arrivals = itertools.count()
        self._changed = threading.Condition()

    @contextmanager
    def hold(self, priority: int, rank: int = 0) -> Iterator[None]:
        """Wait for a slot; ``priority`` as Celery's on Redis: 0 is the most urgent. Within a
        priority, a lower ``rank`` goes first (a narration's first chunk, which a listener
        waits for, before others' later chunks), then the order of arrival."""
        ticket = (priority, rank, next(self._arrivals))
        with self._changed:
            heapq.heappush(self._queue, ticket)
            while self._inside >= self.slots or self._queue[0] != ticket:
                self._changed.wait()
            heapq.heappop(self._queue)
            self._inside += 1
            self._changed.notify_all()  # the next in line may fit in another free slot
        try:
            yield
        finally:
            with self._changed:
                self._inside -= 1
                self._changed.notify_all()

    def waiting(self) -> int:
        with self._changed:
            return len(self._queue)

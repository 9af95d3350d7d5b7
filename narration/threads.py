"""Process-wide thread pools for the requests a chunk sends at once.

A chunk's sentences go to a remote engine together, and gTTS splits each sentence into
requests of 100 characters that go out together too. A pool made for each chunk starts its
threads anew every time, and in a worker whose other threads are decoding and measuring audio
each start waits for the interpreter lock (up to its 5 ms switch interval): the seed's 73
requests spent a third of a second starting threads. These pools keep their threads. One pool
per kind of work, so that work waiting on another kind never waits on its own pool: a sentence
(``parts``) waits on its requests (``requests``), which wait on nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Kind = Literal["parts", "requests"]
POOL_THREADS = 256
"""Threads a pool may grow to: above the ceiling on requests in flight, so the shared limit,
not the pool, decides how many go out. Idle threads cost a little memory, nothing else."""

_pools: dict[Kind, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def pool(kind: Kind) -> ThreadPoolExecutor:
    with _lock:
        found = _pools.get(kind)
        if found is None:
            found = _pools[kind] = ThreadPoolExecutor(POOL_THREADS, thread_name_prefix=kind)
        return found


def map_together(kind: Kind, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[fn(item) for item in items]``, run at once on the ``kind`` pool, in order; the first
    exception is raised once every call has ended."""
    futures = [pool(kind).submit(fn, item) for item in items]
    errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error
    return [f.result() for f in futures]


def _forget_pools() -> None:
    # A forked child has none of its parent's threads: it starts pools of its own.
    global _lock
    _lock = threading.Lock()
    _pools.clear()


os.register_at_fork(after_in_child=_forget_pools)

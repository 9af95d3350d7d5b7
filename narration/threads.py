"""Process-wide thread pools for the requests a chunk sends at once.

A chunk's sentences go to a remote engine together, and gTTS splits each sentence into
requests of 100 characters that go out together too. A pool made for each chunk starts its
threads anew every time, and in a worker whose other threads are decoding and measuring audio
each start waits for the interpreter lock (up to its 5 ms switch interval): the seed's 73
requests spent a third of a second starting threads. These pools keep their threads. One pool
per kind of work, so that work waiting on another kind never waits on its own pool: a sentence
(``parts``) waits on its requests (``requests``), which wait on nothing.

A third pool, ``background``, runs work nobody is waiting for (an archive backfill) at a lower
CPU priority: its threads lower their own scheduling priority once, when they start (on Linux
a thread's nice value is its own, and the threads and processes it starts -- an ffmpeg encode --
inherit it). On a machine busy with a backfill, the API answering a request and a breaking
story's chunks then get the cores first. Threads of the other pools keep the process's priority
even when work in the background started them.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Kind = Literal["parts", "requests", "background"]
POOL_THREADS = 256
"""Threads a pool may grow to: above the ceiling on requests in flight, so the shared limit,
not the pool, decides how many go out. Idle threads cost a little memory, nothing else."""
BACKGROUND_NICE = 10
"""How much lower than the process's the ``background`` pool's priority is (nice steps): at 10
the kernel gives a busy background thread about a tenth of the CPU a foreground one gets."""

_pools: dict[Kind, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def pool(kind: Kind) -> ThreadPoolExecutor:
    with _lock:
        found = _pools.get(kind)
        if found is None:
            nice = BACKGROUND_NICE if kind == "background" else 0
            found = _pools[kind] = ThreadPoolExecutor(
                POOL_THREADS, thread_name_prefix=kind, initializer=_set_nice, initargs=(nice,)
            )
        return found


def _process_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, os.getpid())  # the main thread's


def _set_nice(steps: int) -> None:
    """Give the calling thread the process's priority lowered by ``steps`` (Linux: per thread;
    elsewhere the call would change the whole process, so it is left alone)."""
    if not sys.platform.startswith("linux"):
        return
    # Raising a priority back needs privilege: without it, a pool thread started by background
    # work stays at the background's priority, which costs speed, never correctness.
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), min(19, _process_nice() + steps))


def thread_nice() -> int:
    """The calling thread's nice value (what a process it starts inherits)."""
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def in_background(fn: Callable[[], R]) -> R:
    """``fn()`` run on the ``background`` pool, at its lower CPU priority; waits for it."""
    return pool("background").submit(contextvars.copy_context().run, fn).result()


def map_together(kind: Kind, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[fn(item) for item in items]``, run at once on the ``kind`` pool, in order; the first
    exception is raised once every call has ended."""
    # Each call runs in a copy of the caller's context: log lines keep the chunk they are for.
    futures = [pool(kind).submit(contextvars.copy_context().run, fn, item) for item in items]
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

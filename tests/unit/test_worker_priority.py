"""Synthesis tasks of offline engines go through a per-process priority gate (see
``narration.gate``), entered at the Redis priority the task was sent with; a backfill's work
runs at a lower CPU priority."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from narration.threads import BACKGROUND_NICE, in_background, pool, thread_nice
from workers.celery_app import PRIORITY
from workers.tasks import OFFLINE_SLOTS, _offline_gate, _priority_of, _run_at, synthesize

linux = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="thread priorities are per thread on Linux only"
)


def test_offline_engines_share_one_gate_per_engine_and_network_engines_are_not_held() -> None:
    espeak = _offline_gate("espeak")
    assert espeak is _offline_gate("espeak") and espeak.slots == OFFLINE_SLOTS
    assert _offline_gate("piper") is not espeak
    assert _offline_gate("gtts").slots > 1000


def test_a_task_enters_at_the_priority_it_was_sent_with() -> None:
    for sent, expected in ((0, 0), (9, 9), (None, PRIORITY["normal"])):
        synthesize.push_request(delivery_info={"priority": sent})
        try:
            assert _priority_of(synthesize) == expected
        finally:
            synthesize.pop_request()


@linux
def test_a_backfill_task_works_at_a_lower_cpu_priority_and_others_at_the_process_s() -> None:
    process = os.getpriority(os.PRIO_PROCESS, os.getpid())
    seen: dict[int, tuple[int, int]] = {}

    def work(sent: int) -> None:
        # What the work runs at, and what a process it starts (an ffmpeg encode) runs at.
        child = subprocess.run(
            [sys.executable, "-c", "import os; print(os.nice(0))"],
            capture_output=True,
            text=True,
            check=True,
        )
        seen[sent] = (thread_nice(), int(child.stdout))

    for sent in (PRIORITY["low"], PRIORITY["normal"], PRIORITY["high"]):
        synthesize.push_request(delivery_info={"priority": sent})
        try:
            _run_at(synthesize, lambda sent=sent: work(sent))  # type: ignore[misc]
        finally:
            synthesize.pop_request()
    background = min(19, process + BACKGROUND_NICE)
    assert seen[PRIORITY["low"]] == (background, background)
    assert seen[PRIORITY["normal"]] == (process, process)
    assert seen[PRIORITY["high"]] == (process, process)


@linux
def test_pool_threads_started_by_background_work_keep_the_process_s_priority() -> None:
    process = os.getpriority(os.PRIO_PROCESS, os.getpid())
    # A pool's threads start on demand, from whichever thread submits: here a background one.
    found = in_background(lambda: pool("requests").submit(thread_nice).result())
    if os.geteuid() == 0:
        assert found == process
    else:  # raising a priority back needs privilege; the thread stays lower, never higher
        assert process <= found <= process + BACKGROUND_NICE

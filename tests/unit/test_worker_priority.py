"""Synthesis tasks of offline engines go through a per-process priority gate (see
``narration.gate``), entered at the Redis priority the task was sent with."""

from __future__ import annotations

from workers.celery_app import PRIORITY
from workers.tasks import OFFLINE_SLOTS, _offline_gate, _priority_of, synthesize


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

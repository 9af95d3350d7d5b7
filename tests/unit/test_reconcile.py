"""The reconciler against a real catalog (SQLite) and audio store, with a queue that records
what it is asked to send (the Celery queue itself is drilled in tests/integration/test_faults)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from narration.article import Article
from narration.catalog import narrations, session_scope, upgrade_to_head
from narration.catalog.models import NarrationState
from narration.jobs import Requested, request_narration
from narration.queue import Sent
from narration.reconcile import recover, sweep
from narration.settings import Settings
from narration.store import AudioStore

TEXT = (
    "Harbour bridge reopens\n\n"
    "The harbour bridge reopened to traffic on Monday morning after eight months of repairs.\n\n"
    "Engineers replaced the worn cables and repainted the steel towers in their original grey.\n"
)


@dataclass
class RecordingQueue:
    sends: list[tuple[str, list[int], int]] = field(default_factory=list)
    records: dict[str, Sent] = field(default_factory=dict)

    def send(
        self, narration_id: str, narration_key: str, missing: Sequence[int], attempt: int,
        priority: str,
    ) -> None:  # fmt: skip
        self.sends.append((narration_id, list(missing), attempt))
        self.records[narration_id] = Sent(attempt, len(missing) or 1)

    def sent(self, narration_ids: Sequence[str]) -> dict[str, Sent]:
        return {i: self.records[i] for i in narration_ids if i in self.records}


@pytest.fixture
def store(settings: Settings) -> AudioStore:
    upgrade_to_head(settings.catalog_url)
    return AudioStore(settings.audio_cache_dir)


def requested(settings: Settings, store: AudioStore) -> Requested:
    return request_narration(settings, store, Article(form="text", body_text=TEXT), source="t")


LATER = datetime.now(UTC) + timedelta(hours=1)


def test_a_job_never_sent_is_sent_once_it_is_overdue(settings: Settings, store: AudioStore) -> None:
    job = requested(settings, store)
    queue = RecordingQueue()
    assert sweep(settings, store, queue) == []  # not due yet
    assert sweep(settings, store, queue, now=LATER) == [job.narration.id]
    assert queue.sends == [(job.narration.id, job.missing, 2)]
    assert sweep(settings, store, queue, now=LATER) == []  # due again only later
    assert recover(settings, store, queue, job.narration.id, now=LATER) is False


def test_a_job_waiting_its_turn_is_left_alone(settings: Settings, store: AudioStore) -> None:
    job = requested(settings, store)
    queue = RecordingQueue(records={job.narration.id: Sent(1, len(job.missing))})
    assert sweep(settings, store, queue, now=LATER) == []
    assert queue.sends == []
    with session_scope(settings.catalog_url) as session:
        row = narrations.get(session, job.narration.id)
        assert row is not None and row.due_at is not None  # looked at again later


def test_a_stalled_stitch_is_resent_in_the_same_attempt(
    settings: Settings, store: AudioStore
) -> None:
    from narration.synthesis import synthesize_chunk

    job = requested(settings, store)
    for index in job.missing:
        synthesize_chunk(job.plan, index, store, settings)
    with session_scope(settings.catalog_url) as session:
        narrations.mark_running(session, job.narration.id)
    queue = RecordingQueue(records={job.narration.id: Sent(1, 0)})  # every chunk taken up
    assert recover(settings, store, queue, job.narration.id, now=LATER) is True
    assert queue.sends == [(job.narration.id, [], 1)]


def test_a_narration_whose_plan_is_gone_fails_with_a_reason(
    settings: Settings, store: AudioStore
) -> None:
    job = requested(settings, store)
    store.plan_path(job.narration.narration_key).unlink()
    assert sweep(settings, store, RecordingQueue(), now=LATER) == []
    with session_scope(settings.catalog_url) as session:
        row = narrations.get(session, job.narration.id)
        assert row is not None and row.state == NarrationState.FAILED
        assert row.error_category == "internal" and "ask for it again" in (row.error or "")

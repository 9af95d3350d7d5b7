"""The workers' sweeper: one sweep per interval across the fleet, under a Redis lock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from narration.article import Article
from narration.catalog import upgrade_to_head
from narration.catalog.db import dispose_all
from narration.jobs import request_narration
from narration.queue import Sent
from narration.settings import Settings
from narration.store import AudioStore
from workers.celery_app import QUEUE, create_celery
from workers.dispatch import SENT_KEY, CeleryJobQueue, note_started
from workers.lifecycle import Sweeper

pytestmark = pytest.mark.integration


@pytest.fixture
def sweep_settings(leased_redis_db: str, tmp_path: Path) -> Iterator[Settings]:
    settings = Settings(
        redis_url=leased_redis_db,
        audio_cache_dir=tmp_path / "audio",
        engine="espeak",
        stall_after_s=0.001,  # everything unsent is overdue at once
        reconcile_interval_s=60,
        scratch_dir=tmp_path / "scratch",
    )
    upgrade_to_head(settings.catalog_url)
    yield settings
    dispose_all()


@pytest.fixture
def celery(sweep_settings: Settings) -> Iterator[Celery]:
    app = create_celery(sweep_settings)
    yield app
    app.close()


def orphan(settings: Settings, title: str) -> str:
    """A narration row whose job was never sent (the API died in between)."""
    article = Article(form="text", body_text=f"{title}\n\nThe harbour bridge reopened today.\n")
    store = AudioStore(settings.audio_cache_dir)
    return request_narration(settings, store, article, source="test").narration.id


def test_one_worker_sweeps_per_interval(sweep_settings: Settings, celery: Celery) -> None:
    first, second = Sweeper(celery), Sweeper(celery)
    lost = orphan(sweep_settings, "Bridge reopens")
    assert first.once() == [lost]
    assert CeleryJobQueue(celery).sent([lost])[lost].attempt == 2
    also_lost = orphan(sweep_settings, "Ferry resumes")
    assert second.once() == []  # the first holds the lock for this interval
    assert CeleryJobQueue(celery).sent([also_lost]) == {}


def test_the_send_record_counts_tasks_that_start_before_it_is_written(celery: Celery) -> None:
    # A fast worker may take up a message before the sender has written its record: those
    # starts must still count, or the job looks as if it waits its turn for ever.
    queue = CeleryJobQueue(celery)
    client = queue.redis_client
    client.rpush(f"{QUEUE}:3", *["a message"] * 3)  # the job's messages, waiting in the queue
    note_started(client, "early", 1)
    note_started(client, "early", 1)
    assert queue.sent(["early"]) == {}  # not sent yet, as far as the record knows
    client.hset(f"{SENT_KEY}early", mapping={"attempt": 1, "sent:1": 3})  # as send() writes it
    assert queue.sent(["early"])["early"] == Sent(1, 1)
    note_started(client, "early", 1)
    note_started(client, "early", 1)  # a message delivered twice errs towards looking sooner
    assert queue.sent(["early"])["early"] == Sent(1, 0)
    note_started(client, "early", 0)  # a task of an older attempt counts nothing of the new
    client.hset(f"{SENT_KEY}early", mapping={"attempt": 2, "sent:2": 2})
    assert queue.sent(["early"])["early"] == Sent(2, 2)
    assert client.ttl(f"{SENT_KEY}early") > 0


def test_a_start_the_record_missed_does_not_hold_the_job_once_the_queue_is_empty(
    celery: Celery,
) -> None:
    # Redis went away as a task began: its start was never counted, and the record shows one
    # message waiting when none is. The queue's lists say how many can be waiting at most.
    queue = CeleryJobQueue(celery)
    client = queue.redis_client
    client.hset(f"{SENT_KEY}lost", mapping={"attempt": 1, "sent:1": 3})
    note_started(client, "lost", 1)
    assert queue.sent(["lost"])["lost"] == Sent(1, 0)  # nothing in the queue: nothing waits
    client.rpush(f"{QUEUE}:9", "another narration's message")
    assert queue.sent(["lost"])["lost"] == Sent(1, 1)  # at most as many as the queue holds
    client.rpush(QUEUE, "a breaking story's message", "and another")
    assert queue.sent(["lost"])["lost"] == Sent(1, 2)


def test_the_sweeper_sends_again_a_job_whose_record_lost_a_start(
    sweep_settings: Settings, celery: Celery
) -> None:
    queue = CeleryJobQueue(celery)
    lost = orphan(sweep_settings, "Bridge reopens")
    # As if sent with one chunk whose start Redis never recorded, its message long taken up.
    queue.redis_client.hset(f"{SENT_KEY}{lost}", mapping={"attempt": 1, "sent:1": 1})
    assert Sweeper(celery).once() == [lost]
    assert queue.sent([lost])[lost].attempt == 2

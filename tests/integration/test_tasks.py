"""The tasks called directly, as a redelivered message would run them: each finds its work
done and changes nothing the second time."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from narration.article import Article
from narration.catalog import narrations, session_scope
from narration.catalog.db import dispose_all
from narration.catalog.models import NarrationState
from narration.errors import PermanentEngineError
from narration.jobs import Requested, request_narration
from narration.settings import Settings
from narration.store import AudioStore
from tests.fakes.gtts_server import GttsStandIn
from tests.integration.worker_process import await_condition
from workers import tasks
from workers.celery_app import create_celery

pytestmark = pytest.mark.integration

TEXT = (
    "Harbour bridge reopens\n\n"
    "The harbour bridge reopened to traffic on Monday morning after eight months of repairs.\n\n"
    "Engineers replaced the worn cables and repainted the steel towers in their original grey.\n"
)


@pytest.fixture
def task_settings(service_settings: Settings) -> Iterator[Settings]:
    """Tasks take their settings from their app: one built from the test's settings."""
    celery = create_celery(service_settings)
    yield service_settings
    celery.close()
    dispose_all()


def requested(settings: Settings) -> Requested:
    from narration.catalog import upgrade_to_head

    upgrade_to_head(settings.catalog_url)
    article = Article(form="text", body_text=TEXT)
    return request_narration(settings, AudioStore(settings.audio_cache_dir), article, source="test")


def test_every_task_delivered_twice_does_its_work_once(
    task_settings: Settings, gtts_server: GttsStandIn
) -> None:
    job = requested(task_settings)
    row, key = job.narration, job.narration.narration_key
    assert job.start and job.missing == list(range(len(job.plan.chunks)))

    for index in job.missing:
        assert tasks.synthesize(row.id, key, index) == index
    engine_calls = gtts_server.requests
    for index in job.missing:
        tasks.synthesize(row.id, key, index)
    assert gtts_server.requests == engine_calls

    first = tasks.stitch(row.id, key)
    assert first is not None
    assert tasks.publish(first, row.id) == first["audio_key"]
    assert tasks.stitch(row.id, key) == first  # already ready: the stored result
    assert tasks.publish(first, row.id) == first["audio_key"]
    tasks.fail(None, RuntimeError("late failure"), None, row.id)

    with session_scope(task_settings.catalog_url) as session:
        done = narrations.get(session, row.id)
        assert done is not None
        assert done.state == NarrationState.READY and done.error is None
        assert done.engine == "gtts"
        assert done.chunks_done == done.chunks_total == len(job.missing)


def test_a_failed_narration_stops_its_remaining_chunks(
    task_settings: Settings, gtts_server: GttsStandIn
) -> None:
    job = requested(task_settings)
    row = job.narration
    tasks.fail(None, PermanentEngineError("gtts answered HTTP 403"), None, row.id)
    assert tasks.synthesize(row.id, row.narration_key, 0) == 0
    assert gtts_server.requests == 0
    assert tasks.stitch(row.id, row.narration_key) is None
    assert tasks.publish(None, row.id) is None
    with session_scope(task_settings.catalog_url) as session:
        failed = narrations.get(session, row.id)
        assert failed is not None and failed.error_category == "tts_refused"


def test_a_late_failure_of_an_earlier_attempt_leaves_the_new_attempt_alone(
    task_settings: Settings, gtts_server: GttsStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, str]] = []  # the webhooks a publisher would get, with the row's state
    monkeypatch.setattr(
        tasks, "_notify", lambda settings, row, event: sent.append((event, row.state.value))
    )
    first = requested(task_settings)
    row, key = first.narration, first.narration.narration_key
    assert first.start and row.attempts == 1
    tasks.fail(None, PermanentEngineError("gtts answered HTTP 403"), None, row.id, attempt=1)

    second = requested(task_settings)  # asked again after the failure: attempt 2
    assert second.start and second.narration.attempts == 2
    # Attempt 1's other chunks, still queued or retrying, report late: all of it is ignored.
    tasks.fail(None, PermanentEngineError("chunk 1: HTTP 403"), None, row.id, attempt=1)
    assert tasks.synthesize(row.id, key, 0, attempt=1) == 0
    assert gtts_server.requests == 0
    assert tasks.stitch(row.id, key, attempt=1) is None
    with session_scope(task_settings.catalog_url) as session:
        queued = narrations.get(session, row.id)
        assert queued is not None
        assert queued.state == NarrationState.QUEUED and queued.error is None

    for index in second.missing:
        tasks.synthesize(row.id, key, index, attempt=2)
    stitched = tasks.stitch(row.id, key, attempt=2)
    assert stitched is not None
    assert tasks.publish(stitched, row.id, attempt=2) == stitched["audio_key"]
    assert sent == [("narration.failed", "failed"), ("narration.ready", "ready")]


def test_a_failure_is_recorded_in_plain_words_with_its_category(
    task_settings: Settings, gtts_server: GttsStandIn
) -> None:
    """As the stitch's error callback hears of a refused chunk: through a ChordError."""
    from celery.exceptions import ChordError

    row = requested(task_settings).narration
    chord_error = ChordError(
        "Dependency 364864c5-8c1e-4d0e-9d4b-0d6f0f7c2a11 raised PermanentEngineError("
        "'gtts: HTTP 403 Forbidden (refused: the upstream API may have changed)')"
    )
    tasks.fail(None, chord_error, None, row.id, attempt=row.attempts)
    with session_scope(task_settings.catalog_url) as session:
        failed = narrations.get(session, row.id)
        assert failed is not None and failed.state == NarrationState.FAILED
        assert failed.error_category == "tts_refused"
        assert failed.error is not None and "HTTP 403" in failed.error
        assert "364864c5" not in failed.error and "Error" not in failed.error
        status = narrations.status(failed)
        assert status["error_category"] == "tts_refused" and status["error"] == failed.error


def test_a_lost_redis_connection_fails_nothing(
    task_settings: Settings, gtts_server: GttsStandIn
) -> None:
    import redis

    row = requested(task_settings).narration
    tasks.fail(None, redis.ConnectionError("Connection refused"), None, row.id, attempt=1)
    with session_scope(task_settings.catalog_url) as session:
        kept = narrations.get(session, row.id)
        assert kept is not None and kept.state == NarrationState.QUEUED


def test_auto_engine_reports_the_offline_fallback_that_spoke(service_settings: Settings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    offline = service_settings.model_copy(update={"engine": "auto", "gtts_endpoint": closed})
    celery = create_celery(offline)
    try:
        job = requested(offline)
        row = job.narration
        for index in job.missing:
            tasks.synthesize(row.id, row.narration_key, index)
        tasks.publish(tasks.stitch(row.id, row.narration_key), row.id)
        with session_scope(offline.catalog_url) as session:
            done = narrations.get(session, row.id)
            assert done is not None and done.state == NarrationState.READY
            assert done.engine == "espeak"
    finally:
        celery.close()
        dispose_all()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("catalog_backend", ["postgresql"], indirect=True)
def test_a_catalog_outage_delays_a_task_instead_of_losing_it(
    service_settings: Settings, worker: None, postgres_server_url: str
) -> None:
    import sqlalchemy as sa

    row = requested(service_settings).narration
    database = sa.engine.make_url(service_settings.catalog_url).database
    admin = sa.create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    celery = create_celery(service_settings, sender_only=True)

    def allow_connections(allow: bool) -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {allow}'))
            if not allow:  # and drop the worker's pooled connections
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": database},
                )

    try:
        allow_connections(False)
        dispose_all()
        result = celery.send_task("narration.synthesize", args=(row.id, row.narration_key, 0))
        state = await_condition(
            lambda: result.state if result.state in ("RETRY", "FAILURE") else None,
            timeout=60,
            what="the task to meet the outage",
        )
        assert state == "RETRY", result.result
        allow_connections(True)
        await_condition(
            lambda: result.state == "SUCCESS", timeout=120, what="the task to run after it"
        )
        with session_scope(service_settings.catalog_url) as session:
            done = narrations.get(session, row.id)
            assert done is not None and done.chunks_done >= 1
    finally:
        allow_connections(True)
        celery.close()
        admin.dispose()
        dispose_all()

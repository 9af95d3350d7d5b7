"""The catalog on SQLite and PostgreSQL: schema, one row per narration key, state moves."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from narration.article import Article as ParsedArticle
from narration.catalog import articles, narrations
from narration.catalog.db import dispose_all, engine_for, session_scope
from narration.catalog.migrations import upgrade_to_head
from narration.catalog.models import Base, NarrationState

pytestmark = pytest.mark.integration


@pytest.fixture
def catalog(database_url: str):
    upgrade_to_head(database_url)
    yield database_url
    dispose_all()


def spec(key: str = "k1", **kw) -> narrations.NarrationSpec:
    values = {
        "narration_key": key,
        "engine": "espeak",
        "voice": None,
        "lang": "en",
        "chunks_total": 3,
        "chunks_cached": 1,
    }
    values.update(kw)
    return narrations.NarrationSpec(**values)


def put_article(url: str, article_id: str = "a1", body: bytes = b"<p>x</p>") -> None:
    with session_scope(url) as s:
        articles.upsert_article(
            s,
            article_id,
            ParsedArticle(form="html", title="T", body_html=body.decode()),
            body=body,
            content_type="text/html",
            source="pushed",
        )


def test_migration_matches_models(catalog: str) -> None:
    upgrade_to_head(catalog)  # a second run is a no-op
    with engine_for(catalog).connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_upsert_article_reports_content_changes(catalog: str) -> None:
    with session_scope(catalog) as s:
        parsed = ParsedArticle(form="html", title="First", body_html="<p>a</p>")
        _, changed = articles.upsert_article(
            s, "a1", parsed, body=b"<p>a</p>", content_type="text/html", source="pushed"
        )
        assert changed
    with session_scope(catalog) as s:
        _, changed = articles.upsert_article(
            s, "a1", parsed, body=b"<p>a</p>", content_type="text/html", source="pushed"
        )
        assert not changed
        row, changed = articles.upsert_article(
            s, "a1", parsed, body=b"<p>b</p>", content_type="text/html", source="pulled"
        )
        assert changed and row.source == "pulled" and row.title == "First"


def test_concurrent_requests_for_one_key_create_one_row(catalog: str) -> None:
    def ask(_: int) -> tuple[str, bool]:
        with session_scope(catalog) as s:
            row, start = narrations.create_or_get(s, spec("same"))
            return row.id, start

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(ask, range(20)))
    assert len({nid for nid, _ in results}) == 1
    assert sum(start for _, start in results) == 1


def test_chunk_progress_counts_each_chunk_once(catalog: str) -> None:
    with session_scope(catalog) as s:
        row, _ = narrations.create_or_get(s, spec())
    with session_scope(catalog) as s:
        assert narrations.mark_running(s, row.id)
        assert not narrations.mark_running(s, row.id)
        assert narrations.chunk_done(s, row.id, 1, synth_ms=120)
        assert not narrations.chunk_done(s, row.id, 1, synth_ms=120)
    with session_scope(catalog) as s:
        got = narrations.get(s, row.id)
        assert got is not None
        assert (got.state, got.chunks_done, got.chunks_total) == (NarrationState.RUNNING, 2, 3)


def test_new_version_becomes_current_only_when_ready(catalog: str) -> None:
    put_article(catalog)
    with session_scope(catalog) as s:
        v1, _ = narrations.create_or_get(s, spec("v1", article_id="a1"))
        narrations.point_article(s, "a1", v1)
    with session_scope(catalog) as s:
        assert narrations.current_audio(s, "a1") is None
        assert narrations.mark_ready(s, v1.id, audio_key="v1", duration_ms=1000, size_bytes=10)
        assert not narrations.mark_ready(s, v1.id, audio_key="v1", duration_ms=1, size_bytes=1)
    with session_scope(catalog) as s:
        v2, start = narrations.create_or_get(s, spec("v2", article_id="a1"))
        assert start and v2.version == 2
        narrations.point_article(s, "a1", v2)
    with session_scope(catalog) as s:
        current = narrations.current_audio(s, "a1")
        latest = narrations.latest_for_article(s, "a1")
        assert current is not None and current.id == v1.id
        assert latest is not None and latest.id == v2.id
        assert narrations.mark_ready(s, v2.id, audio_key="v2", duration_ms=900, size_bytes=9)
    with session_scope(catalog) as s:
        current = narrations.current_audio(s, "a1")
        assert current is not None and current.audio_key == "v2"
        assert narrations.status(current, base_url="http://x")["audio_url"] == (
            "http://x/audio/v2.mp3"
        )


def test_failed_narration_asked_again_restarts_once(catalog: str) -> None:
    with session_scope(catalog) as s:
        row, _ = narrations.create_or_get(s, spec())
    with session_scope(catalog) as s:
        assert narrations.mark_failed(s, row.id, "engine said no")
        assert not narrations.mark_failed(s, row.id, "again")
    with session_scope(catalog) as s:
        again, start = narrations.create_or_get(s, spec())
        assert start and again.id == row.id
        assert again.state == NarrationState.QUEUED and again.attempts == 2
        assert again.error is None
    with session_scope(catalog) as s:
        _, start = narrations.create_or_get(s, spec())
        assert not start
        assert narrations.get(s, row.id).state == NarrationState.QUEUED  # type: ignore[union-attr]


def test_an_earlier_attempt_neither_fails_nor_publishes_the_attempt_that_replaced_it(
    catalog: str,
) -> None:
    with session_scope(catalog) as s:
        row, _ = narrations.create_or_get(s, spec())
    with session_scope(catalog) as s:
        assert narrations.mark_failed(s, row.id, "engine said no", attempt=1)
    with session_scope(catalog) as s:
        again, start = narrations.create_or_get(s, spec())
        assert start and again.attempts == 2
    with session_scope(catalog) as s:
        assert not narrations.mark_failed(s, row.id, "late failure of attempt 1", attempt=1)
        assert not narrations.mark_ready(
            s, row.id, audio_key="old", duration_ms=1, size_bytes=1, attempt=1
        )
    with session_scope(catalog) as s:
        current = narrations.get(s, row.id)
        assert current is not None and current.state == NarrationState.QUEUED
        assert current.error is None and current.audio_key is None
        assert not narrations.is_stale(current, 2) and narrations.is_stale(current, 1)
        assert narrations.mark_ready(
            s, row.id, audio_key="new", duration_ms=1, size_bytes=1, attempt=2
        )


def test_a_resent_lost_job_is_a_new_attempt(catalog: str) -> None:
    from datetime import UTC, datetime, timedelta

    with session_scope(catalog) as s:
        row, _ = narrations.create_or_get(s, spec())
    later = datetime.now(UTC) + timedelta(seconds=1)
    due = later + timedelta(minutes=2)
    with session_scope(catalog) as s:
        assert narrations.claim_resend(s, row.id, seen_attempt=1, now=later, due_at=due)
        # One caller wins: the row is no longer overdue, nor at the attempt the other saw.
        assert not narrations.claim_resend(s, row.id, seen_attempt=1, now=later, due_at=due)
    with session_scope(catalog) as s:
        assert not narrations.mark_failed(s, row.id, "the lost job failed after all", attempt=1)
        assert narrations.mark_failed(s, row.id, "the new job failed", attempt=2)
        failed = narrations.get(s, row.id)
        assert failed is not None and failed.error == "the new job failed"


def test_concurrent_puts_of_a_new_article_make_one_row(catalog: str) -> None:
    def put(n: int) -> bool:
        body = f"<p>version {n}</p>".encode()
        with session_scope(catalog) as s:
            _, changed = articles.upsert_article(
                s,
                "new",
                ParsedArticle(form="html", title=f"T{n}", body_html=body.decode()),
                body=body,
                content_type="text/html",
                source="pushed",
            )
            return changed

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(put, range(8)))
    assert all(results)
    with session_scope(catalog) as s:
        assert len(articles.list_articles(s)) == 1

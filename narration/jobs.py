"""Asking for a narration: plan it, look up the cache, meet on one catalog row, send its job.

Pure orchestration shared by the API and the CLI. The job goes through a
:class:`~narration.queue.JobQueue` (``workers`` implements it on Celery); only the caller that
won the row sends it (:attr:`Requested.start`). Anyone asking again for an unfinished narration
whose work was lost sends the missing part again (:func:`narration.reconcile.recover`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from narration.article import Article
from narration.catalog import articles, narrations, session_scope
from narration.catalog.models import Narration
from narration.queue import JobQueue
from narration.settings import Settings
from narration.sources import ArticleNotFound, pull_article
from narration.vocabulary import PRIORITIES, Priority

if TYPE_CHECKING:
    from narration.plan import NarrationPlan
    from narration.store import AudioStore

__all__ = ["PRIORITIES", "Priority", "Requested", "request_narration"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Requested:
    narration: Narration
    start: bool
    """True for exactly one of any number of concurrent callers: it must start the job."""
    missing: list[int]
    """Chunk indexes not in the cache when planned: one synthesis task each."""
    plan: NarrationPlan


def request_narration(
    settings: Settings,
    store: AudioStore,
    article: Article,
    *,
    source: str,
    article_id: str | None = None,
    engine: str | None = None,
    voice: str | None = None,
    lang: str | None = None,
    priority: Priority = "normal",
    callback_url: str | None = None,
) -> Requested:
    """Script and plan ``article``, save the plan for the workers, and get its catalog row."""
    from narration.plan import plan_narration
    from narration.scripting import build_script

    script = build_script(article, source=source, settings=settings)
    plan = plan_narration(script, settings, engine=engine, voice=voice, lang=lang)
    store.save_plan(plan)
    missing = store.missing_chunks(plan)
    spec = narrations.NarrationSpec(
        narration_key=plan.narration_key,
        engine=plan.engine,
        voice=plan.voice,
        lang=plan.lang,
        chunks_total=len(plan.chunks),
        chunks_cached=len(plan.chunks) - len(missing),
        article_id=article_id,
        title=script.title,
        priority=priority,
        callback_url=callback_url,
    )
    with session_scope(settings.catalog_url) as session:
        row, start = narrations.create_or_get(session, spec, due_at=due_from_now(settings))
        if article_id is not None:
            narrations.point_article(session, article_id, row)
    return Requested(narration=row, start=start, missing=missing, plan=plan)


def due_from_now(settings: Settings, extra_s: float = 0.0) -> datetime:
    """When the next progress is due if it starts now: after ``NARRATOR_STALL_AFTER_S`` (plus
    ``extra_s`` of announced waiting) without any, the work counts as lost."""
    return datetime.now(UTC) + timedelta(seconds=settings.stall_after_s + extra_s)


def start_job(
    settings: Settings, store: AudioStore, queue: JobQueue, requested: Requested, priority: str
) -> None:
    """Send the job if this caller won the row; else, if the narration is unfinished and its work
    was lost, send the missing part again.

    A queue outage leaves the row ``queued`` (the reconciler sends it once the queue is back)
    and raises :class:`~narration.queue.QueueUnavailable`, so the caller can say so."""
    from narration.reconcile import recover

    row = requested.narration
    if not requested.start:
        if row.state in narrations.UNFINISHED:
            try:
                recover(settings, store, queue, row.id)
            except Exception:  # asking again must answer even when recovery cannot run now
                log.exception("could not check narration %s for lost work", row.id)
        return
    queue.send(row.id, row.narration_key, requested.missing, row.attempts, priority)


def article_for_narration(settings: Settings, article_id: str) -> Article:
    """The stored article, or a fresh pull from the CMS when it comes from there. Raises
    ArticleNotFound (nothing stored, nothing to pull) or ArticleSourceError (the CMS failed)."""
    from narration.scripting import parse_article

    with session_scope(settings.catalog_url) as session:
        row = articles.get_article(session, article_id)
        if row is not None and (row.source == "pushed" or not settings.article_source):
            return parse_article(
                row.body,
                content_type=row.content_type,
                url=row.canonical_url,
                max_bytes=settings.max_article_bytes,
            )
    if not settings.article_source:
        raise ArticleNotFound(f"no article {article_id!r}: PUT it first", field="id")
    parsed, fetched = pull_article(settings, article_id)
    with session_scope(settings.catalog_url) as session:
        articles.upsert_article(
            session,
            article_id,
            parsed,
            body=fetched.body,
            content_type=fetched.content_type or "application/octet-stream",
            source="pulled",
        )
    return parsed


def narrate_article(
    settings: Settings,
    store: AudioStore,
    queue: JobQueue,
    article_id: str,
    *,
    engine: str | None = None,
    voice: str | None = None,
    lang: str | None = None,
    priority: Priority = "normal",
    callback_url: str | None = None,
) -> Requested:
    """Queue the narration of a stored or pulled article (one job however often asked)."""
    from narration import logs

    parsed = article_for_narration(settings, article_id)
    requested = request_narration(
        settings,
        store,
        parsed,
        source=f"cms:{article_id}",
        article_id=article_id,
        engine=engine,
        voice=voice,
        lang=lang,
        priority=priority,
        callback_url=callback_url,
    )
    logs.update_context(
        narration_id=requested.narration.id, narration_key=requested.narration.narration_key
    )
    start_job(settings, store, queue, requested, priority)
    return requested

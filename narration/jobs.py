"""Asking for a narration: plan it, look up the cache, and meet on one catalog row.

Pure orchestration shared by the API and the CLI; starting the job (the Celery canvas) is the
caller's, and only when :attr:`Requested.start` says this caller won the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from narration.article import Article
from narration.catalog import narrations, session_scope
from narration.catalog.models import Narration
from narration.settings import Settings

if TYPE_CHECKING:
    from narration.plan import NarrationPlan
    from narration.store import AudioStore

from narration.vocabulary import PRIORITIES, Priority

__all__ = ["PRIORITIES", "Priority", "Requested", "request_narration"]


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
        row, start = narrations.create_or_get(session, spec)
        if article_id is not None:
            narrations.point_article(session, article_id, row)
    return Requested(narration=row, start=start, missing=missing, plan=plan)

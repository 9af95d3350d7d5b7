"""Narrations in the catalog: one row per distinct audio, and its way to ``ready``.

Every transition is a conditional UPDATE (``… WHERE state = …``), so a task delivered twice, or
two requests racing, change a row at most once and learn whether they were the one that did.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from narration import metrics
from narration.catalog.models import Article, Narration, NarrationChunk, NarrationState, utcnow

FINAL_STATES = (NarrationState.READY, NarrationState.FAILED)


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class NarrationSpec:
    """What a new narration row starts with."""

    narration_key: str
    engine: str
    voice: str | None
    lang: str
    chunks_total: int
    chunks_cached: int
    article_id: str | None = None
    title: str | None = None
    priority: str = "normal"
    callback_url: str | None = None


def get(session: Session, narration_id: str) -> Narration | None:
    return session.get(Narration, narration_id)


def by_key(session: Session, narration_key: str) -> Narration | None:
    return session.scalar(select(Narration).where(Narration.narration_key == narration_key))


def create_or_get(
    session: Session, spec: NarrationSpec, *, due_at: datetime | None = None
) -> tuple[Narration, bool]:
    """The row for ``spec.narration_key``, and whether the caller must start its job.

    The unique key makes concurrent callers meet on one row: exactly one INSERT wins and that
    caller starts the job. A ``failed`` row asked for again is put back to ``queued`` by exactly
    one caller, who starts a new attempt. ``due_at``: when its first progress is due.
    """
    row = by_key(session, spec.narration_key)
    if row is None:
        version = 1
        if spec.article_id is not None:
            version += (
                session.scalar(select(func.count()).where(Narration.article_id == spec.article_id))
                or 0
            )
        candidate = Narration(
            id=new_id(),
            narration_key=spec.narration_key,
            article_id=spec.article_id,
            version=version,
            state=NarrationState.QUEUED,
            priority=spec.priority,
            chunks_total=spec.chunks_total,
            chunks_done=spec.chunks_cached,
            chunks_cached=spec.chunks_cached,
            engine=spec.engine,
            voice=spec.voice,
            lang=spec.lang,
            title=spec.title,
            callback_url=spec.callback_url,
            attempts=1,
            created_at=utcnow(),
            dispatched_at=utcnow(),
            due_at=due_at,
        )
        try:
            with session.begin_nested():
                session.add(candidate)
        except IntegrityError:
            row = by_key(session, spec.narration_key)
            if row is None:  # pragma: no cover - the conflicting row cannot vanish
                raise
        else:
            metrics.NARRATIONS.labels("queued").inc()
            metrics.CHUNKS.labels("hit").inc(spec.chunks_cached)
            metrics.CHUNKS.labels("miss").inc(spec.chunks_total - spec.chunks_cached)
            return candidate, True

    if row.state == NarrationState.FAILED:
        values: dict[str, Any] = {
            "state": NarrationState.QUEUED,
            "error": None,
            "error_category": None,
            "failed_at": None,
            "attempts": Narration.attempts + 1,
            "priority": spec.priority,
            "dispatched_at": utcnow(),
            "due_at": due_at,
        }
        if spec.callback_url:
            values["callback_url"] = spec.callback_url
        result = session.execute(
            update(Narration)
            .where(Narration.id == row.id, Narration.state == NarrationState.FAILED)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.refresh(row)
        if result.rowcount == 1:  # type: ignore[attr-defined]
            metrics.NARRATIONS.labels("queued").inc()
            return row, True
        return row, False
    if spec.callback_url and not row.callback_url and row.state not in FINAL_STATES:
        row.callback_url = spec.callback_url
    return row, False


UNFINISHED = (NarrationState.QUEUED, NarrationState.RUNNING)


def overdue(session: Session, *, now: datetime, limit: int = 100) -> list[Narration]:
    """Unfinished narrations whose next progress was due before ``now``, oldest due first
    (rows from before ``due_at`` existed count as due)."""
    return list(
        session.scalars(
            select(Narration)
            .where(
                Narration.state.in_(UNFINISHED),
                or_(Narration.due_at.is_(None), Narration.due_at < now),
            )
            .order_by(Narration.due_at)
            .limit(limit)
        )
    )


def claim_resend(
    session: Session,
    narration_id: str,
    *,
    seen_attempt: int,
    now: datetime,
    due_at: datetime,
    new_attempt: bool = True,
) -> bool:
    """Take the right to send the missing work of an overdue narration again (as a new attempt
    unless ``new_attempt`` is false): true for one caller, and only while the row is
    unfinished, still overdue and still at the attempt the caller saw."""
    result = session.execute(
        update(Narration)
        .where(
            Narration.id == narration_id,
            Narration.state.in_(UNFINISHED),
            Narration.attempts == seen_attempt,
            or_(Narration.due_at.is_(None), Narration.due_at < now),
        )
        .values(
            dispatched_at=now,
            due_at=due_at,
            attempts=Narration.attempts + 1 if new_attempt else Narration.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def push_due(session: Session, narration_id: str, due_at: datetime) -> None:
    """Progress, or an announced wait: the next progress is due no earlier than ``due_at`` (a
    wait announced by one chunk is not shortened by another chunk finishing)."""
    session.execute(
        update(Narration)
        .where(Narration.id == narration_id, Narration.state.in_(UNFINISHED))
        .values(
            due_at=case(
                (Narration.due_at.is_not(None) & (Narration.due_at > due_at), Narration.due_at),
                else_=due_at,
            )
        )
        .execution_options(synchronize_session=False)
    )


def is_stale(row: Narration, attempt: int | None) -> bool:
    """True when a task of attempt ``attempt`` belongs to a job replaced since it was sent
    (``None``: a task sent before attempts were carried, never stale)."""
    return attempt is not None and row.attempts != attempt


def _of_attempt(attempt: int | None) -> tuple[Any, ...]:
    return () if attempt is None else (Narration.attempts == attempt,)


def point_article(session: Session, article_id: str, narration: Narration) -> None:
    """Make ``narration`` the article's latest version, and its current audio if it is ready."""
    values: dict[str, Any] = {"latest_narration_id": narration.id}
    if narration.state == NarrationState.READY:
        values["current_narration_id"] = narration.id
    session.execute(
        update(Article)
        .where(Article.id == article_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def mark_running(session: Session, narration_id: str) -> bool:
    result = session.execute(
        update(Narration)
        .where(Narration.id == narration_id, Narration.state == NarrationState.QUEUED)
        .values(state=NarrationState.RUNNING, started_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def chunk_done(
    session: Session, narration_id: str, chunk_index: int, *, synth_ms: int | None
) -> bool:
    """Record one finished chunk; counts it once however often its task was delivered."""
    try:
        with session.begin_nested():
            session.add(
                NarrationChunk(
                    narration_id=narration_id,
                    chunk_index=chunk_index,
                    synth_ms=synth_ms,
                    done_at=utcnow(),
                )
            )
    except IntegrityError:
        return False
    if synth_ms is not None:
        metrics.SYNTHESIS_SECONDS.observe(synth_ms / 1000)
    session.execute(
        update(Narration)
        .where(Narration.id == narration_id, Narration.chunks_done < Narration.chunks_total)
        .values(chunks_done=Narration.chunks_done + 1)
        .execution_options(synchronize_session=False)
    )
    return True


def mark_ready(
    session: Session,
    narration_id: str,
    *,
    audio_key: str,
    duration_ms: int,
    size_bytes: int,
    engine: str | None = None,
    attempt: int | None = None,
) -> bool:
    """Publish: the narration is ready and becomes the current audio of the articles that asked
    for it last (or that had none yet). False when it was already ready, or when ``attempt`` is
    no longer the row's current one. ``engine``: the engines that really spoke, when they differ
    from the one asked for (``auto``)."""
    values: dict[str, Any] = {"engine": engine[:32]} if engine else {}
    result = session.execute(
        update(Narration)
        .where(
            Narration.id == narration_id,
            Narration.state != NarrationState.READY,
            *_of_attempt(attempt),
        )
        .values(
            **values,
            state=NarrationState.READY,
            audio_key=audio_key,
            duration_ms=duration_ms,
            bytes=size_bytes,
            chunks_done=Narration.chunks_total,
            error=None,
            error_category=None,
            ready_at=utcnow(),
            failed_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    metrics.NARRATIONS.labels("ready").inc()
    owner = session.scalar(select(Narration.article_id).where(Narration.id == narration_id))
    session.execute(
        update(Article)
        .where(Article.latest_narration_id == narration_id)
        .values(current_narration_id=narration_id)
        .execution_options(synchronize_session=False)
    )
    if owner is not None:
        # An older version finishing after a newer one was asked for still beats silence.
        session.execute(
            update(Article)
            .where(Article.id == owner, Article.current_narration_id.is_(None))
            .values(current_narration_id=narration_id)
            .execution_options(synchronize_session=False)
        )
    return True


def mark_failed(
    session: Session,
    narration_id: str,
    error: str,
    *,
    attempt: int | None = None,
    category: str | None = None,
) -> bool:
    """False when the narration had already finished (ready or failed), or when ``attempt`` is
    no longer the row's current one: a late failure of an earlier attempt must not fail the
    attempt that replaced it."""
    result = session.execute(
        update(Narration)
        .where(
            Narration.id == narration_id,
            Narration.state.not_in(FINAL_STATES),
            *_of_attempt(attempt),
        )
        .values(
            state=NarrationState.FAILED,
            error=error[:2000],
            error_category=category,
            failed_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    metrics.NARRATIONS.labels("failed").inc()
    return True


def current_audio(session: Session, article_id: str) -> Narration | None:
    """The ready narration the article serves now (the old one while a new one is made)."""
    article = session.get(Article, article_id)
    if article is None or article.current_narration_id is None:
        return None
    return session.get(Narration, article.current_narration_id)


def latest_for_article(session: Session, article_id: str) -> Narration | None:
    """The version last asked for: what ``GET …/narration`` reports progress on."""
    article = session.get(Article, article_id)
    if article is None or article.latest_narration_id is None:
        return None
    return session.get(Narration, article.latest_narration_id)


def status(narration: Narration, *, base_url: str = "") -> dict[str, Any]:
    """The narration as the API and webhooks show it."""
    ready = narration.state == NarrationState.READY and narration.audio_key
    return {
        "id": narration.id,
        "article_id": narration.article_id,
        "version": narration.version,
        "state": narration.state.value,
        "chunks_done": narration.chunks_done,
        "chunks_total": narration.chunks_total,
        "audio_url": f"{base_url}/audio/{narration.audio_key}.mp3" if ready else None,
        "transcript_url": f"{base_url}/audio/{narration.audio_key}.vtt" if ready else None,
        "manifest_url": f"{base_url}/audio/{narration.audio_key}.json" if ready else None,
        "duration_ms": narration.duration_ms,
        "bytes": narration.bytes,
        "engine": narration.engine,
        "voice": narration.voice,
        "lang": narration.lang,
        "error": narration.error,
        "error_category": narration.error_category,
        "narration_key": narration.narration_key,
        "priority": narration.priority,
        "created_at": iso_utc(narration.created_at),
        "ready_at": iso_utc(narration.ready_at),
    }


def iso_utc(value: Any) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite keeps no zone; every time is stored in UTC
        value = value.replace(tzinfo=UTC)
    text: str = value.isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")

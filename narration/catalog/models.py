"""Catalog tables, as SQLAlchemy 2 typed models.

``narrations`` holds one row per distinct audio: its ``narration_key`` (a hash of every chunk key
and the stitch settings) is unique, so concurrent requests for the same content meet on one row
and start one job. An article points at two rows: the one last asked for (``latest``) and the
one it currently serves (``current``); the second moves only when the first is ready, so the old
audio stays served while a new version is being made.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class NarrationState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


class Base(DeclarativeBase):
    pass


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_section", "section"),
        Index("ix_articles_published_at", "published_at"),
    )

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    """``pushed`` (PUT by the CMS) or ``pulled`` (fetched from the article source)."""
    title: Mapped[str | None] = mapped_column(Text)
    byline: Mapped[str | None] = mapped_column(Text)
    section: Mapped[str | None] = mapped_column(String(200))
    lang: Mapped[str | None] = mapped_column(String(35))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    canonical_url: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    """The article exactly as received, so a better parser can narrate it again later."""
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    latest_narration_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("narrations.id", use_alter=True, name="fk_articles_latest")
    )
    current_narration_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("narrations.id", use_alter=True, name="fk_articles_current")
    )


class Narration(Base):
    __tablename__ = "narrations"
    __table_args__ = (
        UniqueConstraint("narration_key", name="uq_narrations_narration_key"),
        Index("ix_narrations_state", "state"),
        Index("ix_narrations_due_at", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    narration_key: Mapped[str] = mapped_column(String(128))
    article_id: Mapped[str | None] = mapped_column(
        String(128), ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    """The article that first asked for this audio; ``None`` for on-demand narrations."""
    version: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[NarrationState] = mapped_column(
        Enum(
            NarrationState,
            name="narration_state",
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=NarrationState.QUEUED,
    )
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    chunks_total: Mapped[int] = mapped_column(Integer, default=0)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    chunks_cached: Mapped[int] = mapped_column(Integer, default=0)
    """Chunks found in the cache when the narration was planned (cache hit ratio)."""
    engine: Mapped[str] = mapped_column(String(32))
    voice: Mapped[str | None] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(35))
    title: Mapped[str | None] = mapped_column(Text)
    audio_key: Mapped[str | None] = mapped_column(String(128))
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    """Why it failed, in plain words a newsroom can act on (never a path or a class name)."""
    error_category: Mapped[str | None] = mapped_column(String(32))
    """The kind of failure, for programs: see :mod:`narration.failures`."""
    callback_url: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    """How many times a job was started for this row (a failed narration can be asked again, a
    lost job sent again). Its tasks carry the value they were sent with: those of a replaced job
    are ignored."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the job was last sent: a lost job is sent again only once, by one request."""
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the next progress is due (set at each send, start, chunk and announced wait): an
    unfinished narration past it has lost work, which the reconciler sends again."""
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NarrationChunk(Base):
    """One synthesized chunk of one narration: makes progress idempotent and feeds metrics."""

    __tablename__ = "narration_chunks"

    narration_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("narrations.id", ondelete="CASCADE"), primary_key=True
    )
    chunk_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    synth_ms: Mapped[int | None] = mapped_column(Integer)
    """Wall time of the engine call; ``None`` when a re-delivered task found the chunk cached."""
    done_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

"""Articles in the catalog: stored as received, with the metadata the parser found."""

from __future__ import annotations

import hashlib
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from narration.article import Article as ParsedArticle
from narration.catalog.models import Article, utcnow

ArticleSource = Literal["pushed", "pulled"]


def content_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def get_article(session: Session, article_id: str) -> Article | None:
    return session.get(Article, article_id)


def upsert_article(
    session: Session,
    article_id: str,
    parsed: ParsedArticle,
    *,
    body: bytes,
    content_type: str,
    source: ArticleSource,
) -> tuple[Article, bool]:
    """Store or update an article; return it and whether it is new or its content changed."""
    digest = content_hash(body)
    row = session.get(Article, article_id, with_for_update=True)
    changed = row is None or row.content_hash != digest
    if row is None:
        row = Article(id=article_id, created_at=utcnow())
        session.add(row)
    row.source = source
    row.title = parsed.title
    row.byline = parsed.byline
    row.section = parsed.section
    row.lang = parsed.lang
    row.published_at = parsed.published
    row.canonical_url = parsed.canonical_url
    row.image_url = parsed.image_url
    row.content_type = content_type
    row.body = body
    row.content_hash = digest
    if changed:
        row.updated_at = utcnow()
    session.flush()
    return row, changed


def list_articles(
    session: Session, *, section: str | None = None, limit: int = 100
) -> list[Article]:
    """Newest first (by publication time, then by update time)."""
    query = select(Article)
    if section is not None:
        query = query.where(Article.section == section)
    query = query.order_by(
        Article.published_at.desc().nulls_last(), Article.updated_at.desc()
    ).limit(limit)
    return list(session.scalars(query))

"""Articles in the catalog: stored as received, with the metadata the parser found."""

from __future__ import annotations

import hashlib
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from narration.article import Article as ParsedArticle
from narration.catalog.models import Article, utcnow
from narration.languages import normalize as normalize_lang
from narration.script import Script

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
    script: Script | None = None,
) -> tuple[Article, bool]:
    """Store or update an article; return it and whether it is new or its content changed.

    ``script``, when given, fills what the article itself did not say (a plain-text article's
    title is its first line, its language is detected).
    """
    digest = content_hash(body)
    row = session.get(Article, article_id, with_for_update=True)
    changed = row is None or row.content_hash != digest
    if row is None:
        candidate = Article(id=article_id, created_at=utcnow(), updated_at=utcnow())
        _fill(candidate, parsed, script, body, digest, content_type, source)
        try:
            with session.begin_nested():
                session.add(candidate)
            return candidate, True
        except IntegrityError:  # a concurrent PUT of the same new article won
            row = session.get(Article, article_id, with_for_update=True, populate_existing=True)
            if row is None:  # pragma: no cover - the winner's row cannot vanish
                raise
            changed = row.content_hash != digest
    _fill(row, parsed, script, body, digest, content_type, source)
    if changed:
        row.updated_at = utcnow()
    session.flush()
    return row, changed


def _fill(
    row: Article,
    parsed: ParsedArticle,
    script: Script | None,
    body: bytes,
    digest: str,
    content_type: str,
    source: ArticleSource,
) -> None:
    row.source = source
    row.title = parsed.title or (script.title if script else None)
    row.byline = parsed.byline or (script.byline if script else None)
    row.section = parsed.section or (script.section_name if script else None)
    row.lang = normalize_lang(parsed.lang) or (script.lang if script else None)
    row.published_at = parsed.published or (script.published if script else None)
    row.canonical_url = parsed.canonical_url or (script.canonical_url if script else None)
    row.image_url = parsed.image_url or (script.image_url if script else None)
    row.content_type = content_type
    row.body = body
    row.content_hash = digest


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

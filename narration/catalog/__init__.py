"""The catalog: articles and the versions of their narrations, in SQL (SQLite or PostgreSQL)."""

from narration.catalog.db import engine_for, session_scope
from narration.catalog.migrations import upgrade_to_head
from narration.catalog.models import Article, Narration, NarrationChunk, NarrationState

__all__ = [
    "Article",
    "Narration",
    "NarrationChunk",
    "NarrationState",
    "engine_for",
    "session_scope",
    "upgrade_to_head",
]

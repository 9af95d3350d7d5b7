"""An article as it arrives, before anything is decided about what will be spoken."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

ArticleForm = Literal["cms-json", "html", "text"]


@dataclass
class Article:
    """One article in any of its three forms, with whatever metadata the form carried.

    ``body_html`` holds an HTML body (a CMS body or a whole page), ``body_text`` a plain-text
    body; exactly one of them is set.
    """

    form: ArticleForm
    id: str | None = None
    title: str | None = None
    dek: str | None = None
    byline: str | None = None
    section: str | None = None
    published: datetime | None = None
    lang: str | None = None
    canonical_url: str | None = None
    image_url: str | None = None
    body_html: str | None = None
    body_text: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

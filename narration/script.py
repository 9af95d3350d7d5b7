"""The narration script: exactly what will be spoken, in order, and what was dropped and why.

A script is plain data. Building one from an :class:`~narration.article.Article` is the job of
``narration.scripting``; turning one into audio is the job of ``narration.chunks`` and after.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Pause = Literal["sentence", "paragraph", "section"]
BlockKind = Literal["title", "byline", "heading", "sentence"]


@dataclass(frozen=True)
class Sentence:
    text: str
    """As written: shown in transcripts and the player."""
    spoken: str
    """As sent to the speech engine: ``text`` after the pronunciation lexicon."""


@dataclass
class Paragraph:
    sentences: list[Sentence]

    @property
    def text(self) -> str:
        # Chinese and Japanese put no space after a sentence's full-width stop.
        out = ""
        for sentence in self.sentences:
            if out and not out.endswith(_NO_SPACE_AFTER):
                out += " "
            out += sentence.text
        return out


# ideographic full stop, full-width ! and ?, closing corner brackets
_NO_SPACE_AFTER = ("\u3002", "\uff01", "\uff1f", "\u300d", "\u300f")


@dataclass
class Section:
    heading: Sentence | None
    paragraphs: list[Paragraph]


@dataclass(frozen=True)
class Skipped:
    text: str
    reason: str


@dataclass(frozen=True)
class Block:
    """One unit of speech in reading order, with the pause that follows it."""

    kind: BlockKind
    text: str
    spoken: str
    pause_after: Pause
    section: int
    """Index of the section it belongs to (0 holds the title and byline)."""


@dataclass
class Script:
    source: str
    """Where the article came from: a file path, a URL or ``cms:<id>``."""
    title: str
    byline: str | None
    lang: str
    sections: list[Section]
    skipped: list[Skipped] = field(default_factory=list)
    title_spoken: str | None = None
    byline_spoken: str | None = None
    dek: str | None = None
    section_name: str | None = None
    published: datetime | None = None
    canonical_url: str | None = None
    image_url: str | None = None

    @property
    def paragraphs(self) -> list[str]:
        """The body as it will be spoken, before lexicon respelling, paragraph by paragraph;
        a section heading is spoken too, so it stands in its place between paragraphs."""
        body: list[str] = []
        for section in self.sections:
            if section.heading is not None:
                body.append(section.heading.text)
            body.extend(p.text for p in section.paragraphs)
        return body

    def blocks(self) -> Iterator[Block]:
        """Everything to speak, in order: title, byline, then each section's heading and
        sentences. The last sentence of a paragraph pauses longer; of a section, longer still."""
        yield Block("title", self.title, self.title_spoken or self.title, "paragraph", 0)
        if self.byline:
            said = f"By {self.byline}"
            spoken = f"By {self.byline_spoken or self.byline}"
            yield Block("byline", said, spoken, "section", 0)
        for index, section in enumerate(self.sections):
            if section.heading is not None:
                h = section.heading
                yield Block("heading", h.text, h.spoken, "paragraph", index)
            for p_index, paragraph in enumerate(section.paragraphs):
                last_paragraph = p_index == len(section.paragraphs) - 1
                for s_index, sentence in enumerate(paragraph.sentences):
                    pause: Pause = "sentence"
                    if s_index == len(paragraph.sentences) - 1:
                        pause = "section" if last_paragraph else "paragraph"
                    yield Block("sentence", sentence.text, sentence.spoken, pause, index)

    def to_json(self) -> dict[str, Any]:
        """The ``narrator script --format json`` object."""
        return {
            "source": self.source,
            "title": self.title,
            "byline": self.byline,
            "lang": self.lang,
            "paragraphs": self.paragraphs,
            "sections": [
                {
                    "heading": s.heading.text if s.heading else None,
                    "paragraphs": [[sent.text for sent in p.sentences] for p in s.paragraphs],
                }
                for s in self.sections
            ],
            "skipped": [{"text": s.text, "reason": s.reason} for s in self.skipped],
        }

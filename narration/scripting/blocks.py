"""Blocks: the paragraphs and headings of a body, before cleanup decides what is spoken."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

BlockRole = Literal["paragraph", "heading"]

_SPACE = re.compile(r"\s+")
_TERMINAL = ".!?\u3002\uff01\uff1f\u2026:;\"'\u201d\u2019\u00bb)"


@dataclass
class TextBlock:
    text: str
    role: BlockRole = "paragraph"
    tag: str = "p"
    """Where it came from: ``p``, ``li``, ``quote``, ``cell``, ``line`` (plain text) ..."""
    link_density: float = 0.0
    """Share of the text that is link text (pages only): lists of links are navigation."""
    story: bool = True
    """False when the line model places a line of a browser copy outside the story."""


def normalize_space(text: str) -> str:
    """One space between words; no zero-width or non-breaking oddities."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u00ad", "").replace("\u200b", "").replace("\ufeff", "")
    return _SPACE.sub(" ", text).strip()


def text_blocks(text: str) -> list[TextBlock]:
    """Split plain text into blocks.

    Text copied from a browser has one paragraph per line; text from an e-mail or an editor may
    wrap a paragraph over several lines, with blank lines between paragraphs. A group of lines
    between blank lines is joined when it looks wrapped (its lines mostly stop mid-sentence).
    """
    blocks: list[TextBlock] = []
    for group in re.split(r"\n[ \t\u00a0]*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [normalize_space(line) for line in group.split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            continue
        if _looks_wrapped(lines):
            blocks.append(TextBlock(" ".join(lines), tag="line"))
        else:
            blocks.extend(TextBlock(line, tag="line") for line in lines)
    return blocks


def _looks_wrapped(lines: list[str]) -> bool:
    """Wrapped lines fill a fixed width: every line but the last is nearly as long as the
    longest, and most stop mid-sentence."""
    if len(lines) < 2:
        return False
    inner = lines[:-1]
    width = max(len(line) for line in inner)
    if not 50 <= width <= 100 or min(len(line) for line in inner) < 0.6 * width:
        return False
    open_ended = sum(1 for line in inner if not line.endswith(tuple(_TERMINAL)))
    return open_ended * 2 >= len(inner)

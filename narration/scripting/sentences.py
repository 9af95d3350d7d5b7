"""Sentence segmentation with sentencex: rule-based, multilingual, aware of abbreviations
("U.S.", "Dr.", "No. 3") and of quotations, with per-language fallbacks."""

from __future__ import annotations

import re

from sentencex import segment

_WORD = re.compile(r"\w")
# A closing quote the segmenter put at the start of the next sentence: '" Then it ended.'
_LEADING_CLOSER = re.compile(r"^([\"\u201d\u2019\u00bb)\]]+)\s+")


def split_sentences(text: str, lang: str) -> list[str]:
    """The sentences of one paragraph, in order, whitespace-trimmed."""
    code = lang.split("-")[0] if lang else "en"
    sentences: list[str] = []
    for piece in segment(code, text):
        piece = piece.strip()
        if not piece:
            continue
        if sentences and not _WORD.search(piece):
            # A stray closing quote or bracket belongs to the sentence before it.
            sentences[-1] += piece
            continue
        if sentences and (stray := _LEADING_CLOSER.match(piece)):
            sentences[-1] += stray.group(1)
            piece = piece[stray.end() :]
        if piece:
            sentences.append(piece)
    return sentences

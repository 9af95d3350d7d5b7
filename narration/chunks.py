"""Sentences packed into chunks: the unit of synthesis and of caching.

A chunk is a run of *parts* (a sentence, or a piece of a sentence longer than the engine's
limit) that the engine speaks one part at a time. Speaking part by part costs gTTS no extra
request for any sentence longer than its 100-character request (it splits those itself) and
gives the exact sample length of every sentence, so transcript timings are exact rather than
apportioned by character count; pauses between parts are inserted at stitching, so they are
even across the whole file.

A chunk is a whole paragraph when the paragraph fits the engine's limit, else one sentence: an
edit cannot shift the boundaries of chunks that do not hold the edited sentence (see
:func:`pack`), so editing one sentence re-synthesizes only the chunk(s) that hold it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

PauseHint = Literal["none", "sentence", "paragraph", "section"]
"""The pause after a part: ``none`` joins the pieces of one over-long sentence."""

CHUNK_FORMAT = 3
"""Bump when the way chunk audio is made changes (trimming, sample rate): it changes every key."""

_PAUSE_RANK: dict[str, int] = {"none": 0, "sentence": 1, "paragraph": 2, "section": 3}
# Where to prefer splitting an over-long sentence: after clause punctuation, else at a space.
_CLAUSE_END = re.compile(r"[,;:\u2014\u2013)]\s+|\s+[\u2014\u2013-]\s+")


@dataclass(frozen=True)
class Part:
    block: int
    """Index of the block (sentence, title, ...) this part speaks, in the plan's blocks."""
    spoken: str
    pause: PauseHint


@dataclass(frozen=True)
class Chunk:
    index: int
    key: str
    """Content address of the audio of the primary engine."""
    parts: tuple[Part, ...]
    fallback_key: str | None = None
    """Content address of the same parts spoken by the fallback engine (``auto`` only)."""

    @property
    def spoken(self) -> str:
        return " ".join(p.spoken for p in self.parts)

    @property
    def pause(self) -> PauseHint:
        """The pause after the chunk: the pause hint of its last part."""
        return self.parts[-1].pause

    @property
    def blocks(self) -> list[int]:
        return sorted({p.block for p in self.parts})

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "key": self.key,
            "fallback_key": self.fallback_key,
            "parts": [{"block": p.block, "spoken": p.spoken, "pause": p.pause} for p in self.parts],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Chunk:
        parts = tuple(Part(int(p["block"]), str(p["spoken"]), p["pause"]) for p in d["parts"])
        return cls(int(d["index"]), str(d["key"]), parts, d.get("fallback_key"))


@dataclass(frozen=True)
class Voice:
    """Everything besides the text that changes what an engine says."""

    engine: str
    engine_version: str
    voice: str
    lang: str
    speed: float


def chunk_key(voice: Voice, parts: Sequence[Part]) -> str:
    """Hash of everything that changes a chunk's audio. Positions and pauses are not in it: the
    same words said the same way are the same audio wherever they stand."""
    material = {
        "format": CHUNK_FORMAT,
        "engine": voice.engine,
        "engine_version": voice.engine_version,
        "voice": voice.voice,
        "lang": voice.lang,
        "speed": round(voice.speed, 3),
        "parts": [p.spoken for p in parts],
    }
    blob = json.dumps(material, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def split_text(text: str, max_chars: int) -> list[str]:
    """Split ``text`` into pieces of at most ``max_chars``, never inside a word: at the last
    clause break that fits, else at the last space. A single word longer than the limit is
    kept whole; no engine is better served by half a word."""
    text = " ".join(text.split())
    pieces: list[str] = []
    while len(text) > max_chars:
        window = text[: max_chars + 1]
        cut = -1
        for m in _CLAUSE_END.finditer(window):
            if m.start() > max_chars // 3:
                cut = m.end()
        if cut <= 0:
            cut = window.rfind(" ")
        if cut <= 0:
            # One word longer than the limit: up to the next space, whole.
            space = text.find(" ", max_chars)
            cut = len(text) if space < 0 else space
        head, text = text[:cut].strip(), text[cut:].strip()
        if head:
            pieces.append(head)
    if text:
        pieces.append(text)
    return pieces


def pack(
    blocks: Iterable[tuple[str, PauseHint]], max_chars: int, alone: Collection[int] = ()
) -> list[list[Part]]:
    """Pack ``(spoken, pause)`` blocks into groups of parts of at most ``max_chars`` characters
    (spaces between parts counted): a whole paragraph when it fits, else one sentence per group
    (a sentence longer than the limit: one piece per group).

    Greedy filling would pack long paragraphs tighter, but then one sentence growing or
    shrinking shifts every later boundary of its paragraph and re-synthesizes chunks that do
    not hold it. With this rule, editing a sentence changes only the chunk(s) holding it,
    unless the edit moves its paragraph across the limit. Packing costs no engine requests
    either way, since parts are spoken one by one.

    Blocks whose index is in ``alone`` are chunks of their own (the first sentence, so the
    first audio is ready after one short request)."""
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    groups: list[list[Part]] = []
    paragraph: list[list[Part]] = []  # one list of parts per sentence

    def close() -> None:
        parts = [part for sentence in paragraph for part in sentence]
        if parts and len(" ".join(p.spoken for p in parts)) <= max_chars:
            groups.append(parts)
        else:
            groups.extend([part] for part in parts)
        paragraph.clear()

    for index, (spoken, pause) in enumerate(blocks):
        pieces = split_text(spoken, max_chars)
        if not pieces:
            continue
        last = len(pieces) - 1
        if index in alone:
            close()
            groups.extend(
                [Part(index, piece, pause if n == last else "none")]
                for n, piece in enumerate(pieces)
            )
            continue
        paragraph.append(
            [Part(index, piece, pause if n == last else "none") for n, piece in enumerate(pieces)]
        )
        if _PAUSE_RANK[pause] >= _PAUSE_RANK["paragraph"]:
            close()
    close()
    return groups


def make_chunks(
    blocks: Sequence[tuple[str, PauseHint]],
    max_chars: int,
    voice: Voice,
    fallback: Voice | None = None,
    *,
    alone: Collection[int] = (),
) -> list[Chunk]:
    """Chunks for ``blocks`` (spoken text and pause hint, in reading order), keyed for
    ``voice`` and, when given, for the ``fallback`` voice as well; see :func:`pack` for
    ``alone``."""
    chunks = []
    for index, parts in enumerate(pack(blocks, max_chars, alone)):
        key = chunk_key(voice, parts)
        fallback_key = chunk_key(fallback, parts) if fallback else None
        chunks.append(Chunk(index, key, tuple(parts), fallback_key))
    return chunks

"""The files the pipeline persists, as typed, versioned models: loaded and saved with validation.

- :class:`ChunkSidecar` -- ``chunks/<key>.json`` beside each chunk's WAV: who spoke it, the
  exact sample length of each part, and its loudness measurement (so the stitch never decodes
  or measures audio it already holds);
- :class:`StitchSpec` -- the settings that change the finished file, part of every plan;
- :class:`Manifest` -- ``<audio_key>.json`` beside each MP3: every sentence's start and end,
  chunks, chapters, loudness.

The narration plan (:class:`narration.plan.NarrationPlan`) is versioned the same way.

Every model carries ``version``. A file of another version, or one that does not validate, is
not read half-way: :func:`load` raises :class:`StaleRecord`, which callers treat as a cache miss
(a chunk is synthesized again, a plan is made again).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class StaleRecord(ValueError):
    """A persisted file of an older format, or not valid: treat it as absent."""


class Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


R = TypeVar("R", bound=Record)


def load(model: type[R], path: Path) -> R:
    """``path`` validated as ``model``; raises StaleRecord for another version or a bad file,
    FileNotFoundError when it is not there."""
    data = Path(path).read_bytes()
    stale = StaleRecord(f"{Path(path).name}: not a current {model.__name__}")
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise stale from exc
    # A file written before versions has none: it must not pass for the current one.
    version = model.model_fields["version"].default if "version" in model.model_fields else None
    if not isinstance(raw, dict) or raw.get("version") != version:
        raise stale
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise stale from exc


def dump(record: Record) -> bytes:
    return record.model_dump_json(indent=1).encode()


# --- chunks ------------------------------------------------------------------------------------


class ChunkLoudness(Record):
    energy: list[list[float]]
    """Per part, the K-weighted mean square of every 10 ms (see
    :func:`narration.loudness.measure_blocks`)."""
    peak: list[list[float]]
    """Per part, the sample peak of every 10 ms (full scale 1.0)."""
    true_peak: float
    """The chunk's largest absolute value, 4x oversampled (full scale 1.0)."""
    integrated_lufs: float | None = None
    """The chunk's own integrated loudness (``None``: too quiet or short to gate), for whoever
    plays a chunk alone (progressive segments)."""


class ChunkSidecar(Record):
    version: Literal[3] = 3
    key: str
    engine: str
    engine_version: str
    voice: str
    lang: str
    speed: float
    sample_rate: int
    samples: int
    parts: list[int]
    """Sample length of each part, in order; they add up to ``samples``."""
    spoken: list[str]
    loudness: ChunkLoudness


# --- the stitch --------------------------------------------------------------------------------


class FileRef(Record):
    path: str
    sha256: str


class StitchSpec(Record):
    version: Literal[2] = 2
    pauses_ms: dict[str, int]
    target_lufs: float
    true_peak_dbtp: float
    bitrate_kbps: int
    sample_rate: int
    encoder_quality: int = 7
    """LAME's algorithm quality (0 best and slowest, 9 fastest); see docs/audio-pipeline.md."""
    intro_audio: FileRef | None = None
    outro_audio: FileRef | None = None


# --- the manifest ------------------------------------------------------------------------------


class ManifestSentence(Record):
    index: int
    kind: str
    section: int
    text: str
    start_ms: int
    end_ms: int


class ManifestChunk(Record):
    index: int
    key: str
    primary_key: str
    engine: str
    engine_version: str
    voice: str
    start_ms: int
    end_ms: int


class ManifestChapter(Record):
    title: str
    start_ms: int
    end_ms: int


class ManifestLoudness(Record):
    integrated_lufs: float
    true_peak_dbtp: float
    gain_db: float


class Manifest(Record):
    version: Literal[2] = 2
    audio_key: str
    narration_key: str
    duration_ms: int
    engine: str
    """As requested (``auto`` too); ``engines`` says who actually spoke."""
    engines: list[str]
    voice: str
    lang: str
    title: str | None = None
    sample_rate: int
    bitrate_kbps: int
    loudness: ManifestLoudness
    chunks: list[ManifestChunk] = Field(default_factory=list)
    chapters: list[ManifestChapter] = Field(default_factory=list)
    sentences: list[ManifestSentence] = Field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

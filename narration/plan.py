"""The narration plan: everything needed to make one narration's audio, as plain data.

A plan is computed from a script and settings without touching any engine's network (only
the engine's version and voice names are read), saved to the store, and handed by key to the
workers that synthesize its chunks and stitch them.

``narration_key`` is the hash of the chunk keys and their pauses, the displayed text (it goes
into the transcript), the stitch settings and the tag metadata: the content address of the
final audio when every chunk is spoken by the primary engine.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field
from typing_extensions import TypedDict

from narration import disclosure
from narration.chunks import Chunk, PauseHint, Voice, make_chunks
from narration.engines import AutoEngine, get_engine
from narration.errors import NarrationError, PermanentEngineError
from narration.records import FileRef, Record, StitchSpec
from narration.script import Script
from narration.settings import Settings

PLAN_FORMAT = 2
MIN_SPEED, MAX_SPEED = 0.25, 4.0
"""Speeds engines can honour; 0 made eSpeak fall back to its slowest rate without a word."""
ENCODER_QUALITY = 7
"""LAME quality for the one encode: at 64 kbps it measured closer to the speech than the default
quality at 48 kbps, in half the encode time (docs/audio-pipeline.md)."""
PAUSE_MS: dict[str, int] = {"none": 120, "sentence": 350, "paragraph": 750, "section": 1300}
"""Silence after a part, by its pause hint. Engines' own silences are trimmed off chunks."""


@dataclass(frozen=True)
class PlanBlock:
    kind: str
    """title, byline, heading, sentence, intro or outro."""
    text: str
    spoken: str
    pause: PauseHint
    section: int


class Chapter(TypedDict):
    title: str
    section: int


class NarrationPlan(Record):
    """Saved as ``plans/<narration_key>.json``; a plan of another ``version`` is planned
    again (see :mod:`narration.records`)."""

    model_config = ConfigDict(extra="ignore", frozen=False)

    version: Literal[2] = 2
    narration_key: str
    engine: str
    """As requested: gtts, espeak, piper or auto (the manifest says who spoke each chunk)."""
    primary: Voice
    fallback: Voice | None
    blocks: list[PlanBlock]
    chunks: list[Chunk]
    chapters: list[Chapter]
    """One per section, in order."""
    stitch: StitchSpec
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def voice(self) -> str:
        return self.primary.voice

    @property
    def lang(self) -> str:
        """The narration's language as requested (``en-US``); ``primary.lang`` is the engine's
        name for it (``en``)."""
        return str(self.meta.get("language") or self.primary.lang)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> NarrationPlan:
        return cls.model_validate(d)


def _file_ref(path: Path | None, name: str) -> FileRef | None:
    if path is None:
        return None
    path = Path(path)
    if not path.is_file():
        raise NarrationError(f"{name} not found: {path}", field=name)
    return FileRef(path=str(path.resolve()), sha256=hashlib.sha256(path.read_bytes()).hexdigest())


def _by_content(value: Any) -> Any:
    """``value`` with every file reference reduced to its hash: where the intro audio or the
    cover sits (a checkout, a container mount) does not change the audio, so not the key."""
    if isinstance(value, dict):
        if set(value) == {"path", "sha256"}:
            return {"sha256": value["sha256"]}
        return {k: _by_content(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_by_content(v) for v in value]
    return value


def stitch_spec(settings: Settings) -> StitchSpec:
    """The settings that change the final file (pauses, loudness, encoding, intro/outro audio)."""
    return StitchSpec(
        pauses_ms=dict(PAUSE_MS),
        target_lufs=settings.target_lufs,
        true_peak_dbtp=settings.true_peak_dbtp,
        bitrate_kbps=settings.bitrate_kbps,
        sample_rate=settings.sample_rate,
        encoder_quality=ENCODER_QUALITY,
        intro_audio=_file_ref(settings.intro_audio, "intro_audio"),
        outro_audio=_file_ref(settings.outro_audio, "outro_audio"),
    )


def _blocks(script: Script, settings: Settings, lang: str) -> list[PlanBlock]:
    blocks: list[PlanBlock] = []
    intro = disclosure.intro_text(settings)
    if intro:
        blocks.append(PlanBlock("intro", intro, intro, "section", 0))
    for b in script.blocks():
        if b.spoken.strip():
            blocks.append(PlanBlock(b.kind, b.text, b.spoken, b.pause_after, b.section))
    outro = disclosure.outro_text(settings, lang)
    if outro:
        last = blocks[-1].section if blocks else 0
        blocks.append(PlanBlock("outro", outro, outro, "section", last))
    return blocks


def _chapters(script: Script, blocks: list[PlanBlock]) -> list[Chapter]:
    """One chapter per section: the first is named after the article, the others after their
    heading."""
    chapters: list[Chapter] = []
    for b in blocks:
        if chapters and chapters[-1]["section"] == b.section:
            continue
        title = script.title
        if chapters:
            heading = (
                script.sections[b.section].heading if b.section < len(script.sections) else None
            )
            title = heading.text if heading is not None else f"Part {len(chapters) + 1}"
        chapters.append({"title": title, "section": b.section})
    return chapters


def _meta(
    script: Script, settings: Settings, lang: str, extra: dict[str, Any] | None
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "title": script.title,
        "artist": script.byline or settings.publisher,
        "album": script.section_name or settings.album,
        "date": script.published.date().isoformat() if script.published else None,
        "language": lang,
        "comment": disclosure.comment(settings, lang),
        "publisher": settings.publisher,
        "url": script.canonical_url,
        "source": script.source,
        "cover": None,
    }
    meta.update(extra or {})
    if meta.get("cover") is not None:
        ref = _file_ref(Path(str(meta["cover"])), "cover")
        meta["cover"] = ref.model_dump() if ref else None
    return meta


def plan_narration(
    script: Script,
    settings: Settings,
    *,
    engine: str | None = None,
    voice: str | None = None,
    lang: str | None = None,
    meta: dict[str, Any] | None = None,
) -> NarrationPlan:
    """Plan the narration of ``script``: blocks, chunks with their cache keys, chapters, stitch
    settings and tags. ``engine``/``voice``/``lang`` override settings and the script;
    ``meta`` adds or overrides tag fields (``title``, ``artist``, ``album``, ``date``,
    ``comment``, ``cover`` -- a path to a JPEG or PNG). Raises PermanentEngineError for an
    unknown engine, voice or language."""
    name = engine or settings.engine
    speaker = get_engine(name, settings)
    language = lang or script.lang or settings.lang or "en"
    speed = settings.speed
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise NarrationError(
            f"speed must be between {MIN_SPEED} and {MAX_SPEED}, not {speed}", field="speed"
        )
    primary_engine = speaker.primary if isinstance(speaker, AutoEngine) else speaker
    # Keyed on the language the engine speaks, so ``en-US`` and ``en`` (both ``en`` to gTTS)
    # share their audio; the narration's own language (tags, catalog) stays as requested.
    primary = Voice(
        primary_engine.name,
        primary_engine.version(),
        primary_engine.resolve_voice(voice or settings.voice, language),
        primary_engine.resolve_lang(language),
        speed,
    )
    fallback: Voice | None = None
    if isinstance(speaker, AutoEngine):
        offline = speaker.fallback
        try:
            fallback_voice = offline.resolve_voice(None, language)
        except PermanentEngineError:
            fallback_voice = None  # the offline engine cannot speak it: gTTS or nothing
        if fallback_voice is not None:
            fallback = Voice(
                offline.name,
                offline.version(),
                fallback_voice,
                offline.resolve_lang(language),
                speed,
            )
    blocks = _blocks(script, settings, language)
    if not any(b.kind != "intro" and b.kind != "outro" for b in blocks):
        raise NarrationError("the script has nothing to say", field="script")
    # The title is a chunk of its own already (it pauses like a paragraph); the first
    # sentence is made one too, so the first audio is one short request away.
    first_sentence = next((i for i, b in enumerate(blocks) if b.kind == "sentence"), None)
    chunks = make_chunks(
        [(b.spoken, b.pause) for b in blocks],
        primary_engine.max_chars,
        primary,
        fallback,
        alone=() if first_sentence is None else (first_sentence,),
    )
    stitch = stitch_spec(settings)
    tags = _meta(script, settings, language, meta)
    chapters = _chapters(script, blocks)
    material = {
        "format": PLAN_FORMAT,
        "chunks": [
            {
                "key": c.key,
                "pauses": [p.pause for p in c.parts],
                "blocks": [p.block for p in c.parts],
            }
            for c in chunks
        ],
        "blocks": [[b.kind, b.text, b.section] for b in blocks],
        "chapters": chapters,
        "stitch": stitch.model_dump(mode="json"),
        # Where the script came from (a file name, an API route) is kept for debugging but is
        # not in the audio: the same article narrated from another path is the same file.
        "meta": {k: v for k, v in tags.items() if k != "source"},
    }
    blob = json.dumps(
        _by_content(material), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    key = hashlib.sha256(blob.encode()).hexdigest()[:32]
    return NarrationPlan(
        narration_key=key,
        engine=name,
        primary=primary,
        fallback=fallback,
        blocks=blocks,
        chunks=chunks,
        chapters=chapters,
        stitch=stitch,
        meta=tags,
    )

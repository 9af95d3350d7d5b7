"""Synthesizing one chunk into the store: idempotent, retried, never half-written.

Each part of the chunk is spoken on its own (see :mod:`narration.chunks`) -- a remote engine's
parts all at once -- its leading and trailing silence trimmed and its edges faded, and the parts
joined and stored as PCM (WAV) at :data:`~narration.audio.CHUNK_RATE`. The sidecar records each
part's exact sample length, from which the stitcher places every sentence to the sample, and the
chunk's loudness measurement, so the stitch neither decodes nor measures: it encodes once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numpy as np

from narration.audio import CHUNK_RATE, fade_edges, trim_silence, wav_bytes
from narration.chunks import Chunk, Voice
from narration.engines import AutoEngine, get_engine
from narration.engines.base import Engine
from narration.errors import EngineError, EngineUnreachable, TransientEngineError
from narration.loudness import integrated_lufs, measure_blocks
from narration.plan import NarrationPlan
from narration.ratelimit import RateLimiter
from narration.records import ChunkLoudness, ChunkSidecar
from narration.retry import call_with_retries
from narration.settings import Settings
from narration.store import AudioStore
from narration.threads import map_together


@dataclass(frozen=True)
class ChunkResult:
    key: str
    """The key the chunk's audio is stored under (the fallback's when the fallback spoke)."""
    engine: str
    cached: bool


def synthesize_chunk(
    plan: NarrationPlan,
    index: int,
    store: AudioStore,
    settings: Settings,
    *,
    rate_limiter: RateLimiter | None = None,
) -> ChunkResult:
    """Make sure chunk ``index`` of ``plan`` is in ``store``; return where it is and who spoke
    it. Returns at once when it is already stored (under either key). Transient engine errors
    are retried with exponential backoff and jitter, at most ``settings.tts_retries`` times,
    then raised as TransientEngineError; permanent ones raise PermanentEngineError at once.
    With engine ``auto``, an unreachable gTTS makes the offline engine speak the chunk, stored
    under the chunk's ``fallback_key``."""
    stored = store.stored_key(plan, index)
    if stored is not None:
        return ChunkResult(stored, store.chunk_meta(stored).engine, True)
    chunk = plan.chunks[index]
    speaker = get_engine(plan.engine, settings)
    if isinstance(speaker, AutoEngine) and plan.fallback and chunk.fallback_key:
        if not speaker.primary_down():
            try:
                return _speak_and_store(
                    speaker.primary,
                    plan.primary,
                    chunk,
                    chunk.key,
                    store,
                    settings,
                    rate_limiter,
                    fall_back_on_unreachable=True,
                )
            except EngineUnreachable:
                speaker.mark_down()
        return _speak_and_store(
            speaker.fallback, plan.fallback, chunk, chunk.fallback_key, store, settings, None
        )
    # Never let AutoEngine's own fallback speak here: its audio would land under the primary key.
    primary = speaker.primary if isinstance(speaker, AutoEngine) else speaker
    return _speak_and_store(primary, plan.primary, chunk, chunk.key, store, settings, rate_limiter)


def _speak_and_store(
    engine: Engine,
    voice: Voice,
    chunk: Chunk,
    key: str,
    store: AudioStore,
    settings: Settings,
    limiter: RateLimiter | None,
    *,
    fall_back_on_unreachable: bool = False,
) -> ChunkResult:
    def retryable(exc: TransientEngineError) -> bool:
        # With a fallback waiting, an unreachable host is handed to it rather than retried.
        return not (fall_back_on_unreachable and isinstance(exc, EngineUnreachable))

    def speak(text: str) -> np.ndarray:
        pcm = call_with_retries(
            partial(
                engine.synthesize,
                text,
                voice=voice.voice,
                lang=voice.lang,
                speed=voice.speed,
                limiter=limiter,
            ),
            retries=settings.tts_retries,
            retry_if=retryable,
        )
        return fade_edges(trim_silence(pcm.samples, pcm.rate), pcm.rate)

    texts = [part.spoken for part in chunk.parts]
    if engine.remote and len(texts) > 1:
        # Every part's requests go out together; the shared limiter decides how many fly.
        pieces = map_together("parts", speak, texts)
    else:
        pieces = [speak(text) for text in texts]
    lengths = [int(p.size) for p in pieces]
    samples = np.concatenate(pieces) if sum(lengths) else np.zeros(CHUNK_RATE // 100, np.int16)
    measured = [measure_blocks(p, CHUNK_RATE) for p in pieces]
    meta = ChunkSidecar(
        key=key,
        engine=voice.engine,
        engine_version=voice.engine_version,
        voice=voice.voice,
        lang=voice.lang,
        speed=voice.speed,
        sample_rate=CHUNK_RATE,
        samples=int(samples.size),
        parts=lengths,
        spoken=texts,
        loudness=ChunkLoudness(
            energy=[_rounded(e) for e, _ in measured],
            peak=[_rounded(p) for _, p in measured],
            true_peak=max([float(p.max()) for _, p in measured if p.size] + [0.0]),
            integrated_lufs=_finite(integrated_lufs(np.concatenate([e for e, _ in measured]))),
        ),
    )
    store.save_chunk(key, wav_bytes(samples, CHUNK_RATE), meta)
    return ChunkResult(key, voice.engine, False)


def _finite(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None


def _rounded(values: np.ndarray) -> list[float]:
    # Four significant digits: a thousandth of a dB is far below what anyone hears, and the
    # sidecar stays a few kilobytes per second of speech.
    return [float(f"{v:.4g}") for v in values.tolist()]


def _is_disclosure(plan: NarrationPlan, index: int) -> bool:
    return all(plan.blocks[p.block].kind in ("intro", "outro") for p in plan.chunks[index].parts)


def stitch_keys(
    plan: NarrationPlan,
    store: AudioStore,
    settings: Settings,
    *,
    rate_limiter: RateLimiter | None = None,
) -> list[str | None]:
    """The stored key of each chunk to stitch (``None``: not synthesized yet), with the intro
    and outro in the voice that read most of the article whenever that can be had.

    The disclosure is the same text in every article, so its audio is nearly always cached
    already, often in the other voice (Google spoke it yesterday, espeak reads today while
    Google is unreachable): then it is taken or made in the article's voice. The local fallback
    can always speak; gTTS is asked once (through ``rate_limiter``, the quota every chunk
    shares), and if it cannot answer the cached voice stays."""
    used = [store.stored_key(plan, i) for i in range(len(plan.chunks))]
    if plan.fallback is None or None in used:
        return used
    disclosures = [i for i in range(len(plan.chunks)) if _is_disclosure(plan, i)]
    article = [i for i in range(len(plan.chunks)) if i not in disclosures]
    by_fallback = sum(1 for i in article if used[i] != plan.chunks[i].key)
    use_fallback = by_fallback * 2 > len(article)
    speaker = get_engine(plan.engine, settings)
    once = settings.model_copy(update={"tts_retries": 0})
    for i in disclosures:
        chunk = plan.chunks[i]
        wanted = chunk.fallback_key if use_fallback else chunk.key
        if wanted is None or used[i] == wanted:
            continue
        if not store.has_chunk(wanted) and isinstance(speaker, AutoEngine):
            engine, voice = (
                (speaker.fallback, plan.fallback)
                if use_fallback
                else (speaker.primary, plan.primary)
            )
            try:
                _speak_and_store(engine, voice, chunk, wanted, store, once, rate_limiter)
            except EngineError:
                continue  # keep the audio in the other voice rather than fail the stitch
        used[i] = wanted
    return used

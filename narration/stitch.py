"""Stitching: chunks in, one finished narration out (MP3 + manifest + transcript).

One encode pass, time linear in the narration's length and memory flat: chunks are stored as
PCM at the speech's own rate with their sample lengths and loudness measured at synthesis (see
:mod:`narration.synthesis`), so the stitch lays out the timeline and computes the loudness gain
from the sidecars alone, then streams each chunk's PCM, with the pauses between parts, into one
ffmpeg that applies the gain (and, when the peaks need it, a true-peak limiter) and encodes the
MP3 at the speech's own sample rate. The result is then checked in-process (decoded and
measured block by block); only when it misses the loudness target or the peak ceiling is it
encoded again with a corrected gain or a lower limit.

Timings: every part's sample length is known and the pauses are ours, so every sentence's start
and end are known to the sample; the encode keeps the rate and is gapless, so they hold in the
MP3.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from narration import mp3frames, scratch
from narration.audio import (
    CHUNK_RATE,
    decode,
    fade_edges,
    find_ffmpeg,
    read_wav,
)
from narration.encoding import encode_mp3
from narration.errors import NarrationError
from narration.loudness import (
    GainPlan,
    Loudness,
    apply_gain,
    block_size,
    dbfs,
    limiter_envelope,
    measure_blocks,
    plan_gain,
    true_peak,
)
from narration.plan import NarrationPlan
from narration.ratelimit import RateLimiter
from narration.records import (
    ChunkLoudness,
    ChunkSidecar,
    FileRef,
    Manifest,
    ManifestChapter,
    ManifestChunk,
    ManifestLoudness,
    ManifestSentence,
    StaleRecord,
    StitchSpec,
    dump,
    load,
)
from narration.settings import Settings
from narration.store import AudioStore
from narration.synthesis import stitch_keys
from narration.tags import write_tags
from narration.transcript import render_vtt

RATE = CHUNK_RATE


@dataclass(frozen=True)
class StitchResult:
    audio_key: str
    duration_ms: int
    bytes: int
    paths: dict[str, Path]
    """``mp3``, ``json`` and ``vtt`` in the store."""
    cached: bool = False
    engines: tuple[str, ...] = ()
    """Who really spoke (with engine ``auto``: gTTS, its offline fallback, or both)."""


def audio_key_for(plan: NarrationPlan, used_keys: list[str]) -> str:
    """The narration key when every chunk is the primary engine's; otherwise a key that also
    covers which chunks the fallback spoke, so fallback audio never takes the primary's name."""
    if used_keys == [c.key for c in plan.chunks]:
        return plan.narration_key
    blob = plan.narration_key + ":" + ",".join(used_keys)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _result(store: AudioStore, key: str, cached: bool) -> StitchResult:
    paths = {ext: store.audio_path(key, ext) for ext in ("mp3", "json", "vtt")}
    try:
        manifest = load(Manifest, paths["json"])
        duration, engines = manifest.duration_ms, tuple(manifest.engines)
    except StaleRecord:  # a manifest of an older format still says how long it is
        import json

        old = json.loads(paths["json"].read_text())
        duration, engines = int(old["duration_ms"]), tuple(old.get("engines") or ())
    return StitchResult(key, duration, paths["mp3"].stat().st_size, paths, cached, engines)


def stitch_narration(
    plan: NarrationPlan,
    store: AudioStore,
    settings: Settings,
    *,
    rate_limiter: RateLimiter | None = None,
) -> StitchResult:
    """Stitch the stored chunks of ``plan`` into ``<audio_key>.mp3``, ``.json`` (manifest) and
    ``.vtt`` in ``store``, atomically. Idempotent: returns the stored result when the files
    exist. Raises NarrationError if a chunk is missing. The intro and outro are taken in the
    article's voice when it can be had (see :func:`~narration.synthesis.stitch_keys`); gTTS
    is then asked through ``rate_limiter``."""
    used = stitch_keys(plan, store, settings, rate_limiter=rate_limiter)
    missing = [i for i, k in enumerate(used) if k is None]
    if missing:
        raise NarrationError(f"cannot stitch: {len(missing)} chunk(s) not synthesized yet")
    keys = [k for k in used if k is not None]
    key = audio_key_for(plan, keys)
    if store.has_audio(key):
        return _result(store, key, True)
    ffmpeg = find_ffmpeg(settings.ffmpeg_binary)
    store.root.mkdir(parents=True, exist_ok=True)
    store.remove_stale_temporaries()
    # One sidecar at a time: its measurements become compact arrays and its lists go, so
    # memory stays flat however long the narration.
    sidecars: list[ChunkSidecar] = []
    blocks: list[list[tuple[np.ndarray, np.ndarray]]] = []
    for k in keys:
        try:
            meta = store.chunk_meta(k)
        except (OSError, StaleRecord) as exc:
            raise NarrationError(f"cannot stitch: a chunk is gone or stale ({exc})") from exc
        blocks.append(_blocks_of(meta))
        sidecars.append(_without_blocks(meta))
    timeline = Timeline.of(
        plan,
        sidecars,
        _extra(ffmpeg, plan.stitch.intro_audio),
        _extra(ffmpeg, plan.stitch.outro_audio),
        blocks=blocks,
    )
    # The MP3 before publication and the check's windows live in this process's scratch
    # folder, not in the served store: a stitch killed mid-way leaves nothing there.
    workdir = scratch.own_dir(settings)
    mp3_tmp, loudness, gain = _encode(ffmpeg, store, keys, sidecars, timeline, plan.stitch, workdir)
    try:
        manifest = _manifest(plan, key, keys, sidecars, timeline, loudness, gain)
        chapters = [c.model_dump() for c in manifest.chapters]
        write_tags(mp3_tmp, plan.meta, chapters)
        store.write_atomic(store.audio_path(key, "json"), dump(manifest))
        sentences = [s.model_dump() for s in manifest.sentences]
        store.write_atomic(store.audio_path(key, "vtt"), render_vtt(sentences).encode())
        # Copied in atomically (the scratch space may be another file system); last, as the
        # MP3 is what makes the narration complete.
        store.write_atomic(store.audio_path(key, "mp3"), mp3_tmp.read_bytes())
    finally:
        mp3_tmp.unlink(missing_ok=True)
    return _result(store, key, False)


@dataclass(frozen=True)
class _Extra:
    """Intro or outro audio from the settings, decoded and measured at stitch time."""

    samples: np.ndarray
    energy: np.ndarray
    peak: np.ndarray
    true_peak: float


def _extra(ffmpeg: str, ref: FileRef | None) -> _Extra | None:
    if ref is None:
        return None
    samples = fade_edges(decode(ffmpeg, Path(ref.path), RATE), RATE)
    energy, peak = measure_blocks(samples, RATE)
    return _Extra(samples, energy, peak, true_peak(samples.astype(np.float64) / 32768.0))


@dataclass(frozen=True)
class _Audio:
    """One run of audio in the narration: part ``part`` of chunk ``chunk`` (-1: the intro or
    outro)."""

    chunk: int
    part: int
    samples: int
    energy: np.ndarray
    peak: np.ndarray


@dataclass
class Timeline:
    """Where everything goes, in samples at :data:`RATE`, known from the sidecars alone."""

    total: int
    blocks: dict[int, list[int]]
    """block index -> [start, end]."""
    chunks: list[tuple[int, int]]
    runs: list[_Audio | int]
    """In order: audio, or a pause of that many samples."""
    intro: _Extra | None
    outro: _Extra | None

    @classmethod
    def of(
        cls,
        plan: NarrationPlan,
        sidecars: list[ChunkSidecar],
        intro: _Extra | None,
        outro: _Extra | None,
        *,
        blocks: list[list[tuple[np.ndarray, np.ndarray]]] | None = None,
    ) -> Timeline:
        """``blocks``: each chunk's (energy, peak) arrays per part, when already taken out of
        the sidecars (else read from them)."""
        measured = blocks if blocks is not None else [_blocks_of(m) for m in sidecars]
        pauses = {k: RATE * int(v) // 1000 for k, v in plan.stitch.pauses_ms.items()}
        position = 0
        runs: list[_Audio | int] = []
        if intro is not None:
            runs += [_Audio(-1, 0, intro.samples.size, intro.energy, intro.peak)]
            runs += [pauses["section"]]
            position += intro.samples.size + pauses["section"]
        spans_by_block: dict[int, list[int]] = {}
        spans: list[tuple[int, int]] = []
        last_chunk = len(plan.chunks) - 1
        for n, (chunk, meta) in enumerate(zip(plan.chunks, sidecars, strict=True)):
            if len(meta.parts) != len(chunk.parts):
                raise NarrationError(f"cannot stitch: chunk {n} does not match its plan")
            start = position
            for j, (part, length) in enumerate(zip(chunk.parts, meta.parts, strict=True)):
                span = spans_by_block.setdefault(part.block, [position, position])
                energy, peak = measured[n][j]
                runs.append(_Audio(n, j, length, energy, peak))
                position += length
                span[1] = position
                if n < last_chunk or j < len(chunk.parts) - 1:
                    runs.append(pauses[part.pause])
                    position += pauses[part.pause]
            spans.append((start, position))
        if outro is not None:
            runs += [pauses["section"], _Audio(-1, 1, outro.samples.size, outro.energy, outro.peak)]
            position += pauses["section"] + outro.samples.size
        return cls(position, spans_by_block, spans, runs, intro, outro)

    def measurements(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(energy, peak) per 10 ms block of every run in order, pauses as silent blocks."""
        size = block_size(RATE)
        out = []
        for run in self.runs:
            if isinstance(run, _Audio):
                out.append((run.energy, run.peak))
            else:
                silent = np.zeros(round(run / size))
                out.append((silent, silent))
        return out


def _fit(samples: np.ndarray, expected: int) -> np.ndarray:
    if samples.size < expected:
        samples = np.concatenate([samples, np.zeros(expected - samples.size, np.int16)])
    return samples[:expected]


def _pcm(
    store: AudioStore,
    keys: list[str],
    sidecars: list[ChunkSidecar],
    timeline: Timeline,
    gain: GainPlan,
    start: int = 0,
    end: int | None = None,
) -> Iterator[bytes]:
    """The narration's PCM (s16le at :data:`RATE`), gain and limiting applied, a part at a
    time, pauses included: one chunk in memory at a time. ``start`` and ``end`` (samples)
    select a stretch of it, for an encoder of its own."""
    end = timeline.total if end is None else end
    measured = timeline.measurements()
    peaks = np.concatenate([p for _, p in measured]) if measured else np.zeros(0)
    linear = 10 ** (gain.gain_db / 20)
    envelope = (
        limiter_envelope(peaks, linear, 10 ** (gain.limit_dbfs / 20))
        if gain.limited
        else np.ones(peaks.size)
    )
    offset = 0
    position = 0
    loaded: tuple[int, np.ndarray, list[int]] | None = None
    for run, (_, peak) in zip(timeline.runs, measured, strict=True):
        env = envelope[offset : offset + peak.size]
        offset += peak.size
        length = run.samples if isinstance(run, _Audio) else run
        at, position = position, position + length
        if position <= start or at >= end:
            continue
        lo, hi = max(start - at, 0), min(end - at, length)
        if not isinstance(run, _Audio):
            yield bytes(2 * (hi - lo))
            continue
        if run.chunk < 0:
            extra = timeline.intro if run.part == 0 else timeline.outro
            assert extra is not None
            samples = extra.samples
        else:
            if loaded is None or loaded[0] != run.chunk:
                pcm = read_wav(store.chunk_path(keys[run.chunk]))
                if pcm.rate != RATE:
                    raise NarrationError(f"cannot stitch: a chunk is at {pcm.rate} Hz, not {RATE}")
                meta = sidecars[run.chunk]
                starts = [sum(meta.parts[:j]) for j in range(len(meta.parts))]
                loaded = (run.chunk, _fit(pcm.samples, meta.samples), starts)
            first = loaded[2][run.part]
            samples = loaded[1][first : first + run.samples]
        data = apply_gain(samples, RATE, linear, env).astype("<i2", copy=False)
        yield (data if (lo, hi) == (0, length) else data[lo:hi]).tobytes()


def _pauses(timeline: Timeline) -> list[tuple[int, int]]:
    """(start, end) in samples of every pause of the narration: where it may be cut."""
    found, position = [], 0
    for run in timeline.runs:
        length = run.samples if isinstance(run, _Audio) else run
        if not isinstance(run, _Audio):
            found.append((position, position + length))
        position += length
    return found


ENCODE_LOSS_LU = 0.3
"""What the MP3 measured below its PCM on speech here (the encoder's low-pass takes some of the
high frequencies that K-weighting counts most): the gain aims this much higher."""


def _blocks_of(meta: ChunkSidecar) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (np.asarray(e, dtype=np.float32), np.asarray(p, dtype=np.float32))
        for e, p in zip(meta.loudness.energy, meta.loudness.peak, strict=True)
    ]


def _without_blocks(meta: ChunkSidecar) -> ChunkSidecar:
    light = ChunkLoudness(energy=[], peak=[], true_peak=meta.loudness.true_peak)
    return meta.model_copy(update={"loudness": light})


STITCH_MARGIN_DB = 2.0
"""True-peak headroom the limiter keeps below the ceiling for the MP3 encoder, which pushed
limited speech up to 1.3 dB over its input at 64 kbps here."""
CHECKED_PLACES = 32
"""Loudest places of the encoded file whose true peak is checked."""


def _encode(
    ffmpeg: str,
    store: AudioStore,
    keys: list[str],
    sidecars: list[ChunkSidecar],
    timeline: Timeline,
    spec: StitchSpec,
    workdir: Path,
) -> tuple[Path, Loudness, GainPlan]:
    """Plan gain and limiting from the chunks' measurements, encode once, and check the true
    peak of the file at its loudest places; encode again (rarely) with a lower limit only if
    the encoder pushed a peak there over the ceiling."""
    peak = max(
        [m.loudness.true_peak for m in sidecars]
        + [x.true_peak for x in (timeline.intro, timeline.outro) if x is not None]
    )
    measured = timeline.measurements()
    margin = STITCH_MARGIN_DB
    fd, name = tempfile.mkstemp(dir=workdir, prefix="stitch-", suffix=".mp3")
    os.close(fd)
    out = Path(name)
    try:
        for _ in range(3):
            gain = plan_gain(
                measured,
                spec.target_lufs,
                spec.true_peak_dbtp,
                true_peak_dbfs=dbfs(peak),
                margin_db=margin,
                offset_lu=ENCODE_LOSS_LU,
            )
            pcm = functools.partial(_pcm, store, keys, sidecars, timeline, gain)
            encode_mp3(ffmpeg, spec, pcm, timeline.total, _pauses(timeline), out)
            checked = _loudest_true_peak(ffmpeg, out, timeline, measured, gain)
            if checked <= spec.true_peak_dbtp:
                break
            margin += checked - spec.true_peak_dbtp + 0.2
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out, Loudness(gain.predicted_lufs - ENCODE_LOSS_LU, checked), gain


def _loudest_true_peak(
    ffmpeg: str,
    path: Path,
    timeline: Timeline,
    measured: list[tuple[np.ndarray, np.ndarray]],
    gain: GainPlan,
) -> float:
    """True peak (dBTP) of the encoded file at the places where its input peaked highest: the
    encoder's overshoot follows its input's peaks. Each place's frames are cut out of the file
    and decoded on their own, in-process (:mod:`narration.mp3frames`): decoding every frame of
    a long file would cost a tenth of the encode, and ffmpeg seeking to each place re-read the
    file each time."""
    peaks = np.concatenate([p for _, p in measured]) if measured else np.zeros(0)
    if not peaks.size or not peaks.max():
        return -math.inf
    linear = 10 ** (gain.gain_db / 20)
    out = peaks * linear
    if gain.limited:
        out = out * limiter_envelope(peaks, linear, 10 ** (gain.limit_dbfs / 20))
    size = block_size(RATE)
    positions = []
    at = 0
    for run, (_, p) in zip(timeline.runs, measured, strict=True):
        positions.append(at + np.arange(p.size) * size)
        at += run.samples if isinstance(run, _Audio) else run
    starts = np.concatenate(positions)
    # The loudest blocks, one per 200 ms at most: neighbours share a window.
    places: list[float] = []
    for block in np.argsort(out)[::-1]:
        t = max(0.0, (int(starts[block]) - 2 * size) / RATE)
        if all(abs(t - p) > 0.2 for p in places):
            places.append(t)
        if len(places) == CHECKED_PLACES:
            break
    data = path.read_bytes()
    index = mp3frames.index_frames(data)
    per_frame = index.samples_per_frame
    found = 0.0
    for t in places:
        # A window of 60 ms from ``t``; the encoder's delay (1105 samples for LAME) moves it
        # later in the stream, so the frames taken reach that much further.
        first = index.first_audio + max(0, round(t * index.sample_rate) // per_frame - 1)
        if first >= len(index):
            continue
        count = -(-(round(0.06 * index.sample_rate) + ENCODER_DELAY_MAX) // per_frame) + 2
        stretch = mp3frames.standalone_stretch(data, index, first, count)
        try:
            window = mp3frames.decode_stretch(stretch)
        except RuntimeError:  # a libsndfile without MP3: ffmpeg decodes the stretch
            window = decode(ffmpeg, stretch, index.sample_rate, "mp3") / 32768.0
        window = window[mp3frames.lead_frames(index, first) * per_frame :]
        if window.size:
            found = max(found, true_peak(window.astype(np.float64)))
    return dbfs(found)


ENCODER_DELAY_MAX = 2304
"""Samples the encoder may put before the audio (LAME: 576 + 529): the checked frames reach
this much past each place."""


def _manifest(
    plan: NarrationPlan,
    key: str,
    used: list[str],
    metas: list[ChunkSidecar],
    timeline: Timeline,
    loudness: Loudness,
    gain: GainPlan,
) -> Manifest:
    def ms(samples: int) -> int:
        return round(samples * 1000 / RATE)

    sentences: list[ManifestSentence] = []
    for index, block in enumerate(plan.blocks):
        span = timeline.blocks.get(index)
        if span is None:
            continue
        sentences.append(
            ManifestSentence(
                index=index,
                kind=block.kind,
                section=block.section,
                text=block.text,
                start_ms=ms(span[0]),
                end_ms=ms(span[1]),
            )
        )
    duration = ms(timeline.total)
    starts: list[int] = []
    for n, chapter in enumerate(plan.chapters):
        found = [s.start_ms for s in sentences if s.section == chapter["section"]]
        starts.append(0 if n == 0 or not found else min(found))
    chapters = [
        ManifestChapter(
            title=chapter["title"],
            start_ms=start,
            end_ms=starts[n + 1] if n + 1 < len(starts) else duration,
        )
        for n, (chapter, start) in enumerate(zip(plan.chapters, starts, strict=True))
    ]
    return Manifest(
        audio_key=key,
        narration_key=plan.narration_key,
        duration_ms=duration,
        engine=plan.engine,
        engines=sorted({m.engine for m in metas}),
        voice=plan.voice,
        lang=plan.lang,
        title=plan.meta.get("title"),
        sample_rate=plan.stitch.sample_rate,
        bitrate_kbps=plan.stitch.bitrate_kbps,
        loudness=ManifestLoudness(
            integrated_lufs=loudness.integrated_lufs,
            true_peak_dbtp=loudness.true_peak_dbtp,
            gain_db=round(gain.gain_db, 2),
        ),
        chunks=[
            ManifestChunk(
                index=c.index,
                key=k,
                primary_key=c.key,
                engine=m.engine,
                engine_version=m.engine_version,
                voice=m.voice,
                start_ms=ms(span[0]),
                end_ms=ms(span[1]),
            )
            for c, k, m, span in zip(plan.chunks, used, metas, timeline.chunks, strict=True)
        ],
        chapters=chapters,
        sentences=sentences,
    )

"""Stitching: chunks in, one finished narration out (MP3 + manifest + transcript).

Time and memory are linear in the narration's length and memory is bounded by a few batches of
chunks, not the article: each chunk is decoded once (by ffmpeg, several chunks per process,
format and codec given so no ffprobe is needed), its parts and the silences between them are
appended to one raw PCM file, then ffmpeg measures that file (pass one) and encodes it once
with the loudness gain and a true-peak limiter (pass two), and the result's loudness is
checked; if the true peak came out above the ceiling, the encode is redone with a lower limit.

Timings: the sidecar of every chunk records each part's exact sample length and the pauses are
ours, so every sentence's start and end are known to the sample in the raw file; resampling and
the gapless MP3 encode keep positions, so they hold in the MP3 to within a few milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from narration import scratch
from narration.audio import CHUNK_RATE, decode, find_ffmpeg, run_ffmpeg
from narration.errors import NarrationError
from narration.loudness import Loudness, Normalization, measure, plan_normalization
from narration.plan import NarrationPlan
from narration.ratelimit import RateLimiter
from narration.settings import Settings
from narration.store import AudioStore
from narration.synthesis import stitch_keys
from narration.tags import write_tags
from narration.transcript import MANIFEST_FORMAT, render_vtt

RATE = CHUNK_RATE
_RAW = ["-f", "s16le", "-ar", str(RATE), "-ac", "1"]


@dataclass(frozen=True)
class StitchResult:
    audio_key: str
    duration_ms: int
    bytes: int
    paths: dict[str, Path]
    """``mp3``, ``json`` and ``vtt`` in the store."""
    cached: bool = False


def audio_key_for(plan: NarrationPlan, used_keys: list[str]) -> str:
    """The narration key when every chunk is the primary engine's; otherwise a key that also
    covers which chunks the fallback spoke, so fallback audio never takes the primary's name."""
    if used_keys == [c.key for c in plan.chunks]:
        return plan.narration_key
    blob = plan.narration_key + ":" + ",".join(used_keys)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _result(store: AudioStore, key: str, cached: bool) -> StitchResult:
    paths = {ext: store.audio_path(key, ext) for ext in ("mp3", "json", "vtt")}
    manifest = json.loads(paths["json"].read_text())
    return StitchResult(
        key, int(manifest["duration_ms"]), paths["mp3"].stat().st_size, paths, cached
    )


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
    spec = plan.stitch
    store.root.mkdir(parents=True, exist_ok=True)
    store.remove_stale_temporaries()
    # The raw PCM and the MP3 before publication live in this process's scratch folder, not in
    # the served store: a stitch killed mid-way leaves nothing there (see narration.scratch).
    fd, raw_name = tempfile.mkstemp(dir=scratch.own_dir(settings), prefix="stitch-", suffix=".raw")
    raw = Path(raw_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            timeline = _assemble(plan, store, keys, ffmpeg, fh, workdir=raw.parent)
        measured = measure(ffmpeg, raw, _RAW, true_peak=False)
        norm = plan_normalization(measured, spec["target_lufs"], spec["true_peak_dbtp"])
        mp3_tmp, loudness, norm = _encode(ffmpeg, raw, measured, norm, spec)
    finally:
        raw.unlink(missing_ok=True)
    try:
        manifest = _manifest(plan, key, keys, store, timeline, loudness, norm)
        chapters = manifest["chapters"]
        write_tags(mp3_tmp, plan.meta, chapters)
        store.write_atomic(
            store.audio_path(key, "json"),
            json.dumps(manifest, indent=1, ensure_ascii=False).encode(),
        )
        store.write_atomic(store.audio_path(key, "vtt"), render_vtt(manifest["sentences"]).encode())
        # Copied in atomically (the scratch space may be another file system); last, as the
        # MP3 is what makes the narration complete.
        store.write_atomic(store.audio_path(key, "mp3"), mp3_tmp.read_bytes())
    finally:
        mp3_tmp.unlink(missing_ok=True)
    return _result(store, key, False)


@dataclass
class _Timeline:
    total: int
    blocks: dict[int, list[int]]
    """block index -> [start, end] in samples."""
    chunks: list[tuple[int, int]]


DECODE_BATCH = 8
"""Chunks decoded by one ffmpeg process: starting ffmpeg costs more CPU than decoding a short
chunk, and memory stays bounded by a few batches rather than by the article."""


def _fit(samples: np.ndarray, expected: int) -> np.ndarray:
    # Gapless decoding gives back what was encoded, give or take a few samples of encoder
    # padding the LAME header does not account for; cut or pad to the sidecar's length so
    # part boundaries hold.
    if samples.size < expected:
        samples = np.concatenate([samples, np.zeros(expected - samples.size, np.int16)])
    return samples[:expected]


def decode_chunks(
    store: AudioStore, keys: list[str], ffmpeg: str, *, workdir: Path | None = None
) -> list[np.ndarray]:
    """Decode the chunks ``keys`` with one ffmpeg, as they come (not fitted to the sidecar).
    Each chunk is its own input, demuxed alone so its gapless header applies exactly as when
    decoded by itself, mapped to its own raw output (in ``workdir``, else the store's root)."""
    args: list[str] = []
    for key in keys:
        # The fixed-point decoder, named as pydub named it, so output matches earlier stitches.
        args += ["-f", "mp3", "-c:a", "mp3", "-i", str(store.chunk_path(key))]
    with store.temp_dir(workdir or store.root, "stitch-decode") as tmp:
        outputs = [Path(tmp) / f"{n}.raw" for n in range(len(keys))]
        for n, out in enumerate(outputs):
            args += ["-map", f"{n}:a", "-ac", "1", "-ar", str(RATE), "-f", "s16le"]
            args += ["-c:a", "pcm_s16le", str(out)]
        run_ffmpeg(ffmpeg, args)
        return [np.fromfile(out, dtype="<i2") for out in outputs]


def _decode_batch(
    store: AudioStore, keys: list[str], ffmpeg: str, workdir: Path | None = None
) -> list[tuple[np.ndarray, list[int]]]:
    metas = [store.chunk_meta(k) for k in keys]
    decoded = decode_chunks(store, keys, ffmpeg, workdir=workdir)
    return [
        (_fit(samples, int(meta["samples"])), [int(n) for n in meta["parts"]])
        for samples, meta in zip(decoded, metas, strict=True)
    ]


def _decoded(
    store: AudioStore, keys: list[str], ffmpeg: str, workdir: Path | None = None
) -> Iterator[tuple[np.ndarray, list[int]]]:
    """Chunks decoded a batch at a time, two ffmpeg processes at once, yielded in order, with
    at most three batches in memory."""
    batches = [keys[i : i + DECODE_BATCH] for i in range(0, len(keys), DECODE_BATCH)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending = [pool.submit(_decode_batch, store, b, ffmpeg, workdir) for b in batches[:2]]
        next_batch = len(pending)
        while pending:
            results = pending.pop(0).result()
            if next_batch < len(batches):
                pending.append(
                    pool.submit(_decode_batch, store, batches[next_batch], ffmpeg, workdir)
                )
                next_batch += 1
            yield from results


def _assemble(
    plan: NarrationPlan,
    store: AudioStore,
    keys: list[str],
    ffmpeg: str,
    out: BinaryIO,
    workdir: Path | None = None,
) -> _Timeline:
    pauses = {k: RATE * int(v) // 1000 for k, v in plan.stitch["pauses_ms"].items()}
    position = 0
    blocks: dict[int, list[int]] = {}
    chunk_spans: list[tuple[int, int]] = []

    def write(samples: np.ndarray) -> None:
        nonlocal position
        out.write(samples.astype("<i2", copy=False).tobytes())
        position += int(samples.size)

    def silence(n: int) -> None:
        if n > 0:
            write(np.zeros(n, np.int16))

    intro = plan.stitch.get("intro_audio")
    if intro:
        write(decode(ffmpeg, Path(intro["path"]), RATE))
        silence(pauses["section"])
    last_chunk = len(plan.chunks) - 1
    for n, (chunk, (samples, lengths)) in enumerate(
        zip(plan.chunks, _decoded(store, keys, ffmpeg, workdir), strict=True)
    ):
        start = position
        offset = 0
        for j, (part, length) in enumerate(zip(chunk.parts, lengths, strict=True)):
            span = blocks.setdefault(part.block, [position, position])
            write(samples[offset : offset + length])
            offset += length
            span[1] = position
            if n < last_chunk or j < len(chunk.parts) - 1:
                silence(pauses[part.pause])
        chunk_spans.append((start, position))
    outro = plan.stitch.get("outro_audio")
    if outro:
        silence(pauses["section"])
        write(decode(ffmpeg, Path(outro["path"]), RATE))
    return _Timeline(position, blocks, chunk_spans)


DRY_RUN_TOLERANCE = 0.25
FILE_TOLERANCE = 0.5
"""LU off target accepted after a dry run and in the file (the product promises 1)."""
ENCODE_LOSS_LU = 0.3
"""What the file measured below its dry run on speech here (the encoder's low-pass takes some
of the high frequencies that K-weighting counts most): the dry runs aim this much higher."""


def _encode(
    ffmpeg: str, raw: Path, measured: Loudness, norm: Normalization, spec: dict[str, Any]
) -> tuple[Path, Loudness, Normalization]:
    """Settle gain and limit on dry runs (filters and measurement at the working rate, no
    encode), encode once, and check the file; encode again only if the file misses.

    The limiter watches sample peaks and takes loudness away when it works hard, so a gain
    computed from the unprocessed measurement undershoots; the dry runs correct it by the
    measured miss divided by the observed slope (loudness gained per dB of gain). In the
    encode the limiter runs at the output rate, where inter-sample peaks are smaller than at
    the working rate; its margin below the ceiling covers the rest."""
    ceiling = float(spec["true_peak_dbtp"])
    target = float(spec["target_lufs"])
    norm = _settle(ffmpeg, raw, measured, norm, target + ENCODE_LOSS_LU)
    fd, name = tempfile.mkstemp(dir=raw.parent, prefix=".stitch-", suffix=".mp3")
    os.close(fd)
    out = Path(name)
    try:
        for _ in range(3):
            chain = f"aresample={spec['sample_rate']},{norm.filters()}"
            args = [
                *_RAW,
                "-i",
                str(raw),
                "-af",
                chain,
                "-ar",
                str(spec["sample_rate"]),
                "-ac",
                "1",
            ]
            args += ["-c:a", "libmp3lame", "-b:a", f"{spec['bitrate_kbps']}k"]
            args += ["-id3v2_version", "0", "-y", "-f", "mp3", str(out)]
            run_ffmpeg(ffmpeg, args)
            result = measure(ffmpeg, out)
            if result.true_peak_dbtp > ceiling:
                excess = result.true_peak_dbtp - ceiling + 0.2
                norm = Normalization(norm.gain_db, norm.limit_dbfs - excess)
            elif norm.gain_db and abs(result.integrated_lufs - target) > FILE_TOLERANCE:
                norm = Normalization(
                    norm.gain_db + target - result.integrated_lufs, norm.limit_dbfs
                )
            else:
                break
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out, result, norm


def _settle(
    ffmpeg: str, raw: Path, measured: Loudness, norm: Normalization, target: float
) -> Normalization:
    """Dry runs at the working rate, measuring loudness only: the limiter's effect on loudness
    hardly depends on the rate, and the true peak is checked on the encoded file."""
    last = (0.0, measured.integrated_lufs)
    for n in range(5):
        trial = measure(ffmpeg, raw, _RAW, norm.filters(), true_peak=False)
        miss = target - trial.integrated_lufs
        if not norm.gain_db or abs(miss) <= DRY_RUN_TOLERANCE:
            break
        if n == 0:
            # Without limiting, loudness follows gain 1:1; what the limiter took on the first
            # step says how steeply it will keep taking.
            lost = measured.integrated_lufs + norm.gain_db - trial.integrated_lufs
            slope = 1.0 if lost < 0.3 else 0.6
        else:
            slope = (trial.integrated_lufs - last[1]) / (norm.gain_db - last[0] or 1.0)
        last = (norm.gain_db, trial.integrated_lufs)
        norm = Normalization(norm.gain_db + miss / min(1.0, max(0.3, slope)), norm.limit_dbfs)
    return norm


def _manifest(
    plan: NarrationPlan,
    key: str,
    used: list[str],
    store: AudioStore,
    timeline: _Timeline,
    loudness: Loudness,
    norm: Normalization,
) -> dict[str, Any]:
    def ms(samples: int) -> int:
        return round(samples * 1000 / RATE)

    metas = [store.chunk_meta(k) for k in used]
    engines = [str(m.get("engine")) for m in metas]
    sentences: list[dict[str, Any]] = []
    for index, block in enumerate(plan.blocks):
        span = timeline.blocks.get(index)
        if span is None:
            continue
        sentences.append(
            {
                "index": index,
                "kind": block.kind,
                "section": block.section,
                "text": block.text,
                "start_ms": ms(span[0]),
                "end_ms": ms(span[1]),
            }
        )
    duration = ms(timeline.total)
    chapters: list[dict[str, Any]] = []
    for n, chapter in enumerate(plan.chapters):
        starts = [s["start_ms"] for s in sentences if s["section"] == chapter["section"]]
        start = min(starts) if starts else 0
        if n == 0:
            start = 0
        chapters.append({"title": chapter["title"], "start_ms": start})
    for n, chapter in enumerate(chapters):
        chapter["end_ms"] = chapters[n + 1]["start_ms"] if n + 1 < len(chapters) else duration
    return {
        "format": MANIFEST_FORMAT,
        "audio_key": key,
        "narration_key": plan.narration_key,
        "duration_ms": duration,
        "engine": plan.engine,
        "engines": sorted(set(engines)),
        "voice": plan.voice,
        "lang": plan.lang,
        "title": plan.meta.get("title"),
        "sample_rate": plan.stitch["sample_rate"],
        "bitrate_kbps": plan.stitch["bitrate_kbps"],
        "loudness": {
            "integrated_lufs": loudness.integrated_lufs,
            "true_peak_dbtp": loudness.true_peak_dbtp,
            "gain_db": round(norm.gain_db, 2),
        },
        "chunks": [
            {
                "index": c.index,
                "key": k,
                "primary_key": c.key,
                "engine": e,
                "engine_version": m.get("engine_version"),
                "voice": m.get("voice"),
                "start_ms": ms(span[0]),
                "end_ms": ms(span[1]),
            }
            for c, k, e, m, span in zip(
                plan.chunks, used, engines, metas, timeline.chunks, strict=True
            )
        ],
        "chapters": chapters,
        "sentences": sentences,
    }

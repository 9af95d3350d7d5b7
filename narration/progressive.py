"""Progressive playback: an HLS playlist of the chunks synthesized so far.

While a narration is being made, a listener can already hear its beginning: the playlist lists
one segment per stored chunk, contiguous from the first (it stops at the first chunk not yet
synthesized), grows as chunks finish, and is closed with ``#EXT-X-ENDLIST`` once all are
there. The single stitched MP3 replaces it when ready; the stream is only a preview of it.

A segment is one chunk decoded (whatever format the store holds it in: ffmpeg detects it),
with the plan's pauses inside and after it, brought to the narration's target loudness, and
encoded as AAC in MPEG-TS, which every HLS player plays (Safari natively, hls.js through MSE).

Positions match the final MP3's: segment boundaries are where the stitcher puts each chunk,
rounded to a whole AAC frame (1024 samples, 23 ms), so the player can switch to the MP3 at
the same place. Each segment's timestamps start at its boundary; the encoder's priming frame
falls in the previous segment's last frame (trailing pause silence), which players drop or
overlap, so segments join without gaps. Frame-rounding moves a boundary by at most half a
frame and never accumulates.

Segments are content-addressed (the name is a hash of everything that makes their bytes),
built on first request, written atomically under ``<store>/segments/`` and never changed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import wave
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from narration.audio import CHUNK_RATE, decode, find_ffmpeg, run_ffmpeg
from narration.loudness import Loudness, integrated_lufs, measure_blocks, plan_normalization
from narration.plan import NarrationPlan
from narration.settings import Settings
from narration.store import AudioStore

SEGMENT_FORMAT = 1
"""Bump when the way segments are made changes: it changes every segment's name."""
SEGMENT_RATE = 44_100
AAC_FRAME = 1024
SEGMENT_BITRATE_KBPS = 64
TS_BASE = 10 * SEGMENT_RATE
"""Timestamps start 10 s in, so the first segment's priming frame has room before it (MPEG-TS
has no negative time); players measure from the first segment's start."""
MEDIA_TYPE = "application/vnd.apple.mpegurl"
SEGMENT_MEDIA_TYPE = "video/mp2t"


@dataclass(frozen=True)
class Segment:
    index: int
    """The chunk's index in the plan."""
    chunk_key: str
    """The key the chunk is stored under (the primary engine's or the fallback's)."""
    start: int
    end: int
    """Boundaries in samples at :data:`SEGMENT_RATE`, whole AAC frames."""
    digest: str

    @property
    def name(self) -> str:
        return f"{self.index}-{self.digest}"

    @property
    def duration_s(self) -> float:
        return (self.end - self.start) / SEGMENT_RATE


def _field(record: Any, name: str, default: Any = None) -> Any:
    """A field of a sidecar or of the plan's stitch settings, whether stored as a plain dict or
    as a typed record."""
    if isinstance(record, dict):
        return record.get(name, default)
    return getattr(record, name, default)


def chunk_rate(meta: Any) -> int:
    """The sample rate a chunk's sidecar counts its samples in."""
    return int(_field(meta, "sample_rate") or _field(meta, "rate") or CHUNK_RATE)


def _pause_samples(plan: NarrationPlan, hint: str, rate: int) -> int:
    return rate * int(_field(plan.stitch, "pauses_ms")[hint]) // 1000


def _chunk_span(plan: NarrationPlan, index: int, meta: Any) -> Fraction:
    """Seconds the chunk takes in the stitched file: its parts and the pauses the stitcher puts
    after each (none after the narration's last part)."""
    rate = chunk_rate(meta)
    chunk = plan.chunks[index]
    last = index == len(plan.chunks) - 1
    samples = int(_field(meta, "samples"))
    for j, part in enumerate(chunk.parts):
        if not last or j < len(chunk.parts) - 1:
            samples += _pause_samples(plan, part.pause, rate)
    return Fraction(samples, rate)


def _frame_boundary(seconds: Fraction) -> int:
    return round(seconds * SEGMENT_RATE / AAC_FRAME) * AAC_FRAME


def ready_segments(plan: NarrationPlan, store: AudioStore) -> list[Segment]:
    """The segments of the chunks stored so far, contiguous from the first chunk."""
    segments: list[Segment] = []
    position = Fraction(0)
    start = 0
    for index in range(len(plan.chunks)):
        key = store.stored_key(plan, index)
        if key is None:
            break
        try:
            meta = store.chunk_meta(key)
        except (OSError, ValueError):
            break
        position += _chunk_span(plan, index, meta)
        end = max(start + AAC_FRAME, _frame_boundary(position))
        segments.append(Segment(index, key, start, end, _digest(plan, index, key, start, end)))
        start = end
    return segments


def _digest(plan: NarrationPlan, index: int, key: str, start: int, end: int) -> str:
    chunk = plan.chunks[index]
    material = {
        "format": SEGMENT_FORMAT,
        "chunk": key,
        "pauses": [_pause_samples(plan, p.pause, 1000) for p in chunk.parts],
        "last": index == len(plan.chunks) - 1,
        "start": start,
        "end": end,
        "target_lufs": _field(plan.stitch, "target_lufs"),
        "true_peak_dbtp": _field(plan.stitch, "true_peak_dbtp"),
        "codec": ["aac", SEGMENT_RATE, SEGMENT_BITRATE_KBPS, TS_BASE],
    }
    blob = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def is_complete(plan: NarrationPlan, segments: list[Segment]) -> bool:
    return len(segments) == len(plan.chunks)


def render_playlist(
    plan: NarrationPlan, segments: list[Segment], uri: Callable[[Segment], str]
) -> str:
    """The HLS media playlist (an ``EVENT`` playlist: segments are only ever added)."""
    target = max([1, *(math.ceil(s.duration_s) for s in segments)])
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:EVENT",
        # A listener starts at the beginning of the article, not at the live edge.
        "#EXT-X-START:TIME-OFFSET=0,PRECISE=YES",
    ]
    for segment in segments:
        lines.append(f"#EXTINF:{segment.duration_s:.5f},")
        lines.append(uri(segment))
    if is_complete(plan, segments):
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def segments_dir(store: AudioStore) -> Path:
    return store.root / "segments"


def segment_path(store: AudioStore, segment: Segment) -> Path:
    return segments_dir(store) / f"{segment.digest}.ts"


def find_segment(plan: NarrationPlan, store: AudioStore, name: str) -> Segment | None:
    """The ready segment called ``name`` (``<index>-<digest>``), if it is one of the plan's."""
    index_text, _, digest = name.partition("-")
    if not index_text.isdigit() or int(index_text) >= len(plan.chunks):
        return None
    segments = ready_segments(plan, store)
    index = int(index_text)
    if index >= len(segments) or segments[index].digest != digest:
        return None
    return segments[index]


def build_segment(
    plan: NarrationPlan, store: AudioStore, segment: Segment, settings: Settings
) -> Path:
    """The segment's file, made now if it is not in the store yet."""
    path = segment_path(store, segment)
    if path.is_file():
        return path
    ffmpeg = segment_ffmpeg(settings.ffmpeg_binary)
    meta = store.chunk_meta(segment.chunk_key)
    rate = chunk_rate(meta)
    source = store.chunk_path(segment.chunk_key)
    samples = _read_wav(source, rate)
    if samples is None:  # MP3, FLAC, ...: ffmpeg finds out which
        samples = decode(ffmpeg, source, rate)
    expected = int(_field(meta, "samples"))
    if samples.size < expected:
        samples = np.concatenate([samples, np.zeros(expected - samples.size, np.int16)])
    pcm = _with_pauses(plan, segment.index, samples[:expected], meta, rate)
    folder = segments_dir(store)
    with store.temp_dir(folder, "segment") as tmp:
        raw = Path(tmp) / "chunk.raw"
        raw.write_bytes(pcm.astype("<i2").tobytes())
        pcm_args = ["-f", "s16le", "-ar", str(rate), "-ac", "1"]
        loudness = Loudness(_integrated_lufs(meta, pcm, rate), math.nan)
        norm = plan_normalization(
            loudness,
            float(_field(plan.stitch, "target_lufs")),
            float(_field(plan.stitch, "true_peak_dbtp")),
        )
        length = segment.end - segment.start
        chain = (
            f"aresample={SEGMENT_RATE},{norm.filters()},"
            f"apad=whole_len={length},atrim=end_sample={length}"
        )
        out = Path(tmp) / "segment.ts"
        args = [*pcm_args, "-i", str(raw), "-af", chain, "-ar", str(SEGMENT_RATE), "-ac", "1"]
        args += ["-c:a", "aac", "-b:a", f"{SEGMENT_BITRATE_KBPS}k"]
        args += ["-output_ts_offset", f"{(TS_BASE + segment.start) / SEGMENT_RATE:.6f}"]
        args += ["-muxdelay", "0", "-muxpreload", "0", "-f", "mpegts", "-y", str(out)]
        run_ffmpeg(ffmpeg, args)
        os.chmod(out, 0o644)
        os.replace(out, path)
    return path


def segment_ffmpeg(configured: str | None) -> str:
    """The ffmpeg that makes segments: the configured one, else the static build of the
    ``imageio-ffmpeg`` wheel, which starts in a fifth of the time of a distribution's
    dynamically linked ffmpeg (measured here: 28 ms against 144 ms per run) -- two runs per
    segment stand between a listener and the first audio."""
    if configured:
        return find_ffmpeg(configured)
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        return find_ffmpeg(None)


def _read_wav(path: Path, rate: int) -> np.ndarray | None:
    """The samples of a mono 16-bit WAV chunk at ``rate``, read here rather than by starting
    ffmpeg (a segment is on a listener's critical path); ``None`` for anything else."""
    with path.open("rb") as fh:
        if fh.read(4) != b"RIFF":
            return None
    try:
        with wave.open(str(path), "rb") as wav:
            if (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) != (1, 2, rate):
                return None
            return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").copy()
    except (wave.Error, EOFError):
        return None


def _integrated_lufs(meta: Any, pcm: np.ndarray, rate: int) -> float:
    """The chunk's loudness: from its sidecar when synthesis measured it as one figure, else
    measured here (in-process: a segment is on a listener's critical path, an ffmpeg run
    costs ~0.1 s). ``nan`` when too short to measure, which leaves the gain at 0."""
    stored = _field(meta, "integrated_lufs")
    if stored is None and _field(meta, "loudness") is not None:
        stored = _field(_field(meta, "loudness"), "integrated_lufs")
    if isinstance(stored, int | float):
        return float(stored)
    # A chunk stored before synthesis measured it as one figure: the same BS.1770 measure the
    # stitch uses, on the chunk's own samples.
    measured = integrated_lufs(measure_blocks(pcm, rate)[0])
    return measured if math.isfinite(measured) else math.nan


def _with_pauses(
    plan: NarrationPlan, index: int, samples: np.ndarray, meta: Any, rate: int
) -> np.ndarray:
    """The chunk's parts with the stitcher's pauses between and after them."""
    chunk = plan.chunks[index]
    lengths = [int(n) for n in _field(meta, "parts") or [samples.size]]
    if len(lengths) != len(chunk.parts):
        lengths = [samples.size] + [0] * (len(chunk.parts) - 1)
    last = index == len(plan.chunks) - 1
    pieces: list[np.ndarray] = []
    offset = 0
    for j, (part, length) in enumerate(zip(chunk.parts, lengths, strict=True)):
        pieces.append(samples[offset : offset + length])
        offset += length
        if not last or j < len(chunk.parts) - 1:
            pieces.append(np.zeros(_pause_samples(plan, part.pause, rate), np.int16))
    return np.concatenate(pieces) if pieces else samples


def first_audio_ready(store: AudioStore, narration_key: str) -> bool:
    """True when the narration's plan is stored and its first chunk is: a stream can start."""
    try:
        plan = store.load_plan(narration_key)
    except (OSError, ValueError, KeyError):
        return False
    return bool(plan.chunks) and store.stored_key(plan, 0) is not None

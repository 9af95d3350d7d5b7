"""ffmpeg, found once and used the same way everywhere: decode to PCM, encode MP3.

Either ffmpeg works: the system one (preferred when present: it usually has ffprobe and
distribution security updates) or the static one in the ``imageio-ffmpeg`` wheel, which has no
ffprobe -- so nothing here relies on ffprobe: formats and codecs are always passed explicitly.
Engine answers are decoded in-process (libsndfile) and chunks kept as WAV; pydub is not used,
for the measured reasons in docs/audio-pipeline.md.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from narration.errors import NarrationError

CHUNK_RATE = 24_000
"""Chunks are stored at one rate whatever spoke them (gTTS answers at 24 kHz), so an article
spoken partly by a fallback engine joins without resampling at stitch time."""
CHUNK_SUFFIX = "wav"
"""Chunks are kept as 16-bit PCM WAV: the stitch reads them without decoding (FLAC halves the
size but costs ~50 ms per 2 minutes to write and ~60 ms to read, on the stitch's critical
path; see docs/audio-pipeline.md), and ffmpeg or any player reads them as they are."""
FADE_MS = 5
"""Every spoken part fades in and out over this long: trimming cuts speech at an arbitrary
sample, and a jump from there to the pause's silence would click."""


class AudioToolError(NarrationError):
    """ffmpeg is missing or failed on audio we made ourselves."""


@dataclass(frozen=True)
class Pcm:
    """Mono signed 16-bit samples at ``rate``."""

    samples: np.ndarray
    rate: int

    @property
    def duration_ms(self) -> float:
        return 1000.0 * len(self.samples) / self.rate


def find_ffmpeg(configured: str | None = None) -> str:
    """``configured`` if given (a path or a name on PATH), else the system ffmpeg, else the
    one shipped in the imageio-ffmpeg wheel."""
    return _find_ffmpeg(configured)


@lru_cache(maxsize=8)
def _find_ffmpeg(configured: str | None) -> str:
    if configured:
        found = shutil.which(configured)
        if not found:
            raise AudioToolError(f"ffmpeg not found at {configured!r}", field="ffmpeg_binary")
        return found
    system = shutil.which("ffmpeg")
    if system:
        return system
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def run_ffmpeg(ffmpeg: str, args: list[str], data: bytes | None = None) -> bytes:
    """Run ffmpeg quietly; return stdout; raise with ffmpeg's last error line on failure."""
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", *args]
    proc = subprocess.run(cmd, input=data, capture_output=True, check=False)
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        raise AudioToolError(f"ffmpeg failed: {lines[-1] if lines else proc.returncode}")
    return proc.stdout


def decode(
    ffmpeg: str,
    source: bytes | Path,
    rate: int,
    fmt: str | None = None,
    *,
    raw_rate: int | None = None,
) -> np.ndarray:
    """Decode ``source`` (bytes of format ``fmt``, or a file) to mono int16 at ``rate``.
    ``raw_rate`` is the rate of headerless ``s16le`` input."""
    args: list[str] = []
    if fmt:
        args += ["-f", fmt]
    if raw_rate:
        args += ["-ar", str(raw_rate), "-ac", "1"]
    if isinstance(source, Path):
        args += ["-i", str(source)]
        data = None
    else:
        args += ["-i", "pipe:0"]
        data = source
    args += ["-vn", "-ac", "1", "-ar", str(rate), "-f", "s16le", "-c:a", "pcm_s16le", "pipe:1"]
    out = run_ffmpeg(ffmpeg, args, data)
    return np.frombuffer(out, dtype="<i2").copy()


def encode_mp3(
    ffmpeg: str,
    pcm: Pcm,
    bitrate_kbps: int,
    rate: int | None = None,
    *,
    workdir: Path | None = None,
) -> bytes:
    """Encode mono PCM to a CBR MP3 with the LAME header that makes decoding gapless.

    ffmpeg writes that header (encoder delay and padding) by seeking back when it finishes, so
    the encode goes to a temporary file, in ``workdir`` when given (the audio store passes its
    own, whose stale-temporary sweep then covers a killed encode): piped output lacks the
    header and decodes ~50 ms long."""
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".encode-", suffix=".tmp", dir=workdir) as tmp:
        out = Path(tmp) / "out.mp3"
        args = ["-f", "s16le", "-ar", str(pcm.rate), "-ac", "1", "-i", "pipe:0"]
        args += ["-ar", str(rate or pcm.rate), "-c:a", "libmp3lame", "-b:a", f"{bitrate_kbps}k"]
        args += ["-id3v2_version", "0", "-f", "mp3", "-y", str(out)]
        run_ffmpeg(ffmpeg, args, pcm.samples.astype("<i2").tobytes())
        return out.read_bytes()


def resample(ffmpeg: str, pcm: Pcm, rate: int) -> Pcm:
    """``pcm`` at ``rate``, resampled in-process (a polyphase filter: no ffmpeg process per
    sentence)."""
    if pcm.rate == rate:
        return pcm
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(rate, pcm.rate)
    out = resample_poly(pcm.samples.astype(np.float32), rate // g, pcm.rate // g)
    return Pcm(np.clip(np.round(out), -32768, 32767).astype(np.int16), rate)


def decode_mp3(ffmpeg: str, mp3: bytes, rate: int) -> np.ndarray:
    """Decode one MP3 (an engine's answer) to mono int16 at ``rate``: in-process with
    libsndfile's mpg123 (gapless, ~3 ms for a sentence), else with an ffmpeg process (~30-100
    ms) when libsndfile cannot read it."""
    import soundfile

    try:
        data, found = soundfile.read(io.BytesIO(mp3), dtype="int16", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        return decode(ffmpeg, mp3, rate, "mp3")
    samples = data.mean(axis=1).astype(np.int16) if data.shape[1] > 1 else data[:, 0]
    if found != rate:
        return resample(ffmpeg, Pcm(samples, found), rate).samples
    return np.ascontiguousarray(samples)


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """Mono 16-bit PCM WAV of ``samples``."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2", copy=False).tobytes())
    return buffer.getvalue()


def read_wav(path: Path) -> Pcm:
    """A mono 16-bit WAV as written by :func:`wav_bytes`."""
    with wave.open(str(path), "rb") as src:
        if src.getnchannels() != 1 or src.getsampwidth() != 2:
            raise AudioToolError(f"{path.name}: not mono 16-bit PCM")
        rate = src.getframerate()
        data = src.readframes(src.getnframes())
    return Pcm(np.frombuffer(data, dtype="<i2"), rate)


def fade_edges(samples: np.ndarray, rate: int, ms: int = FADE_MS) -> np.ndarray:
    """``samples`` with a raised-cosine fade-in and fade-out of ``ms`` each (a copy)."""
    n = min(rate * ms // 1000, samples.size // 2)
    if n <= 0:
        return samples.copy()
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n, endpoint=False))
    out = samples.astype(np.float32)
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return np.round(out).astype(np.int16)


def trim_silence(
    samples: np.ndarray,
    rate: int,
    threshold_db: float = -45.0,
    keep_ms: int = 15,
    floor_db: float = -80.0,
) -> np.ndarray:
    """Drop the silence engines put before and after speech, keeping ``keep_ms`` so soft onsets
    and word endings survive; the stitcher then adds pauses of its own, even everywhere.

    What is kept never starts or ends in digital silence (samples at or below ``floor_db``):
    eSpeak stops a final plosive's burst mid-sound and writes zeros after it, and a fade laid
    on those zeros would leave the burst's edge as a click. Ending where the sound does puts
    :func:`fade_edges` on the sound itself."""
    if samples.size == 0:
        return samples
    level = np.abs(samples.astype(np.int32))
    loud = np.flatnonzero(level > 32768.0 * 10 ** (threshold_db / 20))
    if loud.size == 0:
        return samples[:0]
    audible = np.flatnonzero(level > 32768.0 * 10 ** (floor_db / 20))
    keep = rate * keep_ms // 1000
    start = max(int(audible[0]), int(loud[0]) - keep)
    end = min(int(audible[-1]) + 1, int(loud[-1]) + 1 + keep)
    return samples[start:end]

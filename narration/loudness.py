"""Two-pass loudness normalization: measure the whole narration, then apply one gain and a
true-peak limiter inside the single MP3 encode.

Measuring uses ffmpeg's ``ebur128`` scanner (ITU-R BS.1770 integrated loudness and 4x
oversampled true peak). ffmpeg's one-pass ``loudnorm`` is avoided: it resamples to 192 kHz and
misses the target by more than an LU on speech.
"""

from __future__ import annotations

import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from narration.audio import AudioToolError

LIMITER_MARGIN_DB = 1.5
"""Headroom the limiter keeps below the true-peak ceiling: it limits sample peaks, and both
inter-sample peaks and the MP3 encoder can overshoot them."""
SILENCE_LUFS = -70.0


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_dbtp: float
    """``nan`` when not measured (the 4x oversampling costs twice the loudness scan)."""


@dataclass(frozen=True)
class Normalization:
    gain_db: float
    limit_dbfs: float
    """Sample-peak ceiling handed to the limiter."""

    def filters(self) -> str:
        """The ffmpeg audio filter chain that applies it."""
        limit = min(1.0, max(0.0625, 10 ** (self.limit_dbfs / 20)))
        return (
            f"volume={self.gain_db:.2f}dB,"
            f"alimiter=limit={limit:.4f}:level=disabled:latency=1:attack=5:release=80"
        )


def plan_normalization(
    measured: Loudness,
    target_lufs: float,
    ceiling_dbtp: float,
    margin_db: float = LIMITER_MARGIN_DB,
) -> Normalization:
    """Gain that brings ``measured`` to ``target_lufs``; the limiter ceiling that keeps true
    peaks at or below ``ceiling_dbtp``. Silence gets no gain (there is nothing to measure)."""
    if not math.isfinite(measured.integrated_lufs) or measured.integrated_lufs <= SILENCE_LUFS:
        return Normalization(0.0, ceiling_dbtp - margin_db)
    gain = target_lufs - measured.integrated_lufs
    return Normalization(round(gain, 2), ceiling_dbtp - margin_db)


_I = re.compile(r"^\s*I:\s+(-?[\d.]+|-inf|nan)\s+LUFS", re.M)
_PEAK = re.compile(r"^\s*Peak:\s+(-?[\d.]+|-inf|nan)\s+dBFS", re.M)


def parse_ebur128(log: str, *, true_peak: bool = True) -> Loudness:
    """The summary of ffmpeg's ``ebur128`` filter (``peak=true`` for the true peak), from its
    log."""
    summary = log[log.rfind("Summary:") :]
    i, peak = _I.search(summary), _PEAK.search(summary)
    if not summary or i is None or (true_peak and peak is None):
        raise AudioToolError("ffmpeg ebur128 printed no loudness summary")
    return Loudness(float(i.group(1)), float(peak.group(1)) if peak else math.nan)


def measure(
    ffmpeg: str,
    source: Path,
    input_args: list[str] | None = None,
    filters: str | None = None,
    *,
    true_peak: bool = True,
) -> Loudness:
    """Integrated loudness and true peak of ``source`` (any format ffmpeg reads; headerless
    PCM needs ``input_args`` such as ``-f s16le -ar 24000 -ac 1``), after ``filters`` if
    given -- a dry run of processing without paying for an encode."""
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", *(input_args or []), "-i", str(source)]
    chain = f"{filters}," if filters else ""
    scan = "ebur128=peak=true:framelog=verbose" if true_peak else "ebur128=framelog=verbose"
    cmd += ["-af", f"{chain}{scan}", "-f", "null", "-"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    log = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        raise AudioToolError(f"ffmpeg could not measure loudness: {log.strip()[-200:]}")
    return parse_ebur128(log, true_peak=true_peak)


# --- measured in-process, once per chunk -------------------------------------------------------

BLOCK_S = 0.01
"""Resolution of what is measured per part at synthesis: K-weighted energy and sample peak of
every 10 ms. BS.1770's 400 ms gating blocks are sums of these, so the loudness of any layout
of parts and pauses -- and of any gain and limiting applied to them -- follows without
touching the audio again."""
GATE_BLOCK = 40
"""10 ms blocks per BS.1770 gating block (400 ms)."""
GATE_HOP = 10
"""10 ms blocks between the starts of gating blocks (100 ms, 75 % overlap)."""
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0


def _k_weighting(rate: int) -> np.ndarray:
    """The BS.1770 K-weighting (a high shelf, then a high pass) as second-order sections,
    designed for ``rate`` as libebur128 designs them."""
    f0, gain, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (gain / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf_b = [
        (vh + vb * k / q + k * k) / a0,
        2 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
    ]
    shelf_a = [1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    pass_b = [1.0, -2.0, 1.0]
    pass_a = [1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf_b + shelf_a, pass_b + pass_a])


def _polyphase(factor: int = 4, taps_per_phase: int = 12) -> np.ndarray:
    """An interpolating low-pass as ``factor`` phases of ``taps_per_phase`` taps (each row
    computes one of the in-between positions), as BS.1770's true-peak meter uses."""
    from scipy.signal import firwin

    h = firwin(factor * taps_per_phase, 1.0 / factor) * factor
    return np.ascontiguousarray(h.reshape(taps_per_phase, factor).T[:, ::-1])


_POLYPHASE = _polyphase()
_POLYPHASE32 = _POLYPHASE.astype(np.float32)


def block_size(rate: int) -> int:
    return round(rate * BLOCK_S)


def measure_blocks(samples: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """K-weighted mean square and true peak (4x oversampled, full scale 1.0) of every 10 ms of
    ``samples`` (int16), the last block shorter. Filtered from silence: a part starts after a
    pause. Only blocks within 15.6 dB of the loudest are oversampled (4x, a 48-tap polyphase
    filter): quieter ones do not meet a limiter under the gains speech needs, and their sample
    peak stands in."""
    from scipy.signal import sosfilt

    size = block_size(rate)
    if samples.size == 0:
        return np.zeros(0), np.zeros(0)
    x = samples.astype(np.float64) / 32768.0
    weighted = sosfilt(_k_weighting(rate), x)
    count = -(-x.size // size)
    pad = count * size - x.size
    blocks = np.concatenate([weighted, np.zeros(pad)]).reshape(count, size)
    sums = np.einsum("ij,ij->i", blocks, blocks)  # sums of squares, no squared copy
    sums[-1] *= size / (size - pad)  # the short last block: its mean, not diluted by padding
    ints = np.concatenate([samples, np.zeros(pad, samples.dtype)]).reshape(count, size)
    peaks = np.maximum(ints.max(axis=1).astype(np.int32), -ints.min(axis=1).astype(np.int32))
    peaks = peaks / 32768.0
    loud = np.flatnonzero(peaks >= peaks.max() / 6)
    if loud.size:
        # In single precision: half the time of the synthesis's costliest step, and 1e-7 of
        # a peak is far below the 0.1 dB anyone plans a limiter by.
        taps = _POLYPHASE.shape[1]
        x32 = x.astype(np.float32)
        padded = np.concatenate([np.zeros(taps, np.float32), x32, np.zeros(pad + taps, np.float32)])
        index = loud[:, None] * size + np.arange(size + taps)[None, :] + taps // 2
        windows = np.lib.stride_tricks.sliding_window_view(padded[index], taps, axis=1)
        up = windows @ _POLYPHASE32.T
        peaks[loud] = np.maximum(peaks[loud], np.maximum(up.max(axis=(1, 2)), -up.min(axis=(1, 2))))
    return sums / size, peaks


def true_peak(x: np.ndarray) -> float:
    """Largest absolute value of ``x`` (floats, full scale 1.0) 4x oversampled. Inter-sample
    peaks sit next to large samples, so only windows around the largest samples are
    oversampled: the same answer at a few percent of the cost of oversampling everything."""
    magnitude = np.abs(x)
    top = float(magnitude.max()) if x.size else 0.0
    if top == 0.0:
        return 0.0
    candidates = np.flatnonzero(magnitude >= 0.7 * top)
    if candidates.size > PEAK_WINDOWS:
        candidates = candidates[
            np.argpartition(magnitude[candidates], -PEAK_WINDOWS)[-PEAK_WINDOWS:]
        ]
    taps = _POLYPHASE.shape[1]
    padded = np.concatenate([np.zeros(taps), x, np.zeros(taps)])
    # Each candidate's window yields the in-between values on both sides of it.
    index = candidates[:, None] + np.arange(taps + 1)[None, :] + taps // 2
    windows = np.lib.stride_tricks.sliding_window_view(padded[index], taps, axis=1)
    return max(top, float(np.abs(windows @ _POLYPHASE.T).max()))


PEAK_WINDOWS = 512


def integrated_lufs(energy: np.ndarray) -> float:
    """BS.1770 gated integrated loudness (mono) from 10 ms K-weighted block energies."""
    z = np.asarray(energy, dtype=np.float64)
    if z.size < GATE_BLOCK:
        return _lufs(float(z.mean())) if z.size else -math.inf
    cumulative = np.concatenate([[0.0], np.cumsum(z)])
    starts = np.arange(0, z.size - GATE_BLOCK + 1, GATE_HOP)
    blocks = (cumulative[starts + GATE_BLOCK] - cumulative[starts]) / GATE_BLOCK
    loud = blocks[blocks > 10 ** ((ABSOLUTE_GATE_LUFS + 0.691) / 10)]
    if not loud.size:
        return -math.inf
    relative = _lufs(float(loud.mean())) + RELATIVE_GATE_LU
    gated = loud[loud > 10 ** ((relative + 0.691) / 10)]
    return _lufs(float(gated.mean())) if gated.size else -math.inf


def _lufs(mean_square: float) -> float:
    return -0.691 + 10 * math.log10(mean_square) if mean_square > 0 else -math.inf


def dbfs(value: float) -> float:
    return 20 * math.log10(value) if value > 0 else -math.inf


# --- gain and limiting, planned from the measurements --------------------------------------------

MAX_EXTRA_GAIN_DB = 12.0
"""Most gain the limiter is asked to make up for, beyond what unlimited loudness needs."""
RELEASE_BLOCKS = 6
"""After a peak the limiter's reduction fades out linearly (in dB) over this many 10 ms blocks,
so it neither pumps between syllables nor holds loudness down longer than it must."""


def limiter_envelope(peaks: np.ndarray, gain: float, limit: float) -> np.ndarray:
    """Per 10 ms block, the extra gain (<= 1) that keeps ``peaks * gain`` at or below
    ``limit``. Each block takes at least the reduction of its neighbours (so a gain
    interpolated between block centres stays below what every sample needs), and the
    reduction of the blocks before it, fading (the release)."""
    if peaks.size == 0:
        return peaks
    with np.errstate(divide="ignore"):
        need_db = np.maximum(0.0, 20 * np.log10(np.maximum(peaks * gain, 1e-12) / limit))
    padded = np.concatenate([np.zeros(RELEASE_BLOCKS + 1), need_db, np.zeros(1)])
    n = need_db.size
    reduction = np.maximum(padded[RELEASE_BLOCKS + 2 : RELEASE_BLOCKS + 2 + n], need_db)
    for k in range(1, RELEASE_BLOCKS + 2):
        weight = 1.0 if k == 1 else 1.0 - (k - 1) / (RELEASE_BLOCKS + 1)
        start = RELEASE_BLOCKS + 1 - k
        reduction = np.maximum(reduction, weight * padded[start : start + n])
    return 10 ** (-reduction / 20)


def apply_gain(samples: np.ndarray, rate: int, gain: float, envelope: np.ndarray) -> np.ndarray:
    """``samples`` (int16) times ``gain`` and the block envelope, interpolated between block
    centres (a smooth gain, never above the envelope's neighbouring blocks)."""
    if samples.size == 0:
        return samples
    x = samples.astype(np.float32) * np.float32(gain)
    if envelope.size and float(envelope.min()) < 1.0:
        size = block_size(rate)
        centres = np.arange(envelope.size) * size + (size - 1) / 2
        x *= np.interp(np.arange(samples.size), centres, envelope).astype(np.float32)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


@dataclass(frozen=True)
class GainPlan:
    gain_db: float
    limit_dbfs: float
    limited: bool
    predicted_lufs: float


def plan_gain(
    parts: list[tuple[np.ndarray, np.ndarray]],
    target_lufs: float,
    ceiling_dbtp: float,
    *,
    true_peak_dbfs: float,
    margin_db: float = LIMITER_MARGIN_DB,
    offset_lu: float = 0.0,
) -> GainPlan:
    """The gain (and limiting) that brings the layout ``parts`` -- (energy, peaks) per part or
    pause, in order -- to ``target_lufs`` with sample peaks at most ``ceiling - margin``.

    Limiting takes loudness away, the more the louder one pushes, so the gain is found by
    bisection on the predicted loudness (monotonic in the gain). ``offset_lu`` is aimed above
    the target to cover what the encoder takes."""
    energy = np.concatenate([e for e, _ in parts]) if parts else np.zeros(0)
    peaks = np.concatenate([p for _, p in parts]) if parts else np.zeros(0)
    base = integrated_lufs(energy)
    limit_dbfs = ceiling_dbtp - margin_db
    if not math.isfinite(base) or base <= SILENCE_LUFS:
        return GainPlan(0.0, limit_dbfs, False, base)
    aim = target_lufs + offset_lu
    gain_db = aim - base
    # The block peaks are true peaks already; the margin covers what the encoder adds.
    peak = max(dbfs(float(peaks.max())) if peaks.size else -math.inf, true_peak_dbfs)
    limit = 10 ** (limit_dbfs / 20)
    if peak + gain_db <= limit_dbfs:
        return GainPlan(round(gain_db, 3), limit_dbfs, False, aim)

    def loudness(g_db: float) -> float:
        g = 10 ** (g_db / 20)
        env = limiter_envelope(peaks, g, limit)
        return integrated_lufs(energy * (g * env) ** 2)

    # Secant steps: loudness grows with gain, at a slope between 0 (all limited) and 1.
    last_gain, last_loud = gain_db, loudness(gain_db)
    gain_db = last_gain + (aim - last_loud)
    for _ in range(8):
        loud = loudness(gain_db)
        if abs(aim - loud) < 0.02:
            break
        slope = (loud - last_loud) / (gain_db - last_gain) if gain_db != last_gain else 1.0
        step = (aim - loud) / min(1.0, max(0.1, slope))
        last_gain, last_loud = gain_db, loud
        gain_db = min(gain_db + max(-6.0, min(6.0, step)), aim - base + MAX_EXTRA_GAIN_DB)
    return GainPlan(round(gain_db, 3), limit_dbfs, True, loudness(gain_db))

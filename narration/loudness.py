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

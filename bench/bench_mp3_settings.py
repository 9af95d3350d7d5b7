"""Spoken-word MP3 settings compared: size, encode time and closeness to the speech.

The seed article is spoken by espeak-ng (chunks as the pipeline stores them, 24 kHz PCM),
joined, and encoded with each candidate (rate, bitrate, LAME quality). Closeness: SNR after
gapless decoding and the log-spectral distance over 512-sample frames (lower is closer).

Run: ``.venv/bin/python bench/bench_mp3_settings.py``; writes ``bench/results/mp3_settings.json``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import Figure, write_result  # noqa: E402

SEED = Path("/work/shared/corpus/seed/joongang-lee-ishiba.txt")
CANDIDATES = [(24_000, 32, None), (24_000, 48, None), (24_000, 48, 7), (24_000, 64, 7),
              (24_000, 64, None), (44_100, 64, None)]  # fmt: skip


def _spectrum(signal: np.ndarray, n: int = 512) -> np.ndarray:
    frames = np.lib.stride_tricks.sliding_window_view(signal, n)[:: n // 2] * np.hanning(n)
    return np.abs(np.fft.rfft(frames, axis=1))


def main() -> None:
    import soundfile
    from scipy.signal import resample_poly

    from narration.audio import find_ffmpeg, read_wav
    from narration.pipeline import synthesize_missing
    from narration.plan import plan_narration
    from narration.scripting import build_script, load_article
    from narration.settings import Settings
    from narration.store import AudioStore

    work = Path(tempfile.mkdtemp(prefix="bench-mp3-"))
    settings = Settings(engine="espeak", audio_cache_dir=work)
    script = build_script(load_article(SEED), source=str(SEED), settings=settings)
    plan = plan_narration(script, settings)
    store = AudioStore(work)
    synthesize_missing(plan, store, settings)
    source = np.concatenate([read_wav(store.chunk_path(c.key)).samples for c in plan.chunks])
    raw = work / "speech.raw"
    raw.write_bytes(source.astype("<i2").tobytes())
    reference = _spectrum(source.astype(float))
    ffmpeg = find_ffmpeg()
    figures = []
    for rate, kbps, quality in CANDIDATES:
        out = work / f"{rate}-{kbps}-{quality}.mp3"
        args = [ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", "24000"]
        args += ["-ac", "1", "-i", str(raw), "-ar", str(rate), "-c:a", "libmp3lame"]
        args += ["-b:a", f"{kbps}k"] + (["-compression_level", str(quality)] if quality else [])
        args += ["-y", str(out)]
        took = []
        for _ in range(2):
            start = time.perf_counter()
            subprocess.run(args, check=True)
            took.append(time.perf_counter() - start)
        decoded, found = soundfile.read(str(out), dtype="float64")
        if found != 24_000:
            decoded = (
                resample_poly(decoded, 24_000 // 3000, found // 3000)
                if found % 3000 == 0
                else resample_poly(decoded, 160, 294)
            )
        decoded = decoded * 32768
        n = min(decoded.size, source.size)
        snr = 10 * np.log10(
            np.sum(source[:n].astype(float) ** 2) / np.sum((source[:n] - decoded[:n]) ** 2)
        )
        spectrum = _spectrum(decoded[:n])
        m = min(len(spectrum), len(reference))
        diff = 20 * np.log10((reference[:m] + 1e-3) / (spectrum[:m] + 1e-3))
        lsd = float(np.mean(np.sqrt(np.mean(diff**2 * (reference[:m] > 10), axis=1))))
        name = f"{rate // 1000} kHz {kbps} kbps q{quality if quality is not None else '-default'}"
        print(f"{name}: {out.stat().st_size / 1e6:.2f} MB, encode {min(took):.2f} s, "
              f"SNR {snr:.1f} dB, LSD {lsd:.2f} dB", flush=True)  # fmt: skip
        figures += [
            Figure(f"{name}: size", round(out.stat().st_size / 1e6, 3), "MB"),
            Figure(f"{name}: encode", round(min(took), 3), "s"),
            Figure(f"{name}: SNR", round(float(snr), 2), "dB"),
            Figure(f"{name}: log-spectral distance", round(lsd, 2), "dB"),
        ]
    notes = f"{source.size / 24000:.0f} s of the seed spoken by espeak-ng"
    command = ".venv/bin/python bench/bench_mp3_settings.py"
    print(write_result("mp3_settings", command, figures, notes=notes))


if __name__ == "__main__":
    main()

"""pydub against what the pipeline does instead, on the work pydub would do.

Decoding one gTTS answer (pydub: an ffmpeg process; here: libsndfile in-process), trimming its
silences, and joining 300 parts with pauses (pydub's ``+``, against numpy).

Run: ``.venv/bin/python bench/bench_pydub.py`` (needs ``pip install pydub``, no longer a
dependency); writes ``bench/results/pydub.json``.
"""

from __future__ import annotations

import io
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import Figure, write_result  # noqa: E402

N = 20


def main() -> None:
    from narration.audio import decode_mp3, find_ffmpeg, trim_silence
    from tests.fakes.gtts_server import speech_mp3

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pydub import AudioSegment
        from pydub.silence import detect_leading_silence
    ffmpeg = find_ffmpeg()
    AudioSegment.converter = ffmpeg
    mp3 = speech_mp3("As the global trade environment and international relations are", "en")

    def timed(fn: object, n: int = N) -> float:
        start = time.perf_counter()
        for _ in range(n):
            fn()  # type: ignore[operator]
        return (time.perf_counter() - start) / n

    segment = AudioSegment.from_file(io.BytesIO(mp3), format="mp3", codec="mp3")
    samples = decode_mp3(ffmpeg, mp3, 24_000)
    pydub_decode = timed(lambda: AudioSegment.from_file(io.BytesIO(mp3), format="mp3", codec="mp3"))
    our_decode = timed(lambda: decode_mp3(ffmpeg, mp3, 24_000))

    def pydub_trim() -> None:
        head = detect_leading_silence(segment, silence_threshold=-45)
        tail = detect_leading_silence(segment.reverse(), silence_threshold=-45)
        segment[max(0, head - 15) : len(segment) - max(0, tail - 15)]

    pydub_trim_s = timed(pydub_trim)
    our_trim = timed(lambda: trim_silence(samples, 24_000))
    start = time.perf_counter()
    joined = AudioSegment.empty()
    for _ in range(300):
        joined = joined + segment + AudioSegment.silent(350, frame_rate=24_000)
    pydub_join = time.perf_counter() - start
    start = time.perf_counter()
    np.concatenate([np.concatenate([samples, np.zeros(8400, np.int16)]) for _ in range(300)])
    our_join = time.perf_counter() - start
    minutes = len(joined) / 60_000
    print(f"decode one answer: pydub {pydub_decode * 1000:.1f} ms, ours {our_decode * 1000:.1f} ms")
    print(f"trim one answer: pydub {pydub_trim_s * 1000:.2f} ms, ours {our_trim * 1000:.2f} ms")
    print(f"join 300 parts ({minutes:.0f} min): pydub {pydub_join:.2f} s, ours {our_join:.3f} s")
    figures = [
        Figure("decode one gTTS answer", round(our_decode * 1000, 2), "ms",
               round(pydub_decode * 1000, 2), "pydub AudioSegment.from_file"),
        Figure("trim one answer", round(our_trim * 1000, 3), "ms",
               round(pydub_trim_s * 1000, 3), "pydub detect_leading_silence"),
        Figure(f"join 300 parts ({minutes:.0f} min)", round(our_join, 3), "s",
               round(pydub_join, 3), "pydub +"),
    ]  # fmt: skip
    print(write_result("pydub", ".venv/bin/python bench/bench_pydub.py", figures))


if __name__ == "__main__":
    main()

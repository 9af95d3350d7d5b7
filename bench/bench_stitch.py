"""Stitching cost against its floor: one ffmpeg encode of the same audio.

For synthetic narrations of 5, 30 and 60 minutes (espeak chunks, repeated), each size in a
fresh process so peak memory is its own, this prints and writes to
``bench/results/stitch.json``:

- stitch: wall time of ``stitch_narration`` (plan gain and limiting from the chunks' sidecars,
  stream every chunk's PCM with its pauses into one encode, check the file's true peak, tag,
  write manifest and transcript), and peak RSS of the Python process and of its ffmpeg
  children together (sampled every 20 ms);
- baseline: one ffmpeg encode of the identical PCM (the same samples the stitch fed its
  encoder, from a file) to the same MP3 settings;
- the ratio of the two (wall time, and CPU time of process + ffmpeg children, which a busy
  machine disturbs less), and the stitch time per minute of audio (flat when linear).

Run: ``.venv/bin/python bench/bench_stitch.py [--sentences N] [MINUTES ...]``; ``N`` sentences
per paragraph (default 3).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SENTENCE = (
    "Paragraph {p}, sentence {s}: the harbor bridge reopened after two years of repairs, "
    "and officials said the work came in under budget."
)
DISTINCT_PARAGRAPHS = 24


def _cpu_s() -> float:
    """CPU seconds used so far by this process and its finished children (ffmpeg)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


class PeakMemory:
    """Samples (every 20 ms) the RSS of this process and of its child processes (ffmpeg)."""

    def __init__(self) -> None:
        self.python_mb = 0.0
        self.children_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.02):
            self.python_mb = max(self.python_mb, _rss_mb(me))
            self.children_mb = max(self.children_mb, sum(_rss_mb(c) for c in _children(me)))

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _one(minutes: float, sentences: int) -> dict[str, float]:
    import scipy.signal  # noqa: F401 -- a worker has these loaded after its first task
    import soundfile  # noqa: F401

    from narration.audio import find_ffmpeg, run_ffmpeg
    from narration.loudness import dbfs, plan_gain
    from narration.pipeline import synthesize_missing
    from narration.plan import plan_narration
    from narration.script import Paragraph, Script, Section, Sentence
    from narration.settings import Settings
    from narration.stitch import ENCODE_LOSS_LU, RATE, Timeline, _pcm, stitch_narration
    from narration.store import AudioStore

    work = Path(tempfile.mkdtemp(prefix="bench-stitch-"))
    settings = Settings(engine="espeak", audio_cache_dir=work / "cache", outro_text=None)
    store = AudioStore(settings.audio_cache_dir)
    ffmpeg = find_ffmpeg(settings.ffmpeg_binary)

    def script(paragraphs: int) -> Script:
        paras = [
            Paragraph(
                [
                    Sentence(t, t)
                    for t in (
                        SENTENCE.format(p=p % DISTINCT_PARAGRAPHS, s=s) for s in range(sentences)
                    )
                ]
            )
            for p in range(paragraphs)
        ]
        return Script("bench", "Benchmark narration", None, "en", [Section(None, paras)])

    # Size the article: measure one paragraph cycle, then repeat to the wanted length.
    probe = plan_narration(script(DISTINCT_PARAGRAPHS), settings)
    synthesize_missing(probe, store, settings)
    cycle_s = sum(store.chunk_meta(c.key).samples for c in probe.chunks) / RATE
    cycle_s += (0.75 + 0.35 * (sentences - 1)) * len(probe.chunks)
    paragraphs = max(1, round(minutes * 60 / cycle_s * DISTINCT_PARAGRAPHS))
    plan = plan_narration(script(paragraphs), settings)
    synthesize_missing(plan, store, settings)

    with PeakMemory() as stitch_mem:
        start, cpu = time.perf_counter(), _cpu_s()
        result = stitch_narration(plan, store, settings)
        stitch_s, stitch_cpu = time.perf_counter() - start, _cpu_s() - cpu

    # The same PCM the stitch fed its encoder, from a file, encoded once with the same settings.
    raw = work / "same.raw"
    keys = [c.key for c in plan.chunks]
    sidecars = [store.chunk_meta(k) for k in keys]
    timeline = Timeline.of(plan, sidecars, None, None)
    gain = plan_gain(
        timeline.measurements(),
        settings.target_lufs,
        settings.true_peak_dbtp,
        true_peak_dbfs=dbfs(max(m.loudness.true_peak for m in sidecars)),
        offset_lu=ENCODE_LOSS_LU,
    )
    with raw.open("wb") as fh:
        for data in _pcm(store, keys, sidecars, timeline, gain):
            fh.write(data)
    spec = plan.stitch
    args = ["-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", str(raw)]
    args += ["-ar", str(spec.sample_rate), "-c:a", "libmp3lame", "-b:a", f"{spec.bitrate_kbps}k"]
    args += ["-compression_level", str(spec.encoder_quality), "-y", str(work / "baseline.mp3")]
    with PeakMemory() as baseline_mem:
        start, cpu = time.perf_counter(), _cpu_s()
        run_ffmpeg(ffmpeg, args)
        baseline_s, baseline_cpu = time.perf_counter() - start, _cpu_s() - cpu
    subprocess.run(["rm", "-rf", str(work)], check=False)
    return {
        "audio_min": result.duration_ms / 60_000,
        "chunks": len(plan.chunks),
        "stitch_s": stitch_s,
        "baseline_s": baseline_s,
        "stitch_cpu": stitch_cpu,
        "baseline_cpu": baseline_cpu,
        "stitch_py_mb": stitch_mem.python_mb,
        "stitch_ffmpeg_mb": stitch_mem.children_mb,
        "baseline_ffmpeg_mb": baseline_mem.children_mb,
    }


def main() -> None:
    from bench.report import Figure, write_result

    args = sys.argv[1:]
    sentences = 3
    if args[:1] == ["--sentences"]:
        sentences, args = int(args[1]), args[2:]
    if args[:1] == ["--one"]:
        print(json.dumps(_one(float(args[1]), sentences)))
        return
    sizes = [float(a) for a in args] or [5.0, 30.0, 60.0]
    print(
        f"{'audio':>7} {'chunks':>6} {'stitch':>8} {'1 encode':>9} {'ratio':>6} "
        f"{'s/min':>6} {'CPU ratio':>9} {'py RSS':>7} {'ffmpeg RSS':>10} {'1 encode RSS':>12}"
    )
    figures: list[Figure] = []
    for minutes in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--sentences", str(sentences), "--one", str(minutes)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['audio_min']:6.1f}m {r['chunks']:6d} {r['stitch_s']:7.1f}s "
            f"{r['baseline_s']:8.1f}s "
            f"{r['stitch_s'] / r['baseline_s']:6.2f} {r['stitch_s'] / r['audio_min']:6.2f} "
            f"{r['stitch_cpu'] / r['baseline_cpu']:9.2f} "
            f"{r['stitch_py_mb']:5.0f}MB {r['stitch_ffmpeg_mb']:8.0f}MB "
            f"{r['baseline_ffmpeg_mb']:10.0f}MB",
            flush=True,
        )
        size = f"{r['audio_min']:.0f} min"
        figures += [
            Figure(f"stitch {size}: wall", round(r["stitch_s"], 3), "s",
                   round(r["baseline_s"], 3), "one ffmpeg encode", "<= 1.3x baseline"),
            Figure(f"stitch {size}: CPU", round(r["stitch_cpu"], 3), "s",
                   round(r["baseline_cpu"], 3), "one ffmpeg encode", "<= 1.3x baseline"),
            Figure(f"stitch {size}: seconds per audio minute",
                   round(r["stitch_s"] / r["audio_min"], 4), "s/min", None, None, "flat"),
            Figure(f"stitch {size}: peak RSS (python + ffmpeg)",
                   round(r["stitch_py_mb"] + r["stitch_ffmpeg_mb"], 1), "MB",
                   round(r["baseline_ffmpeg_mb"], 1), "one ffmpeg encode", "flat in length"),
        ]  # fmt: skip
    cmd = ".venv/bin/python bench/bench_stitch.py"
    print(write_result("stitch", cmd, figures))


if __name__ == "__main__":
    main()

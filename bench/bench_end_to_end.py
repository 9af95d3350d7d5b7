"""The seed article end to end through ``narrator serve`` against ``gtts-cli`` on the same text.

Both speak to the local gTTS stand-in run as a process, answering each request after 200 ms +
1 ms per character (``python -m tests.fakes.gtts_server --latency 0.2 --latency-per-char
0.001``). The stand-in makes its answers with eSpeak NG and an ffmpeg encode per request --
CPU that Google spends on its own machines, not on ours -- so each side first sends its
requests once, untimed (the stand-in keeps what it spoke), and is then timed against a stand-in
that only waits: the provider the product issue describes.

- narrator: ``narrator serve`` with default settings (a real subprocess, its embedded Redis and
  worker; only the engine, the stand-in's address, an API key and a fresh audio store are set).
  After a short warm-up narration (each worker's first task imports its modules), the seed's
  page text is posted to ``POST /v1/narrations`` and the status polled until ``ready``. Time to
  first playable audio: from the POST until the first chunk file is in the store.
- baseline: the gTTS package's own CLI, ``gtts-cli --file TEXT --output OUT.mp3``, run in a
  subprocess with gTTS's URL builder pointed at the stand-in (gTTS builds its URL from
  ``tld``; this is the redirection ``narration/engines/gtts.py`` does with
  ``NARRATOR_GTTS_ENDPOINT``). The text is what narrator speaks: title, byline, body and the
  AI-voice disclosure.

Run: ``.venv/bin/python bench/bench_end_to_end.py [--runs N]``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import Figure, write_result  # noqa: E402

SEED = Path(os.environ.get("NARRATOR_SEED", "/work/shared/corpus/seed/joongang-lee-ishiba.txt"))
KEY = "bench-key"
DEADLINE_S = 180.0

GTTS_CLI = """
import sys
import gtts.tts
endpoint = sys.argv[1]
gtts.tts._translate_url = lambda tld="com", path="": f"{endpoint}/{path}"
from gtts.cli import tts_cli
sys.argv = ["gtts-cli", "--nocheck", "--file", sys.argv[2], "--output", sys.argv[3]]
tts_cli()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def stand_in() -> Iterator[str]:
    """A fresh gTTS stand-in process with the benchmark's latency; yields its URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.gtts_server",
            "--port",
            "0",
            "--latency",
            "0.2",
            "--latency-per-char",
            "0.001",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # clients hanging up print tracebacks there
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError("the gTTS stand-in did not start")
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def spoken_text() -> str:
    """What narrator speaks for the seed, as one text: one block per line."""
    from narration.plan import plan_narration
    from narration.scripting import build_script, load_article
    from narration.settings import Settings

    settings = Settings(engine="gtts", audio_cache_dir=Path(tempfile.mkdtemp()))
    script = build_script(load_article(SEED), source=str(SEED), settings=settings)
    plan = plan_narration(script, settings)
    return "\n".join(block.text for block in plan.blocks)


def run_gtts_cli(text: str) -> float:
    with stand_in() as url, tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "text.txt"
        src.write_text(text)
        out = Path(tmp) / "out.mp3"
        for _warm_up_then_timed in range(2):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", GTTS_CLI, url, str(src), str(out)], check=True, cwd=tmp
            )
            took = time.perf_counter() - start
        if out.stat().st_size == 0:
            raise RuntimeError("gtts-cli wrote nothing")
        return took


def warm_stand_in(url: str) -> None:
    """Send the stand-in every request narrator will send for the seed, untimed."""
    from narration.pipeline import synthesize_missing
    from narration.plan import plan_narration
    from narration.scripting import build_script, load_article
    from narration.settings import Settings
    from narration.store import AudioStore

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(engine="gtts", gtts_endpoint=url, audio_cache_dir=Path(tmp))
        script = build_script(load_article(SEED), source=str(SEED), settings=settings)
        plan = plan_narration(script, settings)
        synthesize_missing(plan, AudioStore(Path(tmp)), settings)


class FirstChunk:
    """Notes when the first chunk file appears in the store (what HLS segments are made of)."""

    def __init__(self, chunks: Path) -> None:
        self.chunks = chunks
        self.at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(FileNotFoundError):
                if any(p.suffix == ".wav" for p in self.chunks.iterdir()):
                    self.at = time.perf_counter()
                    return
            time.sleep(0.005)

    def __enter__(self) -> FirstChunk:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _wait_ready(base: str, narration_id: str, session: requests.Session) -> dict[str, object]:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        body = session.get(f"{base}/v1/narrations/{narration_id}", timeout=30).json()
        if body["state"] == "ready":
            return dict(body)
        if body["state"] == "failed":
            raise RuntimeError(f"narration failed: {body.get('error')}")
        time.sleep(0.02)
    raise RuntimeError("narration not ready in time")


def _post(base: str, session: requests.Session, body: bytes) -> str:
    rsp = session.post(
        f"{base}/v1/narrations",
        data=body,
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "text/plain; charset=utf-8"},
        timeout=60,
    )
    rsp.raise_for_status()
    return str(rsp.json()["id"])


def run_narrator() -> tuple[float, float]:
    """(seconds until ready, seconds until the first chunk is stored), from the POST."""
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(stand_in())
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        warm_stand_in(url)
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("NARRATOR_")}
        env.update(
            NARRATOR_ENGINE="gtts",
            NARRATOR_GTTS_ENDPOINT=url,
            NARRATOR_API_KEYS=KEY,
            NARRATOR_AUDIO_CACHE_DIR=str(Path(tmp) / "audio"),
            NARRATOR_LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        )
        narrator = Path(sys.executable).with_name("narrator")
        log_path = os.environ.get("BENCH_LOG")  # the service's logs, for a closer look
        log = stack.enter_context(open(log_path, "w")) if log_path else subprocess.DEVNULL
        proc = subprocess.Popen(
            [str(narrator), "serve", "--port", str(port)],
            cwd=tmp,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        session = requests.Session()
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(requests.ConnectionError):
                    if session.get(f"{base}/healthz", timeout=5).status_code == 200:
                        break
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("narrator serve did not start")
                time.sleep(0.1)
            # Enough chunks that every worker process takes some: each imports its modules
            # on its first task, once in its life.
            warm = "Warm-up\n\n" + "\n\n".join(
                f"The {place} reopened on Monday, and a worker imports its modules on its first "
                "task."
                for place in ("harbour", "market", "station", "library", "stadium", "museum")
            )
            _wait_ready(base, _post(base, session, warm.encode()), session)
            chunks = Path(tmp) / "audio" / "chunks"
            for stale in chunks.glob("*.wav"):
                stale.unlink()  # the warm-up's: the first chunk watched for is the seed's
            with FirstChunk(chunks) as first:
                start = time.perf_counter()
                _wait_ready(base, _post(base, session, SEED.read_bytes()), session)
                total = time.perf_counter() - start
            first_s = (first.at - start) if first.at is not None else float("nan")
            return total, first_s
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main() -> None:
    runs = 2
    if sys.argv[1:2] == ["--runs"]:
        runs = int(sys.argv[2])
    text = spoken_text()
    figures: list[Figure] = []
    lines = []
    for n in range(1, runs + 1):
        baseline = run_gtts_cli(text)
        total, first = run_narrator()
        lines.append(
            f"run {n}: narrator {total:.2f} s (first audio {first:.2f} s), "
            f"gtts-cli {baseline:.2f} s, {baseline / total:.1f}x faster"
        )
        print(lines[-1], flush=True)
        figures += [
            Figure(f"run {n}: seed end to end", round(total, 3), "s", round(baseline, 3),
                   "gtts-cli", "<= 1/6 of gtts-cli"),
            Figure(f"run {n}: first playable audio", round(first, 3), "s", None, None, "<= 1 s"),
        ]  # fmt: skip
    path = write_result(
        "end_to_end",
        ".venv/bin/python bench/bench_end_to_end.py",
        figures,
        notes=(
            f"{len(text)} characters spoken; stand-in 200 ms + 1 ms/char per request. "
            + "; ".join(lines)
        ),
    )
    print(path)


if __name__ == "__main__":
    main()

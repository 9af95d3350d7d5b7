"""Time to first audio: from the narration request to a playable stream, against the time to
the finished MP3, in the same run.

    .venv/bin/python bench/bench_first_audio.py [--runs 3]

The API (Flask, in this process, on loopback), one Celery worker process (threads pool), real
Redis and PostgreSQL, and the gTTS stand-in as its own process (``--latency 0.2
--latency-per-char 0.001``, the default request limit), sent each run's requests once before
the run, untimed, so that in the run it only waits (its eSpeak NG and ffmpeg are Google's CPU,
not ours; as in ``bench_end_to_end.py``). The article is the
seed article (``../shared/corpus/seed``), posted as text to ``POST /v1/narrations``, its title
changed per run, and every chunk is deleted from the store between runs: nothing comes from
the cache.

Figure: request -> the status has ``stream_url``, its playlist lists a segment and that segment
is fetched (built on request): what a listener who pressed play waits for. Baseline: request
-> the status says ready (the whole MP3). Both for eSpeak NG and for the gTTS stand-in; the
product promises first audio within a second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.report import Figure, write_result  # noqa: E402
from bench.services import catalog, gtts_stand_in, leased_redis, workdir  # noqa: E402

if TYPE_CHECKING:
    from narration.settings import Settings

SEED = REPO.parent / "shared" / "corpus" / "seed" / "joongang-lee-ishiba.txt"
COMMAND = ".venv/bin/python bench/bench_first_audio.py"
POLL_S = 0.01


def article_text() -> str:
    if SEED.exists():
        return SEED.read_text()
    return "\n\n".join(
        f"Paragraph {n}: the harbour bridge reopened after repairs, and officials said the "
        f"work, which took {n + 2} months, came in under budget."
        for n in range(12)
    )


def one_run(base: str, engine: str, title: str, text: str) -> tuple[float, float, int]:
    """Seconds to first playable audio and to the finished MP3; the number of chunks."""
    session = requests.Session()
    asked = time.perf_counter()
    marks: dict[str, float] = {}
    posted = session.post(
        f"{base}/v1/narrations",
        json={"text": text, "title": title, "engine": engine},
        headers={"Authorization": "Bearer bench"},
        timeout=60,
    )
    posted.raise_for_status()
    marks["accepted"] = time.perf_counter() - asked
    status_url = f"{base}/v1/narrations/{posted.json()['id']}"
    first: float | None = None
    deadline = time.monotonic() + 600
    while True:
        status = session.get(status_url, timeout=30).json()
        if status["state"] == "failed":
            raise SystemExit(f"the narration failed: {status['error']}")
        if status["state"] == "running":
            marks.setdefault("running", time.perf_counter() - asked)
        if first is None and status.get("stream_url"):
            marks.setdefault("stream_url", time.perf_counter() - asked)
            playlist = session.get(status["stream_url"], timeout=30)
            uris = [ln for ln in playlist.text.splitlines() if ln and not ln.startswith("#")]
            if uris:
                segment_url = status["stream_url"].rsplit("/", 1)[0] + "/" + uris[0]
                segment = session.get(segment_url, timeout=30)
                segment.raise_for_status()
                first = time.perf_counter() - asked
                marks["segment"] = first
        if status["state"] == "ready":
            ready = time.perf_counter() - asked
            print(
                "    "
                + ", ".join(f"{k} {v:.2f}" for k, v in marks.items())
                + f", ready {ready:.2f} s"
            )
            # A narration can finish between two polls: then its first audio was the MP3.
            return (first if first is not None else ready), ready, int(status["chunks_total"])
        if time.monotonic() > deadline:
            raise SystemExit("the narration took over 600 s")
        time.sleep(POLL_S)


def warm_stand_in(settings: Settings, title: str, text: str) -> None:
    """Send the stand-in, untimed, every request the narration of ``title`` and ``text`` will
    send: it speaks each answer with eSpeak NG and an ffmpeg encode, CPU that Google spends on
    its own machines and that would otherwise be taken from ours (as in
    ``bench_end_to_end.py``). It then keeps what it spoke, and only waits its latency."""
    from narration.article import Article
    from narration.pipeline import synthesize_missing
    from narration.plan import plan_narration
    from narration.scripting import build_script
    from narration.store import AudioStore

    with tempfile.TemporaryDirectory(prefix="narrator-bench-warm-") as tmp:
        warm = settings.model_copy(update={"engine": "gtts", "audio_cache_dir": Path(tmp)})
        article = Article(form="text", body_text=text, title=title)
        plan = plan_narration(build_script(article, source="warm-up", settings=warm), warm)
        synthesize_missing(plan, AudioStore(Path(tmp)), warm)


def forget_audio(store: Path) -> None:
    """Drop every chunk, segment and finished file (plans stay), so the next run synthesizes
    every chunk again rather than finding the body's chunks cached."""
    for folder in (store / "chunks", store / "segments", store):
        for path in folder.glob("*.*"):
            if path.is_file() and path.suffix in (".mp3", ".json", ".vtt", ".ts", ".wav", ".flac"):
                path.unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    from narration.catalog import upgrade_to_head
    from narration.catalog.db import dispose_all
    from narration.settings import Settings
    from service.app import create_app
    from tests.integration.worker_process import celery_worker, http_server

    text = article_text()
    figures: list[Figure] = []
    with ExitStack() as stack:
        root = stack.enter_context(workdir("narrator-bench-first-audio-"))
        settings = Settings(
            redis_url=stack.enter_context(leased_redis()),
            database_url=stack.enter_context(catalog(root)),
            audio_cache_dir=root / "audio",
            engine="espeak",
            gtts_endpoint=stack.enter_context(gtts_stand_in(0.2, 0.001)),
            outro_text=None,
            api_keys=["bench"],
            log_level="WARNING",
        )
        upgrade_to_head(settings.catalog_url)
        stack.enter_context(celery_worker(settings, root, concurrency=settings.worker_concurrency))
        base = stack.enter_context(http_server(create_app(settings)))
        for engine in ("espeak", "gtts"):
            firsts, readies = [], []
            chunks = 0
            for run in range(args.runs):
                title = f"Lee and Ishiba meet ({engine} run {run + 1})"
                if engine == "gtts":
                    warm_stand_in(settings, title, text)
                first, ready, chunks = one_run(base, engine, title, text)
                forget_audio(settings.audio_cache_dir)
                firsts.append(first)
                readies.append(ready)
            first_s, ready_s = statistics.median(firsts), statistics.median(readies)
            label = "gTTS stand-in (0.2 s + 1 ms/char)" if engine == "gtts" else engine
            print(
                f"  {label}: first audio {', '.join(f'{f:.2f}' for f in firsts)} s; "
                f"whole MP3 {', '.join(f'{r:.2f}' for r in readies)} s ({chunks} chunks)",
                flush=True,
            )
            figures.append(
                Figure(
                    f"request to first playable audio (stream segment fetched), {label}, "
                    f"median of {args.runs}",
                    round(first_s, 3), "s", round(ready_s, 3),
                    f"request to the finished MP3 ({chunks} chunks)", "<= 1 s",
                )
            )  # fmt: skip
        dispose_all()
    path = write_result(
        "first_audio",
        f"{COMMAND} --runs {args.runs}",
        figures,
        notes="The seed article, posted as text; API in-process, 1 Celery worker process "
        "(threads pool), real Redis and PostgreSQL; status polled every 10 ms.",
    )
    print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()

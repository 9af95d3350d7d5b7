"""Articles per minute with two Celery workers, and how long breaking news waits behind a
500-article backfill.

    .venv/bin/python bench/bench_throughput.py [--articles 30] [--backfill 500] [--breaking 5]

Real Redis (a leased database), PostgreSQL (a fresh database), two ``celery worker``
processes (threads pool, the production concurrency) and the gTTS stand-in as its own process
(``--latency 0.2 --latency-per-char 0.001``).

1. Throughput, for eSpeak NG and for the gTTS stand-in: ``--articles`` distinct short articles
   queued at once at normal priority, until every one is ready (chunks, stitch, publish). Thirty
   by default: with a dozen, the first seconds (queues filling) and the last (the final
   stitches) were a third of the run.
   Baseline, same run: the same number of other articles of the same size narrated one after
   another in this process (``synthesize_missing`` + ``stitch_narration``, no queue).
2. Breaking news: ``--backfill`` short eSpeak articles queued at low priority (an archive
   backfill), then ``--breaking`` high-priority articles, one every 1.5 s while the backfill
   runs. Figure: the worst time from a high-priority request to its first chunk task starting
   (the catalog's ``started_at``). Baseline: the median synthesis time of one backfill chunk,
   measured by the workers in the same run. The product promises at most one chunk's synthesis.
   The rest of the backfill is dropped from Redis afterwards, to keep the run short.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from celery import Celery

    from narration.jobs import Priority
    from narration.settings import Settings
    from narration.store import AudioStore

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.report import Figure, write_result  # noqa: E402
from bench.services import catalog, gtts_stand_in, leased_redis, workdir  # noqa: E402
from narration.article import Article  # noqa: E402

PLACES = ["harbour", "market", "station", "library", "stadium", "hospital", "museum", "airport"]
SENTENCES = [
    "{Tag} report {n}: the {place} reopened on Monday after months of repairs.",
    "Engineers replaced the worn cables and repainted the towers in {place} colours.",
    "Commuters welcomed the news, saying the detour had added half an hour to each trip.",
    "The council said the work finished early and under its budget of {n} thousand.",
    "A ribbon was cut by the mayor, who thanked the crews that worked through winter.",
]
COMMAND = ".venv/bin/python bench/bench_throughput.py"


def article(tag: str, number: int, paragraphs: int) -> Article:
    """A short distinct article: no two share a chunk, so nothing comes from the cache."""
    place = PLACES[number % len(PLACES)]
    texts = [
        SENTENCES[p % len(SENTENCES)].format(Tag=tag.capitalize(), n=number, place=place)
        for p in range(paragraphs)
    ]
    return Article(
        form="text", title=f"{tag.capitalize()} story {number}", body_text="\n\n".join(texts)
    )


def submit(
    settings: Settings,
    store: AudioStore,
    celery: Celery,
    item: Article,
    *,
    engine: str,
    priority: Priority,
) -> str:
    """Ask for the narration and send its job, as the API does."""
    from narration.jobs import request_narration, start_job
    from workers.dispatch import CeleryJobQueue

    requested = request_narration(
        settings, store, item, source="bench", engine=engine, priority=priority
    )
    start_job(settings, store, CeleryJobQueue(celery), requested, priority)
    row = requested.narration
    return row.id


def wait_final(url: str, ids: Sequence[str], timeout: float) -> None:
    from sqlalchemy import func, select

    from narration.catalog import Narration, NarrationState, session_scope

    deadline = time.monotonic() + timeout
    while True:
        with session_scope(url) as session:
            done = session.scalar(
                select(func.count()).where(
                    Narration.id.in_(list(ids)),
                    Narration.state.in_([NarrationState.READY, NarrationState.FAILED]),
                )
            )
            failed = session.scalars(
                select(Narration.error).where(
                    Narration.id.in_(list(ids)), Narration.state == NarrationState.FAILED
                )
            ).all()
        if failed:
            raise SystemExit(f"{len(failed)} narration(s) failed: {failed[0]}")
        if done == len(ids):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"only {done} of {len(ids)} narrations finished in {timeout} s")
        time.sleep(0.1)


def in_process_rate(settings: Settings, engine: str, count: int, paragraphs: int) -> float:
    """Articles per minute narrated one after another in this process."""
    from narration.pipeline import synthesize_missing
    from narration.plan import plan_narration
    from narration.scripting import build_script
    from narration.stitch import stitch_narration
    from narration.store import AudioStore

    store = AudioStore(settings.audio_cache_dir)
    started = time.perf_counter()
    for n in range(count):
        script = build_script(
            article(f"alone-{engine}", n, paragraphs), source="bench", settings=settings
        )
        plan = plan_narration(script, settings, engine=engine)
        store.save_plan(plan)
        synthesize_missing(plan, store, settings)
        stitch_narration(plan, store, settings)
    return count * 60 / (time.perf_counter() - started)


def workers_rate(
    settings: Settings,
    store: AudioStore,
    celery: Celery,
    engine: str,
    count: int,
    paragraphs: int,
) -> float:
    started = time.perf_counter()
    ids = [
        submit(
            settings,
            store,
            celery,
            article(f"queued-{engine}", n, paragraphs),
            engine=engine,
            priority="normal",
        )
        for n in range(count)
    ]
    wait_final(settings.catalog_url, ids, timeout=600)
    return count * 60 / (time.perf_counter() - started)


@dataclass
class Breaking:
    start_waits: list[float]
    """Request -> first chunk task started, per high-priority article (s)."""
    audio_waits: list[float]
    """Request -> first chunk stored (the stream is playable), per article (s)."""
    idle_audio_wait: float
    """The same for one high-priority article on idle workers, before the backfill (s)."""
    chunk_s: float
    """Median synthesis time of one backfill chunk in the workers (s)."""
    chunks: int


def one_breaking(
    settings: Settings, store: AudioStore, celery: Celery, tag: str, number: int
) -> tuple[float, float]:
    """Seconds from a high-priority request to its first chunk task starting, and to its first
    chunk being stored (what a listener waits for)."""
    from narration.catalog import Narration, session_scope
    from narration.progressive import first_audio_ready

    asked = time.time()
    narration_id = submit(
        settings, store, celery, article(tag, number, 2), engine="espeak", priority="high"
    )
    print(f"    {tag} {number}: request handled in {time.time() - asked:.3f} s", flush=True)
    started_at: float | None = None
    deadline = time.monotonic() + 120
    while True:
        with session_scope(settings.catalog_url) as session:
            row = session.get(Narration, narration_id)
            assert row is not None
            key = row.narration_key
            if row.started_at is not None and started_at is None:
                started_at = row.started_at.replace(tzinfo=UTC).timestamp()
        if started_at is not None and first_audio_ready(store, key):
            return max(0.0, started_at - asked), time.time() - asked
        if time.monotonic() > deadline:
            raise SystemExit("a high-priority narration had no audio within 120 s")
        time.sleep(0.005)


def breaking_news(
    settings: Settings, store: AudioStore, celery: Celery, backfill: int, breaking: int
) -> Breaking:
    from sqlalchemy import select

    from narration.catalog import NarrationChunk, session_scope

    _, idle = one_breaking(settings, store, celery, "idle", 0)
    backfill_ids = [
        submit(settings, store, celery, article("archive", n, 2), engine="espeak", priority="low")
        for n in range(backfill)
    ]
    starts: list[float] = []
    audio: list[float] = []
    for n in range(breaking):
        time.sleep(1.5)
        start, first = one_breaking(settings, store, celery, "breaking", n)
        starts.append(start)
        audio.append(first)
    with session_scope(settings.catalog_url) as session:
        synth_ms = [
            ms
            for ms in session.scalars(
                select(NarrationChunk.synth_ms).where(
                    NarrationChunk.narration_id.in_(backfill_ids),
                    NarrationChunk.synth_ms.is_not(None),
                )
            ).all()
            if ms is not None
        ]
    if not synth_ms:
        raise SystemExit("no backfill chunk was synthesized: nothing to compare with")
    return Breaking(starts, audio, idle, statistics.median(synth_ms) / 1000, len(synth_ms))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=30)
    parser.add_argument("--paragraphs", type=int, default=3)
    parser.add_argument("--backfill", type=int, default=500)
    parser.add_argument("--breaking", type=int, default=5)
    args = parser.parse_args(argv)

    from narration.catalog import upgrade_to_head
    from narration.catalog.db import dispose_all
    from narration.redisconn import client_for
    from narration.settings import Settings
    from narration.store import AudioStore
    from tests.integration.worker_process import celery_worker
    from workers.celery_app import create_celery

    with ExitStack() as stack:
        root = stack.enter_context(workdir("narrator-bench-throughput-"))
        redis_url = stack.enter_context(leased_redis())
        database_url = stack.enter_context(catalog(root))
        gtts_url = stack.enter_context(gtts_stand_in(0.2, 0.001))
        settings = Settings(
            redis_url=redis_url,
            database_url=database_url,
            audio_cache_dir=root / "audio",
            engine="espeak",
            gtts_endpoint=gtts_url,
            outro_text=None,
            intro_text=None,
            log_level="WARNING",
        )
        upgrade_to_head(settings.catalog_url)
        store = AudioStore(settings.audio_cache_dir)
        celery = create_celery(settings)
        for _ in range(2):
            stack.enter_context(
                celery_worker(settings, root, concurrency=settings.worker_concurrency)
            )
        print(f"2 workers x {settings.worker_concurrency} threads; {args.articles} articles of "
              f"{args.paragraphs} paragraphs per measurement", flush=True)  # fmt: skip
        figures: list[Figure] = []
        for engine in ("espeak", "gtts"):
            alone = in_process_rate(
                settings.model_copy(update={"audio_cache_dir": root / f"alone-{engine}"}),
                engine, args.articles, args.paragraphs,
            )  # fmt: skip
            queued = workers_rate(settings, store, celery, engine, args.articles, args.paragraphs)
            print(f"  {engine:7} 2 workers {queued:7.1f} articles/min   one process, one at a "
                  f"time {alone:7.1f}   ratio {queued / alone:5.2f}x", flush=True)  # fmt: skip
            figures.append(
                Figure(
                    f"articles per minute, 2 workers, {engine}"
                    + (" stand-in (0.2 s + 1 ms/char)" if engine == "gtts" else ""),
                    round(queued, 1), "articles/min", round(alone, 1),
                    "one process, one article at a time", "> baseline",
                )
            )  # fmt: skip
        news = breaking_news(settings, store, celery, args.backfill, args.breaking)
        listed = ", ".join(f"{w:.3f}" for w in news.start_waits)
        heard = ", ".join(f"{w:.3f}" for w in news.audio_waits)
        print(
            f"  breaking news behind a {args.backfill}-article backfill: first chunk task "
            f"started after {listed} s; one backfill chunk's synthesis in the workers "
            f"(median of {news.chunks}) {news.chunk_s:.3f} s\n"
            f"  first chunk stored after {heard} s; on idle workers {news.idle_audio_wait:.3f} s",
            flush=True,
        )
        baseline = "one chunk's synthesis in the loaded workers (median, same run)"
        figures += [
            Figure(
                f"breaking news: request to first chunk task start, behind a {args.backfill}-"
                f"article low-priority backfill (worst of {len(news.start_waits)})",
                round(max(news.start_waits), 3), "s", round(news.chunk_s, 3), baseline,
                "<= 1x baseline",
            ),
            Figure(
                "breaking news: request to first chunk task start (median)",
                round(statistics.median(news.start_waits), 3), "s", round(news.chunk_s, 3),
                baseline, "<= 1x baseline",
            ),
            Figure(
                "breaking news: request to first chunk stored, i.e. playable (worst)",
                round(max(news.audio_waits), 3), "s", round(news.idle_audio_wait, 3),
                "the same on idle workers", None,
            ),
        ]  # fmt: skip
        client_for(redis_url).flushdb()  # drop the rest of the backfill before stopping workers
        dispose_all()
    path = write_result(
        "throughput",
        f"{COMMAND} --articles {args.articles} --backfill {args.backfill} "
        f"--breaking {args.breaking}",
        figures,
        notes="Real Redis, PostgreSQL, 2 Celery worker processes (threads pool); the machine "
        "has 2 cores, shared with the workers' ffmpeg and espeak.",
    )
    print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()

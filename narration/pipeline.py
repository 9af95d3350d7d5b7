"""The whole audio pipeline in one process: plan, synthesize what is missing, stitch, copy out.

The service runs the same steps as Celery tasks; this is what ``narrator narrate`` and tests
use. Remote engines (gTTS) are I/O-bound, so their chunks are all synthesized at once by as many
threads as a worker has, sharing one in-process adaptive limit on requests in flight; local
engines hold a lock and run one chunk at a time.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from narration.engines import get_engine
from narration.plan import NarrationPlan, plan_narration
from narration.ratelimit import LocalRequestLimiter, RateLimiter
from narration.script import Script
from narration.settings import Settings
from narration.stitch import StitchResult, stitch_narration
from narration.store import AudioStore
from narration.synthesis import synthesize_chunk


def synthesize_missing(
    plan: NarrationPlan,
    store: AudioStore,
    settings: Settings,
    *,
    progress: Callable[[int, int], None] | None = None,
    rate_limiter: RateLimiter | None = None,
) -> int:
    """Synthesize every chunk of ``plan`` not yet stored; return how many were synthesized.
    ``progress(done, total)`` is called as chunks complete (cached ones count as done)."""
    total = len(plan.chunks)
    missing = store.missing_chunks(plan)
    done = total - len(missing)
    if progress:
        progress(done, total)
    remote = get_engine(plan.engine, settings).remote
    limiter = rate_limiter
    if limiter is None and remote:
        limiter = LocalRequestLimiter(
            ceiling=settings.tts_concurrency_max, floor=settings.tts_concurrency_min
        )
    workers = max(1, min(settings.worker_concurrency, len(missing))) if remote else 1
    made = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(synthesize_chunk, plan, i, store, settings, rate_limiter=limiter)
            for i in missing
        ]
        try:
            for future in futures:
                result = future.result()
                made += 0 if result.cached else 1
                done += 1
                if progress:
                    progress(done, total)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return made


def _publish(source: Path, target: Path) -> None:
    """Copy a stored file to ``target`` atomically (a hard link when on the same disk)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own (two runs may publish to one output at once), removed on failure.
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
            with tmp.open("rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(target)) from exc  # the output, by its name
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def narrate(
    script: Script,
    output: Path,
    settings: Settings,
    *,
    engine: str | None = None,
    voice: str | None = None,
    lang: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    meta: dict[str, Any] | None = None,
) -> StitchResult:
    """Narrate ``script`` into ``output`` (an .mp3 path) with ``.json`` and ``.vtt`` beside it,
    using the audio store at ``settings.audio_cache_dir`` as the cache. Returns the stored
    result, with ``paths`` pointing at the files written beside ``output``. ``meta`` adds
    tag fields (see :func:`~narration.plan.plan_narration`)."""
    store = AudioStore(settings.audio_cache_dir)
    plan = plan_narration(script, settings, engine=engine, voice=voice, lang=lang, meta=meta)
    store.save_plan(plan)
    synthesize_missing(plan, store, settings, progress=progress)
    result = stitch_narration(plan, store, settings)
    output = Path(output)
    paths = {}
    for ext, stored in result.paths.items():
        target = output if ext == "mp3" else output.with_suffix(f".{ext}")
        _publish(stored, target)
        paths[ext] = target
    return replace(result, paths=paths)

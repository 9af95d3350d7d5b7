"""Thin Celery tasks around ``narration``: synthesize one chunk, stitch, publish, fail.

Tasks take IDs and keys, never objects: the plan is in the audio store under its narration key
and the narration row in the catalog under its ID. Each task begins with a state check so a
message delivered twice (``acks_late`` redelivers after a lost worker) finds its work done.

Every task takes ``attempt``, the row's ``attempts`` when its job was sent. A narration failed
and asked for again, or a lost job sent again, is a new attempt; tasks of the old one that still
run (chunks waiting out a retry, a failure callback) then do nothing, so a late failure cannot
fail the new attempt and the publisher never hears "failed" and then "ready". ``None`` (a
message sent before attempts were carried) is never stale.
"""

from __future__ import annotations

import json
import logging
import time
from functools import lru_cache
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.utils.time import get_exponential_backoff_interval
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from narration import logs
from narration.catalog import narrations, session_scope
from narration.catalog.models import NarrationState
from narration.errors import NarrationError, PermanentEngineError, TransientEngineError
from narration.gate import PriorityGate
from narration.redisconn import client_for, redis_url
from narration.settings import Settings, get_settings
from narration.store import AudioStore
from workers.celery_app import (
    PRIORITY,
    PUBLISH_HARD_LIMIT_S,
    STITCH_HARD_LIMIT_S,
    STITCH_SOFT_LIMIT_S,
    SYNTHESIZE_HARD_LIMIT_S,
    SYNTHESIZE_SOFT_LIMIT_S,
)

log = logging.getLogger(__name__)

TASK_RETRIES = 3
"""Task-level retries after ``synthesize_chunk`` spent its own quick retries: they ride out a
longer outage without holding a worker thread while waiting."""
RETRY_BACKOFF_FACTOR_S = 15
RETRY_BACKOFF_MAX_S = 300

CATALOG_OUTAGE_RETRY: dict[str, Any] = {
    # The catalog down (refused, dropped, locked) is no reason to lose the job: the task is sent
    # again with backoff (about an hour in all) instead of failing where no one can record it.
    "autoretry_for": (OperationalError, InterfaceError, PoolTimeout),
    "retry_backoff": 2,
    "retry_backoff_max": RETRY_BACKOFF_MAX_S,
    "retry_jitter": True,
    "retry_kwargs": {"max_retries": 20},
}


OFFLINE_ENGINES = ("espeak", "piper")
OFFLINE_SLOTS = 2
"""Chunks an offline engine speaks at once per worker process: eSpeak NG is one lock, Piper
wants the CPU; two keep the chunk's MP3 encode overlapping the next one's speech."""
_offline_gates: dict[str, PriorityGate] = {}
_UNGATED = PriorityGate(1_000_000)


def _offline_gate(engine: str) -> PriorityGate:
    """The process's gate for an offline engine, which lets the most urgent chunk in first
    (see :mod:`narration.gate`); network engines are not gated."""
    if engine not in OFFLINE_ENGINES:
        return _UNGATED
    return _offline_gates.setdefault(engine, PriorityGate(OFFLINE_SLOTS))


def _priority_of(task: Task) -> int:
    """The Redis priority the task was sent with (0 breaking news ... 9 backfill)."""
    value = (task.request.delivery_info or {}).get("priority")
    return int(value) if isinstance(value, int) else PRIORITY["normal"]


@lru_cache(maxsize=4)
def _rate_limiter(url: str, rate: float) -> Any:
    from narration.ratelimit import RedisRateLimiter

    return RedisRateLimiter(client_for(url), rate)


@shared_task(
    name="narration.synthesize",
    bind=True,
    acks_late=True,
    soft_time_limit=SYNTHESIZE_SOFT_LIMIT_S,
    time_limit=SYNTHESIZE_HARD_LIMIT_S,
    **CATALOG_OUTAGE_RETRY,
)
def synthesize(
    self: Task, narration_id: str, narration_key: str, index: int, attempt: int | None = None
) -> int:
    """Speak chunk ``index`` of the plan into the chunk cache; record the progress."""
    from narration.synthesis import synthesize_chunk

    settings = get_settings()
    with logs.bind(narration_id=narration_id, narration_key=narration_key, chunk=index):
        with session_scope(settings.catalog_url) as session:
            row = narrations.get(session, narration_id)
            if (
                row is None
                or row.state in narrations.FINAL_STATES
                or narrations.is_stale(row, attempt)
            ):
                # Deleted, already published, failed by another chunk, or replaced by a new
                # attempt that synthesizes this chunk itself: nothing to do.
                return index
            narrations.mark_running(session, narration_id)
            logs.update_context(article_id=row.article_id)
        store = AudioStore(settings.audio_cache_dir)
        plan = store.load_plan(narration_key)
        synth_ms: int | None = None
        if store.stored_key(plan, index) is None:
            try:
                gate = _offline_gate(plan.primary.engine)
                with gate.hold(_priority_of(self), rank=0 if index == 0 else 1):
                    started = time.monotonic()
                    synthesize_chunk(
                        plan,
                        index,
                        store,
                        settings,
                        rate_limiter=_rate_limiter(redis_url(settings), settings.tts_rate_limit),
                    )
            except TransientEngineError as exc:
                retries = self.request.retries
                if retries >= TASK_RETRIES:
                    raise PermanentEngineError(
                        f"chunk {index}: gave up after {retries + 1} attempts: {exc}"
                    ) from exc
                countdown = get_exponential_backoff_interval(
                    RETRY_BACKOFF_FACTOR_S, retries, RETRY_BACKOFF_MAX_S, full_jitter=True
                )
                log.warning("chunk %d: %s; retry in %d s", index, exc, countdown)
                raise self.retry(exc=exc, countdown=countdown, max_retries=None) from exc
            synth_ms = round((time.monotonic() - started) * 1000)
            log.info("chunk %d synthesized in %d ms", index, synth_ms)
        with session_scope(settings.catalog_url) as session:
            narrations.chunk_done(session, narration_id, index, synth_ms=synth_ms)
        return index


@shared_task(
    name="narration.stitch",
    acks_late=True,
    soft_time_limit=STITCH_SOFT_LIMIT_S,
    time_limit=STITCH_HARD_LIMIT_S,
    **CATALOG_OUTAGE_RETRY,
)
def stitch(
    narration_id: str, narration_key: str, attempt: int | None = None
) -> dict[str, Any] | None:
    """Join the chunks into the final MP3, manifest and transcript."""
    from narration.stitch import stitch_narration

    settings = get_settings()
    with logs.bind(narration_id=narration_id, narration_key=narration_key):
        with session_scope(settings.catalog_url) as session:
            row = narrations.get(session, narration_id)
            if row is None or row.state == NarrationState.FAILED:
                return None
            if row.state == NarrationState.READY and row.audio_key:
                return {
                    "audio_key": row.audio_key,
                    "duration_ms": row.duration_ms,
                    "bytes": row.bytes,
                    "engine": row.engine,
                }
            if narrations.is_stale(row, attempt):  # the new attempt stitches for itself
                return None
            narrations.mark_running(session, narration_id)
            logs.update_context(article_id=row.article_id)
        store = AudioStore(settings.audio_cache_dir)
        plan = store.load_plan(narration_key)
        started = time.monotonic()
        result = stitch_narration(
            plan,
            store,
            settings,
            rate_limiter=_rate_limiter(redis_url(settings), settings.tts_rate_limit),
        )
        log.info(
            "stitched %s: %d ms of audio, %d bytes, in %.1f s",
            result.audio_key,
            result.duration_ms,
            result.bytes,
            time.monotonic() - started,
        )
        manifest = json.loads(result.paths["json"].read_text())
        return {
            "audio_key": result.audio_key,
            "duration_ms": int(result.duration_ms),
            "bytes": int(result.bytes),
            # Who really spoke: with engine "auto", gTTS or its offline fallback, or both.
            "engine": "+".join(manifest.get("engines") or []) or None,
        }


@shared_task(
    name="narration.publish",
    acks_late=True,
    time_limit=PUBLISH_HARD_LIMIT_S,
    **CATALOG_OUTAGE_RETRY,
)
def publish(
    stitched: dict[str, Any] | None, narration_id: str, attempt: int | None = None
) -> str | None:
    """Mark the narration ready: from now on it is its articles' current audio."""
    settings = get_settings()
    if not stitched:
        return None
    with (
        logs.bind(narration_id=narration_id, audio_key=stitched["audio_key"]),
        session_scope(settings.catalog_url) as session,
    ):
        changed = narrations.mark_ready(
            session,
            narration_id,
            audio_key=stitched["audio_key"],
            duration_ms=int(stitched["duration_ms"]),
            size_bytes=int(stitched["bytes"]),
            engine=stitched.get("engine"),
            attempt=attempt,
        )
        row = narrations.get(session, narration_id)
        if row is None:
            return None
        logs.update_context(article_id=row.article_id, narration_key=row.narration_key)
        if changed:
            log.info("narration ready: %s", row.audio_key)
            _notify(settings, row, "narration.ready")
        return row.audio_key


@shared_task(name="narration.fail", time_limit=PUBLISH_HARD_LIMIT_S)
def fail(
    request: Any,
    exc: BaseException,
    traceback: Any,
    narration_id: str,
    attempt: int | None = None,
) -> None:
    """Error callback of every task of a job: record a readable reason, once, unless a newer
    attempt replaced the job meanwhile."""
    settings = get_settings()
    reason = readable_error(exc)
    with logs.bind(narration_id=narration_id), session_scope(settings.catalog_url) as session:
        changed = narrations.mark_failed(session, narration_id, reason, attempt=attempt)
        row = narrations.get(session, narration_id)
        if row is None:
            return
        logs.update_context(article_id=row.article_id, narration_key=row.narration_key)
        if changed:
            log.warning("narration failed: %s", reason)
            _notify(settings, row, "narration.failed")
        elif narrations.is_stale(row, attempt):
            log.info(
                "ignored a failure of attempt %s, now at %d: %s", attempt, row.attempts, reason
            )


def readable_error(exc: BaseException) -> str:
    """What a publisher is shown: our own errors as they are, anything else by its kind."""
    if isinstance(exc, NarrationError):
        return str(exc)
    if isinstance(exc, SoftTimeLimitExceeded):
        return "the narration took too long and was stopped"
    text = str(exc) or type(exc).__name__
    return f"internal error ({type(exc).__name__}): {text}"[:500]


def _notify(settings: Settings, row: narrations.Narration, event: str) -> None:
    if not row.callback_url:
        return
    from workers.webhooks import notify

    base_url = (settings.public_url or "").rstrip("/")
    try:
        notify(row.callback_url, event, narrations.status(row, base_url=base_url))  # type: ignore[arg-type]
    except Exception:  # a webhook must never fail the narration it reports on
        log.exception("could not queue the %s webhook", event)

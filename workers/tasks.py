"""Thin Celery tasks around ``narration``: synthesize one chunk, stitch, publish, fail.

Tasks take IDs and keys, never objects: the plan is in the audio store under its narration key
and the narration row in the catalog under its ID. :class:`NarrationTask` owns what every task
shares: its settings (from its app), log context, the state check at the top (a message
delivered twice finds its work done; a task of a replaced attempt does nothing), marking the
narration running with its next progress due, and riding out a catalog outage.

Every task takes ``attempt``, the row's ``attempts`` when its job was sent. A narration failed
and asked for again, or lost work sent again, is a new attempt; tasks of the old one that still
run (chunks waiting out a retry, a failure callback) then do nothing, so a late failure cannot
fail the new attempt and the publisher never hears "failed" and then "ready". ``None`` (a
message sent before attempts were carried) is never stale.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from celery import Task, current_app, shared_task
from celery.exceptions import Retry
from celery.utils.time import get_exponential_backoff_interval
from redis.exceptions import RedisError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from narration import logs
from narration.catalog import narrations, session_scope
from narration.catalog.models import Narration, NarrationState
from narration.errors import TransientEngineError
from narration.failures import RateLimitedTooLong, is_rate_limited
from narration.gate import PriorityGate
from narration.jobs import due_from_now
from narration.redisconn import client_for, redis_url
from narration.settings import Settings
from narration.store import AudioStore
from narration.threads import in_background
from workers.celery_app import (
    PRIORITY,
    PUBLISH_HARD_LIMIT_S,
    STITCH_HARD_LIMIT_S,
    STITCH_SOFT_LIMIT_S,
    SYNTHESIZE_HARD_LIMIT_S,
    SYNTHESIZE_SOFT_LIMIT_S,
    settings_of,
)
from workers.dispatch import note_started
from workers.failures import failure_for, is_infrastructure, unwrap

log = logging.getLogger(__name__)

TASK_RETRIES = 3
"""Task-level retries of a failing (not rate-limited) engine after ``synthesize_chunk`` spent
its own quick retries: they ride out a longer outage without holding a worker thread."""
RETRY_BACKOFF_FACTOR_S = 15
RETRY_BACKOFF_MAX_S = 300
STITCH_ALLOWANCE_PER_CHUNK_S = 0.5
"""How long a stitch may run without showing progress, beyond ``NARRATOR_STALL_AFTER_S``, per
chunk (stitching 280 s of speech in 23 chunks takes about 5 s here)."""


@lru_cache(maxsize=4)
def _redis_client(url: str) -> Any:
    return client_for(url)


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


def _run_at(task: Task, work: Callable[[], Any]) -> Any:
    """``work()`` at the task's CPU priority: a backfill's (``low``) runs in the background
    (:func:`narration.threads.in_background`), so the API and more urgent narrations on the same
    machine get the cores first; anything more urgent runs here."""
    if _priority_of(task) >= PRIORITY["low"]:
        return in_background(work)
    return work()


def _rate_limiter(settings: Settings) -> Any:
    """The limit on engine requests in flight shared by every worker (one per process)."""
    from narration.ratelimit import shared_limiter

    return shared_limiter(settings)


def rate_limited_wait(
    settings: Settings, retries: int, jitter: Callable[[float, float], float] = random.uniform
) -> float | None:
    """Seconds a chunk rate-limited for the ``retries``-th time waits before trying again:
    ``NARRATOR_TTS_BACKOFF_S`` doubling up to ``_MAX_S``, each between half and all of it (so
    chunks that met the limit together do not come back together); ``None`` once the waits so
    far add up to ``NARRATOR_TTS_RATE_LIMITED_FOR_S``: then the narration fails."""
    waits = [
        min(settings.tts_backoff_max_s, settings.tts_backoff_s * 2**n) for n in range(retries + 1)
    ]
    if sum(waits[:-1]) >= settings.tts_rate_limited_for_s:
        return None
    return waits[-1] / 2 + jitter(0.0, waits[-1] / 2)


class NarrationTask(Task):
    """The shared preamble of the narration tasks."""

    acks_late = True
    # The catalog down (refused, dropped, locked) is no reason to lose the job: the task is sent
    # again with backoff (about an hour in all) instead of failing where no one can record it.
    autoretry_for = (OperationalError, InterfaceError, PoolTimeout)
    retry_backoff = 2
    retry_backoff_max = RETRY_BACKOFF_MAX_S
    retry_jitter = True
    retry_kwargs = {"max_retries": 20}  # noqa: RUF012  (Celery reads it from the class)
    max_retries = None  # engine retries are bounded by retry_engine's own budget

    @property
    def settings(self) -> Settings:
        return settings_of(self.app)

    @property
    def store(self) -> AudioStore:
        return AudioStore(self.settings.audio_cache_dir)

    def redis(self) -> Any:
        return _redis_client(redis_url(self.settings))

    def rate_limiter(self) -> Any:
        return _rate_limiter(self.settings)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fields: dict[str, Any] = {"task_id": self.request.id, "task": self.name}
        if self.name in ("narration.synthesize", "narration.stitch") and len(args) >= 2:
            fields.update(narration_id=args[0], narration_key=args[1])
        elif self.name == "narration.publish" and len(args) >= 2:
            fields.update(narration_id=args[1])
        with logs.bind(**fields):
            return super().__call__(*args, **kwargs)

    def row(self, narration_id: str) -> Narration | None:
        with session_scope(self.settings.catalog_url) as session:
            return narrations.get(session, narration_id)

    def begin(
        self, narration_id: str, attempt: int | None, *, stitching: bool = False
    ) -> Narration | None:
        """The row when this task has work to do on it, marked running with its next progress
        due; ``None`` when it was deleted, has finished, or a newer attempt replaced this one."""
        settings = self.settings
        if not self.request.retries:
            try:
                note_started(self.redis(), narration_id, attempt)
            except RedisError as exc:  # only a hint for the reconciler: never stop for it
                log.warning("could not count off a started message: %r", exc)
        with session_scope(settings.catalog_url) as session:
            row = narrations.get(session, narration_id)
            if (
                row is None
                or row.state in narrations.FINAL_STATES
                or narrations.is_stale(row, attempt)
            ):
                return None
            allowance = 0.0
            if stitching:
                allowance = STITCH_ALLOWANCE_PER_CHUNK_S * row.chunks_total
            narrations.mark_running(session, narration_id)
            narrations.push_due(session, narration_id, due_from_now(settings, allowance))
            logs.update_context(article_id=row.article_id)
            return row

    def retry_engine(self, narration_id: str, index: int, exc: TransientEngineError) -> Retry:
        """Retry a chunk the engine failed: rate-limited, after a wait of minutes that doubles
        each time (the narration announces the wait, so the reconciler leaves it alone), until
        ``NARRATOR_TTS_RATE_LIMITED_FOR_S`` is spent; otherwise a few times, seconds apart."""
        settings = self.settings
        retries = self.request.retries
        if is_rate_limited(exc):
            wait = rate_limited_wait(settings, retries)
            if wait is None:
                raise RateLimitedTooLong(str(exc)) from exc
            countdown = wait
        else:
            if retries >= TASK_RETRIES:
                raise exc
            countdown = get_exponential_backoff_interval(
                RETRY_BACKOFF_FACTOR_S, retries, RETRY_BACKOFF_MAX_S, full_jitter=True
            )
        with session_scope(settings.catalog_url) as session:
            narrations.push_due(session, narration_id, due_from_now(settings, countdown))
        log.warning("chunk %d: %s; retry in %.0f s", index, exc, countdown)
        return self.retry(exc=exc, countdown=countdown)


@shared_task(
    name="narration.synthesize",
    bind=True,
    base=NarrationTask,
    soft_time_limit=SYNTHESIZE_SOFT_LIMIT_S,
    time_limit=SYNTHESIZE_HARD_LIMIT_S,
)
def synthesize(
    self: NarrationTask,
    narration_id: str,
    narration_key: str,
    index: int,
    attempt: int | None = None,
) -> int:
    """Speak chunk ``index`` of the plan into the chunk cache; record the progress."""
    from narration.synthesis import synthesize_chunk

    with logs.bind(chunk=index):
        if self.begin(narration_id, attempt) is None:
            # Deleted, already published, failed by another chunk, or replaced by a new
            # attempt that synthesizes this chunk itself: nothing to do.
            return index
        settings, store = self.settings, self.store
        plan = store.load_plan(narration_key)
        synth_ms: int | None = None
        if store.stored_key(plan, index) is None:
            try:
                gate = _offline_gate(plan.primary.engine)
                with gate.hold(_priority_of(self), rank=0 if index == 0 else 1):
                    started = time.monotonic()
                    limiter = self.rate_limiter()
                    _run_at(
                        self,
                        lambda: synthesize_chunk(
                            plan, index, store, settings, rate_limiter=limiter
                        ),
                    )
            except TransientEngineError as exc:
                raise self.retry_engine(narration_id, index, exc) from exc
            synth_ms = round((time.monotonic() - started) * 1000)
            log.info("chunk %d synthesized in %d ms", index, synth_ms)
        with session_scope(settings.catalog_url) as session:
            narrations.chunk_done(session, narration_id, index, synth_ms=synth_ms)
            narrations.push_due(session, narration_id, due_from_now(settings))
        return index


@shared_task(
    name="narration.stitch",
    bind=True,
    base=NarrationTask,
    soft_time_limit=STITCH_SOFT_LIMIT_S,
    time_limit=STITCH_HARD_LIMIT_S,
)
def stitch(
    self: NarrationTask, narration_id: str, narration_key: str, attempt: int | None = None
) -> dict[str, Any] | None:
    """Join the chunks into the final MP3, manifest and transcript."""
    from narration.stitch import stitch_narration

    row = self.row(narration_id)
    if row is not None and row.state == NarrationState.READY and row.audio_key:
        return {
            "audio_key": row.audio_key,
            "duration_ms": row.duration_ms,
            "bytes": row.bytes,
            "engine": row.engine,
        }
    if self.begin(narration_id, attempt, stitching=True) is None:
        return None  # deleted, failed, or the new attempt stitches for itself
    settings, store = self.settings, self.store
    plan = store.load_plan(narration_key)
    started = time.monotonic()
    limiter = self.rate_limiter()
    result = _run_at(self, lambda: stitch_narration(plan, store, settings, rate_limiter=limiter))
    log.info(
        "stitched %s: %d ms of audio, %d bytes, in %.1f s",
        result.audio_key,
        result.duration_ms,
        result.bytes,
        time.monotonic() - started,
    )
    return {
        "audio_key": result.audio_key,
        "duration_ms": int(result.duration_ms),
        "bytes": int(result.bytes),
        # Who really spoke: with engine "auto", gTTS or its offline fallback, or both.
        "engine": "+".join(result.engines) or None,
    }


@shared_task(
    name="narration.publish", bind=True, base=NarrationTask, time_limit=PUBLISH_HARD_LIMIT_S
)
def publish(
    self: NarrationTask,
    stitched: dict[str, Any] | None,
    narration_id: str,
    attempt: int | None = None,
) -> str | None:
    """Mark the narration ready: from now on it is its articles' current audio."""
    if not stitched:
        return None
    settings = self.settings
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


# Not bound: Celery calls an error callback that takes (request, exc, traceback) in the worker
# that saw the failure, with the exception itself; a bound one would get only a task ID.
@shared_task(name="narration.fail", base=NarrationTask, time_limit=PUBLISH_HARD_LIMIT_S)
def fail(
    request: Any,
    exc: BaseException,
    traceback: Any,
    narration_id: str,
    attempt: int | None = None,
) -> None:
    """Error callback of every task of a job: record why, in plain words and with a category,
    once, unless a newer attempt replaced the job meanwhile. A lost connection to Redis or the
    catalog fails nothing: the reconciler sends the work again when they are back."""
    settings = settings_of(current_app)
    cause = unwrap(exc)
    with logs.bind(narration_id=narration_id):
        if is_infrastructure(cause):
            log.warning("left for the reconciler after an outage: %r", cause)
            return
        failure = failure_for(cause, AudioStore(settings.audio_cache_dir))
        with session_scope(settings.catalog_url) as session:
            changed = narrations.mark_failed(
                session, narration_id, failure.message, attempt=attempt, category=failure.category
            )
            row = narrations.get(session, narration_id)
            if row is None:
                return
            logs.update_context(article_id=row.article_id, narration_key=row.narration_key)
            if changed:
                log.warning("narration failed (%s): %r", failure.category, cause)
                _notify(settings, row, "narration.failed")
            elif narrations.is_stale(row, attempt):
                log.info(
                    "ignored a failure of attempt %s, now at %d: %r", attempt, row.attempts, cause
                )


def _notify(settings: Settings, row: narrations.Narration, event: str) -> None:
    if not row.callback_url:
        return
    from workers.webhooks import notify

    base_url = (settings.public_url or "").rstrip("/")
    try:
        notify(row.callback_url, event, narrations.status(row, base_url=base_url))  # type: ignore[arg-type]
    except Exception:  # a webhook must never fail the narration it reports on
        log.exception("could not queue the %s webhook", event)

"""The reconciler: the catalog says what should exist; lost work is sent again.

Every unfinished narration carries ``due_at``, when its next progress is due: it is pushed
forward when the job is sent, when a task starts, when a chunk is stored, when the stitch starts
and when a chunk announces a wait (a rate-limit backoff). A narration past it has lost work:

- ``queued`` and its job is not in the queue's records (never sent: the API was killed between
  the row and the job; or the queue lost it) -- or ``running`` with no progress: a worker was
  killed holding its chunks or its stitch, a chord's count was lost with Redis;
- then exactly the missing work is sent again: the chunks not in the store, as a new attempt
  (tasks of the old one become no-ops); or, when all are there, only the stitch, in the same
  attempt, so a stitch that was only waiting its turn still counts and the first of the two to
  run publishes. Chunks and stitches are content-addressed and idempotent, so work that was
  only slow, not lost, costs a duplicate and never a wrong result.

A narration whose job still has messages waiting in the queue (the queue's record of the send
says so) is only waiting its turn behind other work, however long the queue: its due time moves
on and it is looked at again later.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from narration.catalog import narrations, session_scope
from narration.catalog.models import Narration, NarrationState
from narration.failures import Category
from narration.queue import JobQueue, Sent
from narration.settings import Settings
from narration.store import AudioStore

log = logging.getLogger(__name__)

SWEEP_LIMIT = 200
"""Narrations looked at per sweep; the oldest due first, the rest at the next sweep."""


def sweep(
    settings: Settings, store: AudioStore, queue: JobQueue, *, now: datetime | None = None
) -> list[str]:
    """Send the missing work of every overdue narration again; return their IDs."""
    now = now or datetime.now(UTC)
    with session_scope(settings.catalog_url) as session:
        overdue = narrations.overdue(session, now=now, limit=SWEEP_LIMIT)
    if not overdue:
        return []
    sent = queue.sent([row.id for row in overdue])
    resent = []
    for row in overdue:
        if _resend(settings, store, queue, row, sent, now):
            resent.append(row.id)
    return resent


def recover(
    settings: Settings,
    store: AudioStore,
    queue: JobQueue,
    narration_id: str,
    *,
    now: datetime | None = None,
) -> bool:
    """The sweep for one narration (someone asked for it again): True when work was resent."""
    now = now or datetime.now(UTC)
    with session_scope(settings.catalog_url) as session:
        row = narrations.get(session, narration_id)
    if row is None or row.state not in narrations.UNFINISHED:
        return False
    due = row.due_at
    if due is not None and _utc(due) >= now:
        return False
    return _resend(settings, store, queue, row, queue.sent([row.id]), now)


def _resend(
    settings: Settings,
    store: AudioStore,
    queue: JobQueue,
    row: Narration,
    sent: dict[str, Sent],
    now: datetime,
) -> bool:
    next_due = now + timedelta(seconds=settings.stall_after_s)
    record = sent.get(row.id)
    if record is not None and record.attempt == row.attempts and record.waiting > 0:
        # Waiting its turn behind other work: look again later.
        with session_scope(settings.catalog_url) as session:
            narrations.push_due(session, row.id, next_due)
        return False
    try:
        plan = store.load_plan(row.narration_key)
    except FileNotFoundError:
        with session_scope(settings.catalog_url) as session:
            narrations.mark_failed(
                session,
                row.id,
                "The narration's plan is gone from the audio store; ask for it again.",
                attempt=row.attempts,
                category=Category.INTERNAL,
            )
        log.error("narration %s: its plan %s is gone", row.id, row.narration_key)
        return False
    missing = store.missing_chunks(plan)
    # A stitch resent in the same attempt, for an unfinished queued job a new one.
    new_attempt = bool(missing) or row.state == NarrationState.QUEUED
    with session_scope(settings.catalog_url) as session:
        if not narrations.claim_resend(
            session,
            row.id,
            seen_attempt=row.attempts,
            now=now,
            due_at=next_due,
            new_attempt=new_attempt,
        ):
            return False  # finished, resent by someone else, or progress came meanwhile
    attempt = row.attempts + 1 if new_attempt else row.attempts
    log.warning(
        "narration %s (%s) stalled: sending %s again as attempt %d",
        row.id,
        row.state.value,
        f"{len(missing)} chunk(s) and the stitch" if missing else "the stitch",
        attempt,
    )
    queue.send(row.id, row.narration_key, missing, attempt, row.priority)
    return True


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)

"""The job queue on Celery: the canvas for one narration attempt, and a record of sending it.

::

    chord(group(synthesize(chunk) for each missing chunk), stitch) --link--> publish

Every task carries ``fail`` as its error callback, so a permanent engine error on any chunk
fails the narration at once with that chunk's reason. With no chunk missing, the job is
stitch and publish only.

Every task also carries ``attempt``, the row's ``attempts`` when this job was sent: a failed
narration asked for again, or lost work sent again, starts a new attempt while tasks of the old
one may still run, and their outcome (above all a late failure) must not touch the new one.

After a send, the hash ``narrator:sent:<narration id>`` records the ``attempt`` sent and how
many messages it sent (``sent:<attempt>``: its chunks; the stitch of a stitch-only job), in the
same Redis as the messages; each task taking one up counts itself in ``started:<attempt>``
(:func:`note_started`). What is still waiting in the queue is the difference. That is how the
reconciler tells a job waiting its turn behind a long queue from a lost one: a narration with no
record was never sent (or Redis lost the record with the messages); one whose messages were all
taken up and that shows no progress lost its work with a worker.

The two counts are kept apart because a worker may take up a message before the sender has
written its record (the record is written after the send, so that a sender dying in between
costs a duplicate job, never a lost one): a single "waiting" count decremented by the tasks
would miss those early starts and show the job waiting for ever.

A start that cannot be counted (Redis went away as the task began, or died within a second of
the count, before its append-only file had it) leaves the difference too high for ever; so what
is reported waiting is capped by the messages the queue's lists hold. Once the queue has drained
below the count, the job is seen for what it is: lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import redis
from celery import Celery, chord, group
from celery.canvas import Signature

from narration.queue import QueueUnavailable, Sent
from narration.redisconn import client_for
from workers.celery_app import PRIORITY, WEB_REDIS_CONNECT_TIMEOUT_S, queue_keys

SENT_KEY = "narrator:sent:"
SENT_TTL_S = 14 * 24 * 3600
"""Far longer than any narration stays queued; the key only has to outlive the wait."""


def build_canvas(
    celery: Celery,
    narration_id: str,
    narration_key: str,
    missing: Sequence[int],
    *,
    attempt: int,
    priority: str = "normal",
) -> Signature:
    level = PRIORITY[priority]
    token = {"attempt": attempt}

    def on_error(signature: Signature) -> Signature:
        signature.on_error(celery.signature("narration.fail", args=(narration_id,), kwargs=token))
        return signature

    def task(name: str, *args: object) -> Signature:
        return on_error(
            celery.signature(name, args=args, kwargs=token, immutable=True, priority=level)
        )

    publish = on_error(
        celery.signature("narration.publish", args=(narration_id,), kwargs=token, priority=level)
    )
    stitch = task("narration.stitch", narration_id, narration_key)
    stitch.link(publish)
    if not missing:
        return stitch
    header = group(
        [task("narration.synthesize", narration_id, narration_key, index) for index in missing],
        app=celery,
    )
    return chord(header, stitch, app=celery)


class CeleryJobQueue:
    """:class:`narration.queue.JobQueue` on a Celery app (its broker and result backend)."""

    def __init__(self, celery: Celery) -> None:
        self.celery = celery

    @cached_property
    def redis_client(self) -> redis.Redis:
        return client_for(str(self.celery.conf.broker_url), timeout=WEB_REDIS_CONNECT_TIMEOUT_S)

    def send(
        self,
        narration_id: str,
        narration_key: str,
        missing: Sequence[int],
        attempt: int,
        priority: str,
    ) -> None:
        canvas = build_canvas(
            self.celery, narration_id, narration_key, missing, attempt=attempt, priority=priority
        )
        try:
            canvas.apply_async()
            # Written after the send: losing it costs a duplicate job, never a lost one.
            key = f"{SENT_KEY}{narration_id}"
            pipe = self.redis_client.pipeline()
            pipe.hset(key, mapping={"attempt": attempt, f"sent:{attempt}": len(missing) or 1})
            pipe.expire(key, SENT_TTL_S)
            pipe.execute()
        except Exception as exc:  # kombu, redis-py and socket errors all mean the same here
            raise QueueUnavailable("the job queue is unreachable") from exc

    def sent(self, narration_ids: Sequence[str]) -> dict[str, Sent]:
        keys = queue_keys()
        pipe = self.redis_client.pipeline(transaction=False)
        for key in keys:
            pipe.llen(key)
        for narration_id in narration_ids:
            pipe.hgetall(f"{SENT_KEY}{narration_id}")
        replies = pipe.execute()
        in_queue = sum(replies[: len(keys)])
        records: dict[str, Sent] = {}
        for narration_id, fields in zip(narration_ids, replies[len(keys) :], strict=True):
            record = _record(fields, in_queue)
            if record is not None:
                records[narration_id] = record
        return records


def _record(fields: dict[bytes, bytes], in_queue: int) -> Sent | None:
    found = {key.decode(): int(value) for key, value in fields.items()}
    attempt = found.get("attempt")
    if attempt is None:
        return None  # only early starts counted: the send itself is not recorded yet
    counted = found.get(f"sent:{attempt}", 0) - found.get(f"started:{attempt}", 0)
    # The count can only err high: a start that could not be counted while Redis was away, or
    # was counted in the last second before it died (the append-only file syncs once a
    # second), is lost. No more can be waiting than the queue holds, so an empty queue frees a
    # job a lost count held.
    return Sent(attempt, max(0, min(counted, in_queue)))


_NOTE_STARTED = """
redis.call('HINCRBY', KEYS[1], 'started:' .. ARGV[1], 1)
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


def note_started(client: redis.Redis, narration_id: str, attempt: int | None) -> None:
    """A task of attempt ``attempt`` took up its message: one fewer waiting in the queue, even
    when the sender has not recorded the send yet. Called once per message (not again on a
    retry); a message delivered twice counts twice, which errs towards looking for lost work
    sooner, never later."""
    if attempt is None:
        return
    client.eval(_NOTE_STARTED, 1, f"{SENT_KEY}{narration_id}", str(attempt), str(SENT_TTL_S))

"""Start a narration job: the Celery canvas for one narration row.

::

    chord(group(synthesize(chunk) for each missing chunk), stitch) --link--> publish

Every task carries ``fail`` as its error callback, so a permanent engine error on any chunk
fails the narration at once with that chunk's reason. With no chunk missing, the job is
stitch and publish only.

Every task also carries ``attempt``, the row's ``attempts`` when this job was sent: a failed
narration asked for again, or a lost job sent again, starts a new attempt while tasks of the
old one may still run, and their outcome (above all a late failure) must not touch the new one.

Signatures are built by task name, so the web app needs the Celery app (its broker), not the
task code.
"""

from __future__ import annotations

from collections.abc import Sequence

from celery import Celery, chord, group
from celery.canvas import Signature

from narration.redisconn import client_for
from workers.celery_app import PRIORITY, queue_keys


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


def enqueue(
    celery: Celery,
    narration_id: str,
    narration_key: str,
    missing: Sequence[int],
    *,
    attempt: int,
    priority: str = "normal",
) -> str:
    """Send the job for attempt ``attempt`` of the row; return the id of its final task."""
    canvas = build_canvas(
        celery, narration_id, narration_key, missing, attempt=attempt, priority=priority
    )
    result = canvas.apply_async()
    return str(result.id)


def nothing_pending(celery: Celery) -> bool:
    """True when no narration task waits in Redis and no worker holds one (unacknowledged,
    which includes retries waiting out their countdown): any unfinished narration then has
    lost its job."""
    redis = client_for(str(celery.conf.broker_url))
    pipe = redis.pipeline(transaction=False)
    for key in queue_keys():
        pipe.llen(key)
    pipe.hlen("unacked")
    return not any(pipe.execute())

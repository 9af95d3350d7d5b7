"""The job canvas: one synthesis task per missing chunk, then stitch, then publish."""

from __future__ import annotations

from celery import Celery
from celery.canvas import Signature, _chord

from narration.settings import Settings
from workers.celery_app import create_celery
from workers.dispatch import build_canvas


def app(settings: Settings) -> Celery:
    return create_celery(settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}))


def errbacks(signature: Signature) -> list[tuple[str, tuple[object, ...], dict[str, object]]]:
    return [
        (e["task"], tuple(e["args"]), dict(e["kwargs"]))
        for e in signature.options.get("link_error", [])
    ]


FAIL_ATTEMPT_3 = [("narration.fail", ("n1",), {"attempt": 3})]


def test_missing_chunks_run_in_parallel_before_stitch_and_publish(settings: Settings) -> None:
    canvas = build_canvas(app(settings), "n1", "k" * 32, [0, 2, 5], attempt=3, priority="low")
    assert isinstance(canvas, _chord)
    header = list(canvas.tasks)
    assert [t.task for t in header] == ["narration.synthesize"] * 3
    assert [tuple(t.args) for t in header] == [("n1", "k" * 32, i) for i in (0, 2, 5)]
    assert all(t.kwargs == {"attempt": 3} for t in header)
    assert all(t.immutable and t.options["priority"] == 9 for t in header)
    assert all(errbacks(t) == FAIL_ATTEMPT_3 for t in header)

    stitch = canvas.body
    assert stitch.task == "narration.stitch" and tuple(stitch.args) == ("n1", "k" * 32)
    assert stitch.kwargs == {"attempt": 3}
    assert errbacks(stitch) == FAIL_ATTEMPT_3
    (publish,) = stitch.options["link"]
    assert publish["task"] == "narration.publish" and tuple(publish["args"]) == ("n1",)
    assert publish["kwargs"] == {"attempt": 3}
    assert errbacks(publish) == FAIL_ATTEMPT_3


def test_with_every_chunk_cached_the_job_is_stitch_and_publish(settings: Settings) -> None:
    canvas = build_canvas(app(settings), "n1", "k" * 32, [], attempt=1, priority="high")
    assert canvas.task == "narration.stitch"
    assert canvas.options["priority"] == 0

"""Fault drills against the real processes: workers killed, Redis restarted, the API killed
between the row and the job, a 429 storm, a refusing speech service.

Each drill asserts the outcome the product promises: the narration is ready (or failed with the
right category), nothing half-written is ever served, workers stay alive. Recovery is quick
because the tests set a short stall threshold and sweep interval through the settings, as an
operator would; the time each recovery took is printed (``pytest -m faults -s``), never asserted.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from mutagen.mp3 import MP3

from narration import scratch
from narration.article import Article
from narration.audio import find_ffmpeg
from narration.catalog import narrations, session_scope, upgrade_to_head
from narration.jobs import request_narration
from narration.settings import Settings
from narration.store import AudioStore
from service.app import create_app
from service.serve import redis_server_binary
from tests.fakes.gtts_server import GttsStandIn
from tests.integration.worker_process import (
    await_condition,
    celery_worker,
    free_port,
    http_server,
    running,
)

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(300)]

AUTH = {"Authorization": "Bearer test-key"}
RECOVERY_TIMEOUT_S = 120
"""The promise: lost work is back within two minutes of a worker being there to do it."""

PARAGRAPHS = [
    "The harbour bridge reopened to traffic on Monday morning after eight months of repairs "
    "that closed the main route between the old town and the port district.",
    "Engineers replaced the worn cables and repainted the steel towers in their original grey, "
    "working through the winter nights so that the ferries could keep their timetable.",
    "Commuters welcomed the news, saying the detour had added half an hour to their trips and "
    "that the buses on the ring road had been too full to board at rush hour.",
    "The city council said the project finished two weeks early and under its budget, and "
    "that the savings would go to resurfacing the cycle lanes along the waterfront.",
    "Shop owners near the bridge said trade had fallen by a third during the closure and hoped "
    "the reopening would bring back the visitors who used to stroll across at weekends.",
    "A ceremony with the mayor and the engineers who led the work is planned for Saturday, "
    "when the bridge will be closed to cars for an afternoon of music and food stalls.",
]


def story(title: str, paragraphs: list[str] = PARAGRAPHS) -> str:
    return "\n\n".join([title, "By Ana Ruiz", *paragraphs]) + "\n"


@pytest.fixture
def fault_settings(service_settings: Settings, tmp_path: Path) -> Settings:
    """Short stall threshold and sweep interval: recovery in seconds, not minutes."""
    return service_settings.model_copy(
        update={
            "stall_after_s": 5.0,
            "reconcile_interval_s": 1.0,
            "scratch_dir": tmp_path / "scratch",
        }
    )


def put_and_post(base: str, article_id: str, text: str) -> dict[str, Any]:
    put = requests.put(
        f"{base}/v1/articles/{article_id}",
        data=text.encode(),
        headers={**AUTH, "Content-Type": "text/plain; charset=utf-8"},
        timeout=30,
    )
    assert put.status_code in (200, 201), put.text
    posted = requests.post(f"{base}/v1/articles/{article_id}/narration", headers=AUTH, timeout=60)
    assert posted.status_code == 202, posted.text
    body: dict[str, Any] = posted.json()
    return body


def status(base: str, article_id: str) -> dict[str, Any]:
    body: dict[str, Any] = requests.get(
        f"{base}/v1/articles/{article_id}/narration", timeout=10
    ).json()
    return body


def await_state(base: str, article_id: str, state: str, timeout: float) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        body = status(base, article_id)
        if body["state"] == "failed" and state != "failed":
            raise AssertionError(f"narration failed: {body['error']}")
        return body if body["state"] == state else None

    return await_condition(probe, timeout=timeout, what=f"{article_id} to be {state}")


def assert_whole_mp3_served(base: str, settings: Settings, body: dict[str, Any]) -> None:
    """The served MP3 is the whole file the catalog describes, and the store holds no
    half-written audio or scratch files where it is served."""
    audio = requests.get(body["audio_url"], timeout=30)
    assert audio.status_code == 200
    assert len(audio.content) == body["bytes"]
    mp3 = settings.audio_cache_dir / body["audio_url"].rsplit("/", 1)[1]
    length_ms = MP3(mp3).info.length * 1000
    assert abs(length_ms - body["duration_ms"]) < 200
    store = AudioStore(settings.audio_cache_dir)
    for path in settings.audio_cache_dir.glob("*.mp3"):
        assert store.has_audio(path.stem), f"{path.name} without its manifest and transcript"
    assert not list(settings.audio_cache_dir.glob(".stitch-*")), "stitch scratch in the store"


def worker_log_of(tmp_path: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in tmp_path.glob("worker-*.log"))


def test_worker_killed_mid_synthesis_recovers(
    fault_settings: Settings, gtts_server: GttsStandIn, tmp_path: Path
) -> None:
    gtts_server.latency = 0.3  # chunks take long enough to be caught in flight
    with http_server(create_app(fault_settings)) as base:
        with celery_worker(fault_settings, tmp_path, concurrency=4) as first:
            put_and_post(base, "killed-synth", story("Bridge reopens"))

            def in_flight() -> bool:
                body = status(base, "killed-synth")
                return body["state"] == "running" and body["chunks_done"] >= 1

            await_condition(in_flight, timeout=60, what="synthesis to be under way")
            first.kill()  # SIGKILL: no chance to give anything back
            first.wait()
        killed_at = status(base, "killed-synth")
        assert killed_at["state"] == "running" and killed_at["audio_url"] is None
        no_audio = requests.get(f"{base}/v1/articles/killed-synth/audio", timeout=10)
        assert no_audio.status_code == 404  # nothing half-made is served meanwhile

        started = time.monotonic()
        with celery_worker(fault_settings, tmp_path):
            ready = await_state(base, "killed-synth", "ready", RECOVERY_TIMEOUT_S)
            print(
                f"killed mid-synthesis: ready {time.monotonic() - started:.1f} s after a new worker"
            )
        assert ready["chunks_done"] == ready["chunks_total"]
        assert_whole_mp3_served(base, fault_settings, ready)


SLOW_FFMPEG = """#!/bin/sh
# ffmpeg, slowed down when it reads a stitch's raw PCM: a stitch that can be caught mid-way.
case "$*" in *stitch-*.raw*) sleep 60 ;; esac
exec {ffmpeg} "$@"
"""


def test_worker_killed_mid_stitch_recovers_and_leaves_no_scratch(
    fault_settings: Settings, gtts_server: GttsStandIn, tmp_path: Path
) -> None:
    wrapper = tmp_path / "slow-ffmpeg"
    wrapper.write_text(SLOW_FFMPEG.format(ffmpeg=find_ffmpeg()))
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    slow = fault_settings.model_copy(update={"ffmpeg_binary": str(wrapper)})
    scratch_root = scratch.root(fault_settings)
    with http_server(create_app(fault_settings)) as base:
        with celery_worker(slow, tmp_path, concurrency=4) as first:
            put_and_post(base, "killed-stitch", story("Bridge reopens for the stitch"))

            def stitching() -> bool:
                return any(scratch_root.glob("*/stitch-*"))

            await_condition(stitching, timeout=120, what="the stitch to be under way")
            first.kill()
            first.wait()
        killed_at = status(base, "killed-stitch")
        assert killed_at["state"] == "running"
        assert killed_at["chunks_done"] == killed_at["chunks_total"]
        assert (
            requests.get(f"{base}/v1/articles/killed-stitch/audio", timeout=10).status_code == 404
        )

        started = time.monotonic()
        with celery_worker(fault_settings, tmp_path):
            ready = await_state(base, "killed-stitch", "ready", RECOVERY_TIMEOUT_S)
            print(f"killed mid-stitch: ready {time.monotonic() - started:.1f} s after a new worker")
            # The dead worker's scratch folder went with it; the new worker's own stays empty.
            await_condition(
                lambda: not any(scratch_root.glob("*/stitch-*")),
                timeout=30,
                what="the dead worker's scratch to be removed",
            )
        assert_whole_mp3_served(base, fault_settings, ready)


@contextmanager
def private_redis(data_dir: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A redis-server of this test's own, with an append-only file, as in production."""
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [
        redis_server_binary(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(data_dir),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
    ]  # fmt: skip
    with running(args, dict(os.environ), data_dir / f"redis-{time.time_ns()}.log", "redis") as p:

        def answers() -> bool:
            import redis

            try:
                return bool(redis.Redis(port=port, socket_timeout=1).ping())
            except redis.RedisError:
                return False

        await_condition(answers, timeout=30, what="the private redis-server")
        yield p


def test_redis_killed_and_restarted_mid_narration(
    fault_settings: Settings, gtts_server: GttsStandIn, tmp_path: Path
) -> None:
    if shutil.which("redis-server") is None:
        redis_server_binary()  # raises with the reason when there is none at all
    port = free_port()
    settings = fault_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
    gtts_server.latency = 0.3
    data = tmp_path / "redis"
    with (
        private_redis(data, port) as redis_process,
        http_server(create_app(settings)) as base,
        celery_worker(settings, tmp_path, concurrency=4) as worker,
    ):
        put_and_post(base, "redis-restart", story("Bridge reopens despite Redis"))
        await_condition(
            lambda: status(base, "redis-restart")["chunks_done"] >= 1,
            timeout=60,
            what="synthesis to be under way",
        )
        redis_process.kill()
        redis_process.wait()
        down_at = time.monotonic()
        # Busy threads meet the outage: the worker must ride it out, not exit.
        await_condition(
            lambda: (
                "Connection to broker lost" in worker_log_of(tmp_path)
                or "Cannot connect to redis" in worker_log_of(tmp_path)
            ),
            timeout=60,
            what="the worker to notice Redis is gone",
        )
        assert worker.poll() is None, worker_log_of(tmp_path)[-3000:]
        with private_redis(data, port):
            ready = await_state(base, "redis-restart", "ready", RECOVERY_TIMEOUT_S)
            print(f"Redis restarted: ready {time.monotonic() - down_at:.1f} s after the kill")
            assert worker.poll() is None
            assert_whole_mp3_served(base, settings, ready)
            worker.terminate()  # while Redis is there to take back its messages
            worker.wait(60)
    log = worker_log_of(tmp_path)
    assert "Unrecoverable error" not in log and "does not implement kill_job" not in log


def test_a_job_never_sent_is_recovered_under_load(
    fault_settings: Settings, gtts_server: GttsStandIn, tmp_path: Path
) -> None:
    gtts_server.latency = 0.2
    with http_server(create_app(fault_settings)) as base:
        # Load: other narrations keep the queue busy the whole time.
        for n in range(3):
            put_and_post(base, f"load-{n}", story(f"Load story {n}", PARAGRAPHS[n:] + PARAGRAPHS))
        # The API killed between writing the row and sending the job: the row, and no job.
        upgrade_to_head(fault_settings.catalog_url)
        orphan = request_narration(
            fault_settings,
            AudioStore(fault_settings.audio_cache_dir),
            Article(form="text", body_text=story("The job nobody sent")),
            source="test",
        ).narration
        assert orphan.state.value == "queued"
        started = time.monotonic()
        with celery_worker(fault_settings, tmp_path, concurrency=4):

            def orphan_done() -> narrations.Narration | None:
                with session_scope(fault_settings.catalog_url) as session:
                    row = narrations.get(session, orphan.id)
                if row is not None and row.state.value == "failed":
                    raise AssertionError(f"failed: {row.error}")
                return row if row is not None and row.state.value == "ready" else None

            done = await_condition(orphan_done, timeout=RECOVERY_TIMEOUT_S, what="the orphan")
            print(f"never-sent job: ready {time.monotonic() - started:.1f} s after a worker")
            assert done.attempts == 2  # sent once, by the reconciler
            for n in range(3):
                await_state(base, f"load-{n}", "ready", RECOVERY_TIMEOUT_S)


def test_a_429_storm_backs_off_and_completes(
    fault_settings: Settings, gtts_server: GttsStandIn, tmp_path: Path
) -> None:
    storm_s = 20.0
    settings = fault_settings.model_copy(
        update={"tts_retries": 1, "tts_backoff_s": 4.0, "tts_backoff_max_s": 8.0}
    )
    with http_server(create_app(settings)) as base, celery_worker(settings, tmp_path):
        gtts_server.fail_for(storm_s, 429)
        storm_start = time.monotonic()
        posted = put_and_post(base, "storm", story("Bridge reopens in a storm"))
        ready = await_state(base, "storm", "ready", RECOVERY_TIMEOUT_S)
        assert_whole_mp3_served(base, settings, ready)
    chunks = posted["chunks_total"]
    during = [t for t in gtts_server.request_times if storm_start <= t < storm_start + storm_s]
    print(
        f"429 storm of {storm_s:.0f} s: ready {time.monotonic() - storm_start:.1f} s after it "
        f"began; {len(during)} requests during it for {chunks} chunks"
    )
    # Each chunk: one request and one quick retry per task attempt, and task attempts waiting
    # at least 2, 4, 4 ... s apart: at most 1 + 1 + 20 // 4 = 7 attempts in the storm. A flat
    # rate (as before) sends thousands.
    attempts_in_storm = 2 + int(storm_s // (settings.tts_backoff_max_s / 2))
    assert gtts_server.failed >= chunks
    assert len(during) <= chunks * (settings.tts_retries + 1) * attempts_in_storm
    assert ready["error"] is None and ready["error_category"] is None


def test_a_refusing_speech_service_fails_with_tts_refused_and_keeps_the_old_audio(
    fault_settings: Settings, gtts_server: GttsStandIn, tmp_path: Path
) -> None:
    with http_server(create_app(fault_settings)) as base, celery_worker(fault_settings, tmp_path):
        put_and_post(base, "refused", story("Bridge reopens", PARAGRAPHS[:2]))
        first = await_state(base, "refused", "ready", RECOVERY_TIMEOUT_S)
        gtts_server.mode = "403"
        put_and_post(base, "refused", story("Bridge reopens", PARAGRAPHS[:3]))
        failed = await_state(base, "refused", "failed", RECOVERY_TIMEOUT_S)
        served = requests.get(
            f"{base}/v1/articles/refused/audio", timeout=10, allow_redirects=False
        )
    assert failed["error_category"] == "tts_refused"
    message = failed["error"]
    assert "HTTP 403" in message
    for leak in ("Error", "Dependency", "/", "gtts:", "127.0.0.1"):
        assert leak not in message, message
    assert failed["current_audio_url"] == first["audio_url"]  # the old version stays served
    assert served.headers["Location"] == first["audio_url"]

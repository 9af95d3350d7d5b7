"""`narrator serve` as a new user runs it: no NARRATOR_* settings at all, a fresh directory.

The check the README promises: the service comes up with an embedded Redis, SQLite and
./audio_cache; the seed article is stored, narrated and served (a 2-byte Range answers 206, the
whole file is a valid MP3 as long as its manifest says); SIGTERM stops everything cleanly.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from mutagen.mp3 import MP3
from prometheus_client.parser import text_string_to_metric_families

from narration.audio import find_ffmpeg
from narration.catalog import NarrationState, narrations, session_scope
from narration.catalog.db import dispose_all
from tests.integration.worker_process import await_condition, free_port, last_lines

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

READY_TIMEOUT_S = 300


def children_of(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie has exited; only its parent's wait is missing
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


@dataclass
class Served:
    base: str
    process: subprocess.Popen[bytes]
    cwd: Path
    log: Path


@contextmanager
def narrator_serve(cwd: Path, log: Path, **settings: str) -> Iterator[Served]:
    """`narrator serve` on a free port in ``cwd``, with no NARRATOR_* setting but ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NARRATOR_")}
    env.update(settings)
    port = free_port()
    narrator = Path(sys.executable).with_name("narrator")
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [str(narrator), "serve", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"narrator serve exited:\n{last_lines(log)}")
            try:
                return requests.get(f"{base}/healthz", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        await_condition(up, timeout=60, what="narrator serve to answer /healthz")
        yield Served(base, process, cwd, log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        print(f"--- narrator serve log (last lines) ---\n{last_lines(log, 60)}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    cwd = tmp_path / "newcomer"
    cwd.mkdir()
    with narrator_serve(cwd, tmp_path / "serve.log") as running:
        yield running


def narration_state(base: str, article_id: str) -> dict[str, Any]:
    body: dict[str, Any] = requests.get(
        f"{base}/v1/articles/{article_id}/narration", timeout=10
    ).json()
    assert body["state"] != "failed", body["error"]
    return body


def put_and_narrate(base: str, article_id: str, article: Path) -> None:
    put = requests.put(
        f"{base}/v1/articles/{article_id}",
        data=article.read_bytes(),
        headers={"Content-Type": "text/plain; charset=utf-8"},
        timeout=30,
    )
    assert put.status_code in (200, 201), put.text
    posted = requests.post(f"{base}/v1/articles/{article_id}/narration", timeout=60)
    assert posted.status_code == 202, posted.text


def test_readme_check_on_a_machine_with_no_redis_configured(
    served: Served, seed_article: Path
) -> None:
    base = served.base
    put_and_narrate(base, "lee-ishiba", seed_article)

    def ready() -> dict[str, Any] | None:
        body = narration_state(base, "lee-ishiba")
        return body if body["state"] == "ready" else None

    status = await_condition(ready, timeout=READY_TIMEOUT_S, what="the narration", interval=0.5)

    first_two = requests.get(status["audio_url"], headers={"Range": "bytes=0-1"}, timeout=30)
    assert first_two.status_code == 206
    assert first_two.headers["Content-Range"] == f"bytes 0-1/{status['bytes']}"
    assert len(first_two.content) == 2

    whole = requests.get(status["audio_url"], timeout=60)
    assert whole.status_code == 200
    assert whole.headers["Content-Type"].startswith("audio/mpeg")
    assert len(whole.content) == status["bytes"]
    manifest = requests.get(status["manifest_url"], timeout=30).json()
    assert manifest["duration_ms"] == status["duration_ms"] > 60_000
    # the worker's synthesis and the API's requests are counted in one /metrics
    exposition = requests.get(f"{base}/metrics", timeout=30).text
    counts = {
        s.name: s.value
        for f in text_string_to_metric_families(exposition)
        for s in f.samples
        if not s.labels
    }
    assert counts["narrator_synthesis_latency_seconds_count"] > 0
    assert "narrator_http_requests_total{" in exposition
    mp3 = MP3(io.BytesIO(whole.content))
    assert abs(mp3.info.length * 1000 - manifest["duration_ms"]) < 500
    # every frame decodes, and the decoded audio lasts what the manifest says
    decoded = subprocess.run(
        [
            find_ffmpeg(),
            "-v",
            "error",
            "-i",
            "pipe:0",
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            "8000",
            "-",
        ],
        input=whole.content,
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert decoded.stderr == b""
    assert abs(len(decoded.stdout) / 2 / 8 - manifest["duration_ms"]) < 150

    # the defaults a new user gets: everything under ./audio_cache in the working directory
    store = served.cwd / "audio_cache"
    assert (store / f"{manifest['audio_key']}.mp3").stat().st_size == status["bytes"]
    assert (store / "catalog.sqlite3").exists()
    assert (store / ".redis" / "redis.log").exists(), "the embedded Redis keeps its data there"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_stops_the_api_the_worker_and_redis(served: Served, signum: int) -> None:
    children = children_of(served.process.pid)
    assert len(children) >= 2, "an embedded redis-server and a Celery worker"
    served.process.send_signal(signum)
    assert served.process.wait(timeout=120) == 0
    assert not [pid for pid in children if alive(pid)], "no child outlives narrator serve"
    redis_log = (served.cwd / "audio_cache" / ".redis" / "redis.log").read_text()
    assert "ready to exit" in redis_log, "Redis shut down (and saved) rather than being killed"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{served.base}/healthz", timeout=2)


def test_a_narration_cut_short_by_a_restart_finishes_after_it(
    tmp_path: Path, seed_article: Path
) -> None:
    """Queued work lives in the embedded Redis's append-only file: a restart loses none."""
    cwd = tmp_path / "newcomer"
    cwd.mkdir()
    log = tmp_path / "serve.log"
    # One worker thread: with the default 32 every chunk of the seed is already running when
    # the signal arrives, the warm shutdown lets them all finish and nothing is left queued.
    with narrator_serve(cwd, log, NARRATOR_WORKER_CONCURRENCY="1") as first:
        put_and_narrate(first.base, "lee-ishiba", seed_article)
        started = await_condition(
            lambda: (s := narration_state(first.base, "lee-ishiba"))["chunks_done"] >= 2 and s,
            timeout=READY_TIMEOUT_S,
            what="synthesis to start",
            interval=0.1,
        )
        assert started["chunks_done"] < started["chunks_total"], "stopped mid-narration"
        first.process.send_signal(signal.SIGTERM)
        assert first.process.wait(timeout=120) == 0
    catalog = f"sqlite:///{cwd / 'audio_cache' / 'catalog.sqlite3'}"
    with session_scope(catalog) as session:
        row = narrations.latest_for_article(session, "lee-ishiba")
        assert row is not None and row.state != NarrationState.READY, "work was left to do"
    dispose_all()
    with narrator_serve(cwd, log) as second:
        done = await_condition(
            lambda: (s := narration_state(second.base, "lee-ishiba"))["state"] == "ready" and s,
            timeout=READY_TIMEOUT_S,
            what="the narration to finish after the restart",
            interval=0.5,
        )
        assert done["chunks_done"] == done["chunks_total"]
        assert requests.get(done["audio_url"], timeout=30).status_code == 200


def test_a_bad_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NARRATOR_")}
    env["NARRATOR_TTS_CONCURRENCY_MAX"] = "0"
    narrator = Path(sys.executable).with_name("narrator")
    proc = subprocess.run(
        [str(narrator), "serve", "--port", "0"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "narrator: bad setting: NARRATOR_TTS_CONCURRENCY_MAX: "
        "Input should be greater than or equal to 1"
    )

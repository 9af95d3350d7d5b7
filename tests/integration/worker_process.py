"""Child processes (Celery workers, the topology's servers) and a real HTTP server for the
service, for integration tests.

No eager mode: the worker is ``celery -A workers.main worker`` in a child process, talking to
the test's Redis database, catalog and audio store through ``NARRATOR_*`` variables (the one
place that reads them is ``workers.main``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from flask import Flask

from narration.settings import Settings
from service.localserver import local_server
from tests.fakes.loopback import serving

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")

ENV_FIELDS = (
    "redis_url",
    "database_url",
    "audio_cache_dir",
    "engine",
    "gtts_endpoint",
    "tts_concurrency_max",
    "tts_concurrency_min",
    "tts_retries",
    "outro_text",
    "intro_text",
    "public_url",
    "webhook_secret",
    "lang",
    "stall_after_s",
    "reconcile_interval_s",
    "tts_backoff_s",
    "tts_backoff_max_s",
    "tts_rate_limited_for_s",
    "scratch_dir",
    "ffmpeg_binary",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(
    args: list[str], env: dict[str, str], log: Path, what: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` with output to ``log``; always stop it, and print the log's tail (pytest
    shows it when the test failed)."""
    with open(log, "wb") as out:
        process = subprocess.Popen(args, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        print(f"--- {what} ({log.name}), last lines ---\n{last_lines(log, 30)}")


def settings_env(settings: Settings) -> dict[str, str]:
    """The ``NARRATOR_*`` variables that make a child process read the same settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NARRATOR_")}
    for name in ENV_FIELDS:
        value = getattr(settings, name)
        if value is not None:
            env[f"NARRATOR_{name.upper()}"] = str(value)
        elif name in ("outro_text", "intro_text"):
            env[f"NARRATOR_{name.upper()}"] = ""
    return env


def await_condition(
    probe: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.1
) -> T:
    """Call ``probe`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


@contextmanager
def celery_worker(
    settings: Settings, log_dir: Path, *, concurrency: int = 4
) -> Iterator[subprocess.Popen[bytes]]:
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    log_path = log_dir / f"worker-{uuid.uuid4().hex[:6]}.log"
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.main",
        "worker",
        "--pool",
        "threads",
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "INFO",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-n",
        name,
    ]
    with running(args, settings_env(settings), log_path, "Celery worker") as process:

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"worker exited: {log_path.read_text()[-3000:]}")
            return b" ready." in log_path.read_bytes()

        await_condition(ready, timeout=60, what="the Celery worker to start")
        yield process


@contextmanager
def http_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free loopback port with threads; yield its base URL."""
    with serving(local_server("127.0.0.1", 0, app)) as url:
        yield url


def last_lines(path: Path, count: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-count:])
    except OSError:
        return ""

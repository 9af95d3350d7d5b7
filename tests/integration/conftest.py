"""Fixtures for tests that run the whole service: the API on a loopback port and a real Celery
worker process, sharing one Redis database, catalog and audio store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from narration.catalog.db import dispose_all
from narration.settings import Settings
from service.app import create_app
from tests.fakes.gtts_server import GttsStandIn
from tests.integration.worker_process import celery_worker, http_server
from tests.redis_lease import leased_database

LEASE_S = 900


@pytest.fixture
def leased_redis_db(redis_url: str) -> Iterator[str]:
    """A Redis database no other test run on this machine uses meanwhile, flushed before use
    (see :mod:`tests.redis_lease`)."""
    if redis_url.startswith("redis+socket://"):
        yield redis_url  # an embedded server of our own: nobody else uses it
        return
    with leased_database(redis_url.rsplit("/", 1)[0], LEASE_S) as url:
        yield url


@pytest.fixture
def catalog_backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The service tests' catalog: SQLite, or PostgreSQL where a test is parametrized with
    ``@pytest.mark.parametrize("catalog_backend", ["sqlite", "postgresql"], indirect=True)``."""
    if getattr(request, "param", "sqlite") == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'catalog.sqlite3'}"


@pytest.fixture
def service_settings(
    tmp_path: Path, leased_redis_db: str, gtts_server: GttsStandIn, catalog_backend: str
) -> Settings:
    return Settings(
        redis_url=leased_redis_db,
        database_url=catalog_backend,
        audio_cache_dir=tmp_path / "audio",
        engine="gtts",
        gtts_endpoint=gtts_server.url,
        tts_concurrency_max=1000,
        outro_text=None,
        api_keys=["test-key"],
        webhook_secret="whsec-test",
    )


@pytest.fixture
def worker(service_settings: Settings, tmp_path: Path) -> Iterator[None]:
    """One Celery worker process for ``service_settings``."""
    with celery_worker(service_settings, tmp_path):
        yield
    dispose_all()


@pytest.fixture
def service(service_settings: Settings, worker: None) -> Iterator[str]:
    """The API on a loopback port, with a worker, sharing Redis, catalog and store."""
    with http_server(create_app(service_settings)) as base:
        yield base

"""``/healthz``, ``/readyz`` and ``/metrics`` against a real Redis and catalog."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from narration.catalog import narrations, session_scope
from narration.catalog.db import dispose_all
from narration.redisconn import client_for
from narration.settings import Settings
from service.app import create_app

pytestmark = pytest.mark.integration


@pytest.fixture
def app_settings(settings: Settings, leased_redis_db: str) -> Iterator[Settings]:
    settings.audio_cache_dir.mkdir(parents=True, exist_ok=True)
    yield settings.model_copy(update={"redis_url": leased_redis_db})
    dispose_all()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_healthz_needs_nothing(tmp_path: Path) -> None:
    app = create_app(Settings(audio_cache_dir=tmp_path, redis_url="redis://127.0.0.1:1/0"))
    assert app.test_client().get("/healthz").json == {"status": "ok"}


def test_readyz_checks_redis_database_and_store(app_settings: Settings) -> None:
    client = create_app(app_settings).test_client()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"redis": "ok", "database": "ok", "audio_store": "ok"}


def test_readyz_is_503_naming_what_is_down(app_settings: Settings) -> None:
    down = app_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{closed_port()}/0"})
    response = create_app(down).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"].startswith("failed")
    assert response.json["checks"]["database"] == "ok"


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(response.data.decode())
        for s in f.samples
    }


def test_metrics_count_narrations_chunks_latency_requests_and_queue(
    app_settings: Settings,
) -> None:
    client = create_app(app_settings).test_client()
    before = scrape(client)  # counters live as long as the process: compare differences
    with session_scope(app_settings.catalog_url) as session:
        spec = narrations.NarrationSpec("k1", "espeak", None, "en", chunks_total=4, chunks_cached=1)
        row, _ = narrations.create_or_get(session, spec)
        narrations.chunk_done(session, row.id, 1, synth_ms=300)
        narrations.chunk_done(session, row.id, 2, synth_ms=1500)
        narrations.chunk_done(session, row.id, 2, synth_ms=1500)  # delivered twice: counted once
    client_for(app_settings.redis_url or "").rpush("narration:9", b"a", b"b")
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("narrator_narrations_total", state="queued") == 1
    assert grew("narrator_chunks_total", outcome="hit") == 1
    assert grew("narrator_chunks_total", outcome="miss") == 3
    assert grew("narrator_synthesis_latency_seconds_count") == 2
    assert grew("narrator_synthesis_latency_seconds_bucket", le="0.5") == 1
    assert grew("narrator_synthesis_latency_seconds_sum") == pytest.approx(1.8)
    assert grew("narrator_http_requests_total", route="/metrics", method="GET", status="200") == 1
    assert after[("narrator_queue_depth", (("priority", "9"), ("queue", "narration")))] == 2

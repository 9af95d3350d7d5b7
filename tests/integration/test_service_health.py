"""``/healthz``, ``/readyz`` and ``/metrics`` against a real Redis and catalog."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
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


def test_metrics_report_states_queue_latency_and_cache(app_settings: Settings) -> None:
    client = create_app(app_settings).test_client()
    with session_scope(app_settings.catalog_url) as session:
        spec = narrations.NarrationSpec("k1", "espeak", None, "en", chunks_total=4, chunks_cached=1)
        row, _ = narrations.create_or_get(session, spec)
        narrations.chunk_done(session, row.id, 1, synth_ms=300)
        narrations.chunk_done(session, row.id, 2, synth_ms=1500)
    client_for(app_settings.redis_url or "").rpush("narration:9", b"a", b"b")

    response = client.get("/metrics")
    assert response.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(response.data.decode())}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    assert samples[("narrator_narrations", (("state", "queued"),))] == 1
    assert samples[("narrator_queue_depth", (("priority", "9"), ("queue", "narration")))] == 2
    assert samples[("narrator_chunk_cache_hit_ratio", ())] == 0.25
    assert samples[("narrator_synthesis_latency_seconds_count", ())] == 2
    assert samples[("narrator_synthesis_latency_seconds_bucket", (("le", "0.5"),))] == 1
    assert samples[("narrator_synthesis_latency_seconds_sum", ())] == pytest.approx(1.8)

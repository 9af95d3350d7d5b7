from __future__ import annotations

import pytest

from narration.errors import PermanentEngineError, TransientEngineError
from narration.plan import plan_narration
from narration.settings import Settings
from narration.store import AudioStore
from narration.synthesis import synthesize_chunk
from tests.fakes.gtts_server import GttsStandIn
from tests.fakes.scripts import small_script

pytestmark = pytest.mark.integration


@pytest.fixture
def gtts_settings(settings: Settings, gtts_server: GttsStandIn) -> Settings:
    return settings.model_copy(
        update={"gtts_endpoint": gtts_server.url, "gtts_timeout": 2.0, "tts_retries": 3}
    )


def test_stores_a_chunk_once(gtts_settings: Settings, gtts_server: GttsStandIn) -> None:
    store = AudioStore(gtts_settings.audio_cache_dir)
    plan = plan_narration(small_script(), gtts_settings, engine="gtts")
    first = synthesize_chunk(plan, 2, store, gtts_settings)
    assert (first.key, first.engine, first.cached) == (plan.chunks[2].key, "gtts", False)
    meta = store.chunk_meta(first.key)
    assert len(meta.parts) == len(plan.chunks[2].parts) == len(meta.loudness.energy)
    assert sum(meta.parts) == meta.samples > 0
    assert meta.loudness.integrated_lufs is not None and -40 < meta.loudness.integrated_lufs < 0
    assert store.chunk_path(first.key).stat().st_size > 0
    requests = gtts_server.requests
    again = synthesize_chunk(plan, 2, store, gtts_settings)
    assert again.cached and again.key == first.key
    assert gtts_server.requests == requests


def test_retries_429_and_5xx_then_succeeds(
    gtts_settings: Settings, gtts_server: GttsStandIn
) -> None:
    store = AudioStore(gtts_settings.audio_cache_dir)
    plan = plan_narration(small_script(), gtts_settings, engine="gtts")
    gtts_server.fail_next(429)
    gtts_server.fail_next(503)
    result = synthesize_chunk(plan, 0, store, gtts_settings)
    assert not result.cached and store.has_chunk(result.key)
    assert gtts_server.requests == 3  # two refusals, then the answer


def test_gives_up_after_the_retries_leaving_nothing_behind(
    gtts_settings: Settings, gtts_server: GttsStandIn
) -> None:
    store = AudioStore(gtts_settings.audio_cache_dir)
    settings = gtts_settings.model_copy(update={"tts_retries": 1})
    plan = plan_narration(small_script(), settings, engine="gtts")
    gtts_server.mode = "5xx"
    with pytest.raises(TransientEngineError, match="503"):
        synthesize_chunk(plan, 0, store, settings)
    assert gtts_server.requests == 2
    assert not store.chunks_dir.exists() or list(store.chunks_dir.iterdir()) == []


def test_permanent_errors_are_not_retried(
    gtts_settings: Settings, gtts_server: GttsStandIn
) -> None:
    store = AudioStore(gtts_settings.audio_cache_dir)
    plan = plan_narration(small_script(), gtts_settings, engine="gtts")
    gtts_server.fail_next(400)
    with pytest.raises(PermanentEngineError, match="400"):
        synthesize_chunk(plan, 0, store, gtts_settings)
    assert gtts_server.requests == 1


def test_auto_falls_back_under_its_own_key_when_google_is_unreachable(settings: Settings) -> None:
    offline = settings.model_copy(update={"gtts_endpoint": "http://127.0.0.1:9"})
    store = AudioStore(offline.audio_cache_dir)
    plan = plan_narration(small_script(), offline, engine="auto")
    result = synthesize_chunk(plan, 0, store, offline)
    chunk = plan.chunks[0]
    assert (result.key, result.engine) == (chunk.fallback_key, "espeak")
    assert not store.has_chunk(chunk.key)
    assert store.stored_key(plan, 0) == chunk.fallback_key
    assert store.missing_chunks(plan) == list(range(1, len(plan.chunks)))


def test_auto_uses_google_when_it_answers(
    gtts_settings: Settings, gtts_server: GttsStandIn
) -> None:
    store = AudioStore(gtts_settings.audio_cache_dir)
    plan = plan_narration(small_script(), gtts_settings, engine="auto")
    result = synthesize_chunk(plan, 0, store, gtts_settings)
    assert (result.key, result.engine) == (plan.chunks[0].key, "gtts")
    assert gtts_server.requests == 1


def test_auto_does_not_fall_back_on_429(gtts_settings: Settings, gtts_server: GttsStandIn) -> None:
    settings = gtts_settings.model_copy(update={"tts_retries": 1})
    store = AudioStore(settings.audio_cache_dir)
    plan = plan_narration(small_script(), settings, engine="auto")
    gtts_server.mode = "429"
    with pytest.raises(TransientEngineError, match="429"):
        synthesize_chunk(plan, 0, store, settings)
    assert store.missing_chunks(plan) == list(range(len(plan.chunks)))

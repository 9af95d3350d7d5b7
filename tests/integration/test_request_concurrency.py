"""Requests in flight follow the provider: a chunk's requests go out together, all of an
article's can, and a 429 storm with Retry-After stops them all until it has passed."""

from __future__ import annotations

import uuid

import pytest

from narration.pipeline import synthesize_missing
from narration.plan import plan_narration
from narration.ratelimit import LocalRequestLimiter, RedisRequestLimiter
from narration.redisconn import client_for
from narration.settings import Settings
from narration.store import AudioStore
from narration.synthesis import synthesize_chunk
from tests.fakes.gtts_server import GttsStandIn
from tests.fakes.scripts import make_script

pytestmark = pytest.mark.integration

LONG = (
    "The committee, which met for the third time this week in the old council chamber, "
    "agreed that the harbor bridge would reopen to cyclists and pedestrians on Monday morning, "
    "while buses and lorries would have to wait until the last inspection is finished in May."
)


@pytest.fixture
def gtts_settings(settings: Settings, gtts_server: GttsStandIn) -> Settings:
    return settings.model_copy(
        update={"engine": "gtts", "gtts_endpoint": gtts_server.url, "outro_text": None}
    )


def test_the_requests_of_a_chunk_go_out_together(
    gtts_settings: Settings, gtts_server: GttsStandIn
) -> None:
    """A sentence gTTS splits into several requests, in a paragraph of several sentences: every
    request reaches the provider before the first answer could have come back."""
    script = make_script([(None, [[LONG, "It will cost less than planned.", LONG[:-1] + "!"]])])
    plan = plan_narration(script, gtts_settings)
    body = max(range(len(plan.chunks)), key=lambda i: len(plan.chunks[i].spoken))
    assert len(plan.chunks[body].parts) >= 2
    gtts_server.latency = 1.5
    limiter = LocalRequestLimiter(ceiling=32)
    synthesize_chunk(plan, body, AudioStore(gtts_settings.audio_cache_dir), gtts_settings,
                     rate_limiter=limiter)  # fmt: skip
    times = gtts_server.request_times
    assert len(times) >= 5
    assert max(times) - min(times) < gtts_server.latency  # none waited for another's answer


def test_a_429_storm_with_retry_after_is_respected(
    gtts_settings: Settings, gtts_server: GttsStandIn, redis_url: str
) -> None:
    """The provider refuses everything for a second and says so: only the requests already in
    flight meet the refusal; everyone else waits out Retry-After, then the article completes."""
    script = make_script([(None, [[LONG], [LONG.replace("Monday", "Tuesday")], ["Done."]])])
    plan = plan_narration(script, gtts_settings)
    store = AudioStore(gtts_settings.audio_cache_dir)
    ceiling = 4
    limiter = RedisRequestLimiter(
        client_for(redis_url), ceiling=ceiling, key=f"narrator:test:{uuid.uuid4().hex}"
    )
    gtts_server.retry_after = "1"
    gtts_server.fail_for(1.0, 429)
    synthesize_missing(plan, store, gtts_settings, rate_limiter=limiter)
    assert store.missing_chunks(plan) == []
    assert 1 <= gtts_server.failed <= ceiling


def test_one_articles_requests_can_all_be_in_flight_at_once(
    gtts_settings: Settings, gtts_server: GttsStandIn
) -> None:
    script = make_script([(None, [[LONG], [LONG.replace("Monday", "Friday")], ["Done."]])])
    plan = plan_narration(script, gtts_settings)
    gtts_server.latency = 1.5
    synthesize_missing(plan, AudioStore(gtts_settings.audio_cache_dir), gtts_settings)
    times = gtts_server.request_times
    assert len(times) >= 8
    assert max(times) - min(times) < gtts_server.latency

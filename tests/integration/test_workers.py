"""Narrations made by real Celery worker processes, through the real HTTP API.

The engine is gTTS pointed at the local stand-in of Google's endpoint, which counts every
request: that is how these tests see which chunks were synthesized, and how often.
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from mutagen.mp3 import MP3
from sqlalchemy import select

from narration.catalog import Narration, session_scope
from narration.settings import Settings
from service.app import create_app
from tests.fakes.gtts_server import GttsStandIn
from tests.integration.worker_process import await_condition, celery_worker, http_server

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

AUTH = {"Authorization": "Bearer test-key"}
READY_TIMEOUT_S = 180


def story(paragraphs: list[str], title: str = "Harbour bridge reopens after repairs") -> str:
    return "\n\n".join([title, "By Ana Ruiz", *paragraphs]) + "\n"


PARAGRAPHS = [
    "The harbour bridge reopened to traffic on Monday morning after eight months of repairs.",
    "Engineers replaced the worn cables and repainted the steel towers in their original grey.",
    "Commuters welcomed the news, saying the detour had added half an hour to their trips.",
    "The city council said the project finished two weeks early and under its budget.",
]


def wait_ready(base: str, article_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        body: dict[str, Any] = requests.get(
            f"{base}/v1/articles/{article_id}/narration", timeout=10
        ).json()
        if body["state"] == "failed":
            raise AssertionError(f"narration failed: {body['error']}")
        return body if body["state"] == "ready" else None

    return await_condition(probe, timeout=READY_TIMEOUT_S, what=f"{article_id} to be ready")


def put_text(base: str, article_id: str, text: str) -> requests.Response:
    return requests.put(
        f"{base}/v1/articles/{article_id}",
        data=text.encode(),
        headers={**AUTH, "Content-Type": "text/plain; charset=utf-8"},
        timeout=30,
    )


def test_seed_article_is_narrated_by_a_worker_process(
    service: str, service_settings: Settings, seed_article: Path, gtts_server: GttsStandIn
) -> None:
    assert put_text(service, "lee-ishiba", seed_article.read_text()).status_code == 201

    posted = requests.post(f"{service}/v1/articles/lee-ishiba/narration", headers=AUTH, timeout=60)
    assert posted.status_code == 202, posted.text
    assert posted.headers["Location"].endswith("/v1/articles/lee-ishiba/narration")

    status = wait_ready(service, "lee-ishiba")
    assert status["chunks_done"] == status["chunks_total"] > 1
    assert status["engine"] == "gtts" and status["lang"] == "en"
    assert status["duration_ms"] > 60_000
    mp3 = service_settings.audio_cache_dir / status["audio_url"].rsplit("/", 1)[1]
    assert mp3.stat().st_size == status["bytes"]

    # What a player does: Safari's two-byte probe, then the whole file.
    probe = requests.get(status["audio_url"], headers={"Range": "bytes=0-1"}, timeout=10)
    assert probe.status_code == 206
    assert probe.headers["Content-Range"] == f"bytes 0-1/{status['bytes']}"
    whole = requests.get(status["audio_url"], timeout=30)
    assert whole.status_code == 200 and len(whole.content) == status["bytes"]
    info = MP3(io.BytesIO(whole.content)).info
    assert info.length * 1000 == pytest.approx(status["duration_ms"], abs=100)
    assert gtts_server.requests >= status["chunks_total"]

    # Asked again for the same content: the current audio, no new job, no engine request.
    before = gtts_server.requests
    again = requests.post(f"{service}/v1/articles/lee-ishiba/narration", headers=AUTH, timeout=60)
    assert again.status_code == 200
    assert again.json()["id"] == status["id"]
    assert gtts_server.requests == before


def test_editing_one_paragraph_resynthesizes_only_its_chunks(
    service: str, gtts_server: GttsStandIn
) -> None:
    assert put_text(service, "bridge", story(PARAGRAPHS)).status_code == 201
    requests.post(f"{service}/v1/articles/bridge/narration", headers=AUTH, timeout=60)
    first = wait_ready(service, "bridge")
    first_requests = gtts_server.requests

    gtts_server.reset_counts()
    edited = list(PARAGRAPHS)
    edited[2] = "Commuters cheered the news, saying the detour had cost them forty minutes a day."
    assert put_text(service, "bridge", story(edited)).status_code == 200
    posted = requests.post(f"{service}/v1/articles/bridge/narration", headers=AUTH, timeout=60)
    assert posted.status_code == 202
    new_version = posted.json()
    assert new_version["id"] != first["id"] and new_version["version"] == 2

    second = wait_ready(service, "bridge")
    assert second["id"] == new_version["id"]
    assert second["audio_url"] != first["audio_url"]
    # One paragraph is one chunk here: only its text reached the engine.
    assert gtts_server.texts, "the edited chunk was not synthesized"
    spoken = " ".join(gtts_server.texts)
    assert "forty minutes" in spoken
    assert "harbour bridge" not in spoken.lower()
    assert gtts_server.requests < first_requests
    redirect = requests.get(
        f"{service}/v1/articles/bridge/audio", allow_redirects=False, timeout=10
    )
    assert redirect.status_code == 302
    assert redirect.headers["Location"] == second["audio_url"]


@pytest.mark.parametrize("catalog_backend", ["sqlite", "postgresql"], indirect=True)
def test_twenty_concurrent_posts_start_one_job(service: str, gtts_server: GttsStandIn) -> None:
    assert put_text(service, "concurrent", story(PARAGRAPHS, "Twenty at once")).status_code == 201
    barrier = threading.Barrier(20)

    def post(_: int) -> requests.Response:
        barrier.wait(timeout=30)
        return requests.post(
            f"{service}/v1/articles/concurrent/narration", headers=AUTH, timeout=120
        )

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(post, range(20)))
    assert {a.status_code for a in answers} <= {200, 202}, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1

    wait_ready(service, "concurrent")
    # Every piece of text was sent to the engine exactly once.
    assert gtts_server.requests == len(gtts_server.texts) == len(set(gtts_server.texts))
    assert gtts_server.requests >= len(PARAGRAPHS) + 2


def test_breaking_news_is_narrated_before_an_archive_backfill(
    service_settings: Settings, tmp_path: Path
) -> None:
    archive = [f"archive-{n}" for n in range(4)]
    with http_server(create_app(service_settings)) as base:
        for n, article_id in enumerate(archive):
            paragraphs = [
                f"Archive story {n}, part {p}: {text}" for p, text in enumerate(PARAGRAPHS)
            ]
            put_text(base, article_id, story(paragraphs, f"From the archive, number {n}"))
        put_text(base, "breaking", story(["Breaking: the harbour bridge closed again tonight."]))

        # Everything is queued before any worker runs: the backfill first, then the news.
        batch = requests.post(
            f"{base}/v1/narrations:batch", json={"ids": archive}, headers=AUTH, timeout=60
        )
        assert batch.status_code == 202
        assert [r["status"] for r in batch.json()["results"]] == [202] * len(archive)
        breaking = requests.post(
            f"{base}/v1/articles/breaking/narration",
            json={"priority": "high"},
            headers=AUTH,
            timeout=60,
        )
        assert breaking.status_code == 202 and breaking.json()["priority"] == "high"

        with celery_worker(service_settings, tmp_path, concurrency=1):
            for article_id in [*archive, "breaking"]:
                wait_ready(base, article_id)

    with session_scope(service_settings.catalog_url) as session:
        ready_at = {row.article_id: row.ready_at for row in session.scalars(select(Narration))}
    assert all(ready_at["breaking"] < ready_at[article_id] for article_id in archive), ready_at

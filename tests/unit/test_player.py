"""The player page and its status endpoint (the browser test drives the page itself)."""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient

from narration.catalog import NarrationState
from narration.disclosure import disclosure_line
from narration.settings import Settings
from service.app import create_app
from tests.unit.test_feeds import add_article


@pytest.fixture
def client(settings: Settings) -> FlaskClient:
    app = create_app(settings)
    add_article(settings.catalog_url, "ready-one", section="Politics")
    add_article(settings.catalog_url, "queued-one", section=None, state=NarrationState.QUEUED)
    return app.test_client()


def embedded_data(html: str) -> dict[str, object]:
    match = re.search(
        r'<script type="application/json" id="player-data">(.*?)</script>', html, re.S
    )
    assert match, "the page embeds its data"
    data: dict[str, object] = json.loads(match.group(1))
    return data


def test_page_for_ready_audio_embeds_the_audio_and_manifest_urls(client: FlaskClient) -> None:
    response = client.get("/player/ready-one", base_url="http://news.example")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Written by reporters, read by AI" in html
    assert '<html lang="en">' in html
    assert '<span id="player-title-text">Title ready-one</span>' in html
    status = embedded_data(html)["status"]
    assert isinstance(status, dict)
    assert status["state"] == "ready"
    assert status["audio"]["audio_url"] == "http://news.example/audio/audio-ready-one.mp3"
    assert status["audio"]["manifest_url"] == "http://news.example/audio/audio-ready-one.json"
    assert 'src="/player/static/player.js"' in html


def test_page_can_be_framed_and_allows_only_its_own_scripts(client: FlaskClient) -> None:
    response = client.get("/player/ready-one")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "X-Frame-Options" not in response.headers


def test_status_of_a_narration_in_progress(client: FlaskClient) -> None:
    response = client.get("/player/queued-one/status.json")
    assert response.status_code == 200
    body = response.get_json()
    assert body["state"] == "queued"
    assert body["audio"] is None
    assert body["pending"]["state"] == "queued"
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_and_invalid_articles(client: FlaskClient) -> None:
    missing = client.get("/player/nobody")
    assert missing.status_code == 404
    assert "Article not found" in missing.get_data(as_text=True)
    assert client.get("/player/nobody/status.json").status_code == 404
    bad = client.get("/player/-bad")
    assert bad.status_code == 400
    assert bad.get_json()["field"] == "id"


def test_static_assets_are_served(client: FlaskClient) -> None:
    with client.get("/player/static/player.js") as script:
        assert script.status_code == 200
        assert b"narratorPlayer" in script.data
    with client.get("/player/static/player.css") as style:
        assert style.mimetype == "text/css"
    with client.get("/player/static/artwork.png") as artwork:  # the feeds' default image
        assert artwork.mimetype == "image/png" and artwork.data.startswith(b"\x89PNG")


def test_ready_audio_links_its_read_along_timings(client: FlaskClient, settings: Settings) -> None:
    status = client.get("/player/ready-one/status.json").get_json()
    url = status["audio"]["read_along_url"]
    assert url.endswith("/player/read-along/audio-ready-one.json")
    assert client.get("/player/read-along/audio-ready-one.json").status_code == 404  # not a key
    missing = client.get(f"/player/read-along/{'ab' * 16}.json")
    assert missing.status_code == 404
    assert missing.get_json()["field"] == "key"


def test_a_japanese_article_is_shown_in_japanese(client: FlaskClient, settings: Settings) -> None:
    add_article(settings.catalog_url, "tokyo-ready", section=None, lang="ja")
    html = client.get("/player/tokyo-ready").get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert f'<p class="player__disclosure">{disclosure_line("ja")}</p>' in html
    assert "Written by reporters" not in html
    assert client.get("/player/tokyo-ready/status.json").get_json()["lang"] == "ja"


def test_the_page_language_is_the_articles_before_any_audio_is_ready(
    client: FlaskClient, settings: Settings
) -> None:
    add_article(
        settings.catalog_url, "tokyo-queued", section=None, lang="ja", state=NarrationState.QUEUED
    )
    html = client.get("/player/tokyo-queued").get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert disclosure_line("ja") in html

"""The feeds blueprint: RSS over HTTP with conditional GETs, chapters, problem+json 404s."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from lxml import etree

from narration.catalog import NarrationState
from narration.settings import Settings
from service.app import create_app
from tests.unit.test_feeds import add_article


@pytest.fixture
def client(settings: Settings) -> FlaskClient:
    app = create_app(settings)
    add_article(settings.catalog_url, "lee-ishiba", section="Politics")
    add_article(settings.catalog_url, "waiting", section="Sports", state=NarrationState.QUEUED)
    return app.test_client()


def test_all_feed_is_rss_with_absolute_urls_from_the_request_host(client: FlaskClient) -> None:
    response = client.get("/feeds/all.xml", base_url="http://radio.example:8080")
    assert response.status_code == 200
    assert response.mimetype == "application/rss+xml"
    root = etree.fromstring(response.data)
    enclosure = root.find("channel/item/enclosure")
    assert enclosure is not None
    assert enclosure.get("url") == "http://radio.example:8080/audio/audio-lee-ishiba.mp3"
    assert response.headers["Cache-Control"] == "public, max-age=300"


def test_public_url_wins_over_the_request_host(settings: Settings) -> None:
    app = create_app(settings, public_url="https://news.example")
    add_article(settings.catalog_url, "a", section=None)
    root = etree.fromstring(app.test_client().get("/feeds/all.xml").data)
    assert root.find("channel/item/enclosure").get("url").startswith("https://news.example/audio/")  # type: ignore[union-attr]


def test_conditional_get_answers_304(client: FlaskClient) -> None:
    first = client.get("/feeds/all.xml")
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get("/feeds/all.xml", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""


def test_section_feed_and_unknown_section(client: FlaskClient) -> None:
    politics = etree.fromstring(client.get("/feeds/politics.xml").data)
    assert [g.text for g in politics.iterfind("channel/item/guid")] == ["lee-ishiba"]
    sports = client.get("/feeds/sports.xml")
    assert sports.status_code == 200
    assert etree.fromstring(sports.data).find("channel/item") is None
    missing = client.get("/feeds/weather.xml")
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"
    assert missing.json is not None and missing.json["field"] == "feed"
    bad = client.get("/feeds/..%2Fetc.xml")
    assert bad.status_code == 404


def test_chapters_come_from_the_manifest(client: FlaskClient, settings: Settings) -> None:
    manifest = {
        "sentences": [
            {"kind": "title", "text": "Lee and Ishiba", "start_ms": 0, "end_ms": 1500},
            {"kind": "heading", "text": "Trade", "start_ms": 9000, "end_ms": 9500},
        ]
    }
    (settings.audio_cache_dir / "0123456789abcdef.json").write_text(json.dumps(manifest))
    response = client.get("/feeds/chapters/0123456789abcdef.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json+chapters"
    assert json.loads(response.data)["chapters"] == [
        {"startTime": 0.0, "title": "Lee and Ishiba"},
        {"startTime": 9.0, "title": "Trade"},
    ]
    assert "immutable" in response.headers["Cache-Control"]
    assert client.get("/feeds/chapters/nope.json").status_code == 404

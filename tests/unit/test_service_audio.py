"""``GET /audio/<key>.<ext>``: Range, ETag/304, immutable caching, X-Accel-Redirect, access."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from narration.settings import Settings
from narration.store import AudioStore
from service.app import create_app

KEY = "0123456789abcdef0123456789abcdef"
MP3 = bytes(range(256)) * 40  # 10,240 bytes; the view never looks inside


@pytest.fixture
def stored(settings: Settings) -> Settings:
    store = AudioStore(settings.audio_cache_dir)
    store.write_atomic(store.audio_path(KEY, "mp3"), MP3)
    store.write_atomic(store.audio_path(KEY, "vtt"), b"WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n")
    store.write_atomic(store.audio_path(KEY, "json"), b'{"sentences": []}')
    return settings


@pytest.fixture
def client(stored: Settings) -> FlaskClient:
    return create_app(stored, migrate=False).test_client()


def fetch(client: FlaskClient, path: str, **headers: str) -> TestResponse:
    """GET ``path`` and close the response (a sent file stays open until then)."""
    with client.get(path, headers=headers) as response:
        response.get_data()
        return response


def test_whole_file_is_immutable_for_a_year(client: FlaskClient) -> None:
    response = fetch(client, f"/audio/{KEY}.mp3")
    assert response.status_code == 200
    assert response.data == MP3
    assert response.mimetype == "audio/mpeg"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["ETag"] == f'"{KEY}.mp3"'


def test_safari_first_range_request_gets_two_bytes(client: FlaskClient) -> None:
    response = fetch(client, f"/audio/{KEY}.mp3", Range="bytes=0-1")
    assert response.status_code == 206
    assert response.data == MP3[:2]
    assert response.headers["Content-Range"] == f"bytes 0-1/{len(MP3)}"


def test_open_ended_and_suffix_ranges(client: FlaskClient) -> None:
    tail = fetch(client, f"/audio/{KEY}.mp3", Range="bytes=10000-")
    assert tail.status_code == 206 and tail.data == MP3[10000:]
    suffix = fetch(client, f"/audio/{KEY}.mp3", Range="bytes=-100")
    assert suffix.status_code == 206 and suffix.data == MP3[-100:]


@pytest.mark.parametrize("ext", ["mp3", "json", "vtt"])
def test_players_on_other_origins_may_fetch_audio_transcript_and_manifest(
    client: FlaskClient, ext: str
) -> None:
    response = fetch(client, f"/audio/{KEY}.{ext}")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Content-Range" in response.headers["Access-Control-Expose-Headers"]


def test_several_ranges_are_answered_with_the_whole_file(client: FlaskClient) -> None:
    response = fetch(client, f"/audio/{KEY}.mp3", Range="bytes=0-1,100-200")
    assert response.status_code == 200
    assert response.data == MP3


def test_range_past_the_end_is_416_with_the_length(client: FlaskClient) -> None:
    response = fetch(client, f"/audio/{KEY}.mp3", Range=f"bytes={len(MP3)}-")
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(MP3)}"
    assert response.mimetype == "application/problem+json"


def test_if_none_match_answers_304(client: FlaskClient) -> None:
    etag = fetch(client, f"/audio/{KEY}.mp3").headers["ETag"]
    again = fetch(client, f"/audio/{KEY}.mp3", **{"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""


def test_transcript_and_manifest_types(client: FlaskClient) -> None:
    assert fetch(client, f"/audio/{KEY}.vtt").mimetype == "text/vtt"
    assert fetch(client, f"/audio/{KEY}.json").json == {"sentences": []}


@pytest.mark.parametrize(
    "path",
    [
        f"/audio/{KEY}.wav",
        "/audio/not-a-key.mp3",
        "/audio/ffffffffffffffffffffffffffffffff.mp3",
        "/audio/..%2F..%2Fetc%2Fpasswd.mp3",
    ],
)
def test_unknown_files_are_problem_404s(client: FlaskClient, path: str) -> None:
    response = fetch(client, path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_accel_redirect_hands_the_file_to_nginx(stored: Settings) -> None:
    app = create_app(stored, migrate=False, audio_accel_prefix="/_audio_store/")
    response = fetch(app.test_client(), f"/audio/{KEY}.mp3")
    assert response.status_code == 200
    assert response.headers["X-Accel-Redirect"] == f"/_audio_store/{KEY}.mp3"
    assert response.headers["Content-Type"] == "audio/mpeg"
    assert response.data == b""


def test_key_only_audio_needs_a_key_and_is_private(stored: Settings) -> None:
    app = create_app(stored, migrate=False, audio_requires_key=True)
    client = app.test_client()
    assert fetch(client, f"/audio/{KEY}.mp3").status_code == 401
    assert fetch(client, f"/audio/{KEY}.mp3?key=wrong").status_code == 401
    allowed = fetch(client, f"/audio/{KEY}.mp3", Authorization="Bearer test-key")
    assert allowed.status_code == 200
    assert allowed.headers["Cache-Control"].startswith("private,")
    assert fetch(client, f"/audio/{KEY}.mp3?key=test-key").status_code == 200

"""Progressive playback: the growing HLS playlist of synthesized chunks and its segments, with
real eSpeak NG chunks and ffmpeg, through the Flask app."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from narration.audio import find_ffmpeg
from narration.catalog import Article, Narration, NarrationState, session_scope
from narration.plan import NarrationPlan, plan_narration
from narration.progressive import (
    AAC_FRAME,
    SEGMENT_RATE,
    build_segment,
    ready_segments,
    render_playlist,
    segment_path,
    segments_dir,
)
from narration.script import Paragraph, Script, Section, Sentence
from narration.settings import Settings
from narration.stitch import stitch_narration
from narration.store import AudioStore
from narration.synthesis import synthesize_chunk
from service.app import create_app


def said(*texts: str) -> Paragraph:
    return Paragraph([Sentence(t, t) for t in texts])


STORY = Script(
    "test",
    "Harbour bridge reopens",
    "Ana Ruiz",
    "en",
    [
        Section(
            None,
            [
                said("The bridge reopened on Monday.", "Repairs took eight months."),
                said("Engineers replaced the cables."),
                said("Commuters cheered the news."),
            ],
        )
    ],
)


@pytest.fixture
def plan(settings: Settings) -> NarrationPlan:
    settings = settings.model_copy(update={"outro_text": None})
    plan = plan_narration(STORY, settings)
    AudioStore(settings.audio_cache_dir).save_plan(plan)
    return plan


def store_of(settings: Settings) -> AudioStore:
    return AudioStore(settings.audio_cache_dir)


def decoded_seconds(ffmpeg: str, path: Path) -> float:
    """Seconds of audio ffmpeg decodes from ``path`` (44.1 kHz mono), counted in samples."""
    raw = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", "44100", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return len(raw) / 2 / SEGMENT_RATE


def ts_start(ffmpeg: str, path: Path) -> float:
    """The first timestamp in an MPEG-TS file, from ffmpeg's description of the input."""
    log = subprocess.run([ffmpeg, "-hide_banner", "-i", str(path)], capture_output=True).stderr
    found = re.search(rb"start: ([0-9.]+)", log)
    assert found, log
    return float(found.group(1))


def test_playlist_lists_contiguous_chunks_and_closes_when_all_are_there(
    plan: NarrationPlan, settings: Settings
) -> None:
    store = store_of(settings)
    assert len(plan.chunks) >= 3
    assert ready_segments(plan, store) == []
    empty = render_playlist(plan, [], lambda s: s.name)
    assert empty.startswith("#EXTM3U\n#EXT-X-VERSION:3\n")
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in empty and "#EXTINF" not in empty
    assert "#EXT-X-ENDLIST" not in empty

    synthesize_chunk(plan, 2, store, settings)  # a later chunk alone is not playable yet
    assert ready_segments(plan, store) == []
    synthesize_chunk(plan, 0, store, settings)
    first = ready_segments(plan, store)
    assert [s.index for s in first] == [0]
    text = render_playlist(plan, first, lambda s: f"seg/{s.name}.ts")
    assert text.count("#EXTINF:") == 1 and f"seg/{first[0].name}.ts" in text
    assert "#EXT-X-ENDLIST" not in text

    for index in range(len(plan.chunks)):
        synthesize_chunk(plan, index, store, settings)
    every = ready_segments(plan, store)
    assert [s.index for s in every] == list(range(len(plan.chunks)))
    assert every[0] == first[0]  # a segment's name never changes as others arrive
    text = render_playlist(plan, every, lambda s: s.name)
    assert text.rstrip().endswith("#EXT-X-ENDLIST")
    durations = [float(d) for d in re.findall(r"#EXTINF:([0-9.]+),", text)]
    target = int(re.search(r"#EXT-X-TARGETDURATION:(\d+)", text).group(1))  # type: ignore[union-attr]
    assert max(round(d) for d in durations) <= target
    for previous, segment in itertools.pairwise(every):
        assert segment.start == previous.end and segment.start % AAC_FRAME == 0


def test_segments_join_to_the_length_and_timeline_of_the_final_mp3(
    plan: NarrationPlan, settings: Settings
) -> None:
    store = store_of(settings)
    for index in range(len(plan.chunks)):
        synthesize_chunk(plan, index, store, settings)
    segments = ready_segments(plan, store)
    ffmpeg = find_ffmpeg(None)
    paths = [build_segment(plan, store, s, settings) for s in segments]
    # Every segment is AAC in MPEG-TS, timestamped where its chunk stands in the narration,
    # less the encoder's one priming frame.
    first_start = ts_start(ffmpeg, paths[0])
    for segment, path in zip(segments, paths, strict=True):
        assert path.read_bytes()[:1] == b"\x47"  # the MPEG-TS sync byte
        expected = first_start + segment.start / SEGMENT_RATE
        assert abs(ts_start(ffmpeg, path) - expected) < 0.002, segment
        decoded = decoded_seconds(ffmpeg, path)
        assert abs(decoded - segment.duration_s - AAC_FRAME / SEGMENT_RATE) < 0.03, segment
    final = stitch_narration(plan, store, settings.model_copy(update={"outro_text": None}))
    streamed_s = segments[-1].end / SEGMENT_RATE
    assert abs(streamed_s * 1000 - final.duration_ms) < 30
    # Every chunk starts where the stitcher put it, within half an AAC frame.
    manifest = final.paths["json"].read_text()
    assert '"start_ms"' in manifest


def test_a_segment_is_built_once_atomically_and_reused(
    plan: NarrationPlan, settings: Settings
) -> None:
    store = store_of(settings)
    synthesize_chunk(plan, 0, store, settings)
    (segment,) = ready_segments(plan, store)
    path = build_segment(plan, store, segment, settings)
    assert path == segment_path(store, segment)
    made = path.stat().st_mtime_ns
    assert build_segment(plan, store, segment, settings).stat().st_mtime_ns == made
    assert [p.name for p in segments_dir(store).iterdir()] == [path.name]  # no temporaries


# --- HTTP ----------------------------------------------------------------------------------------


def add_running(settings: Settings, plan: NarrationPlan, state: NarrationState) -> None:
    with session_scope(settings.catalog_url) as session:
        session.add(
            Article(
                id="bridge",
                source="pushed",
                title=STORY.title,
                lang="en",
                content_type="text/plain",
                body=b"",
                content_hash="0" * 64,
            )
        )
        session.flush()
        session.add(
            Narration(
                id="a" * 32,
                narration_key=plan.narration_key,
                article_id="bridge",
                state=state,
                engine="espeak",
                lang="en",
                chunks_total=len(plan.chunks),
                chunks_done=1,
            )
        )
        session.flush()
        article = session.get(Article, "bridge")
        assert article is not None
        article.latest_narration_id = "a" * 32


@pytest.fixture
def client(settings: Settings) -> FlaskClient:
    return create_app(settings).test_client()


def test_status_links_the_stream_once_the_first_chunk_exists(
    client: FlaskClient, plan: NarrationPlan, settings: Settings
) -> None:
    add_running(settings, plan, NarrationState.RUNNING)
    status = client.get(f"/v1/narrations/{'a' * 32}").json
    assert status is not None and status["stream_url"] is None  # nothing playable yet
    synthesize_chunk(plan, 0, store_of(settings), settings)
    status = client.get(f"/v1/narrations/{'a' * 32}").json
    assert status is not None
    assert status["stream_url"] == f"http://localhost/stream/{plan.narration_key}.m3u8"
    article = client.get("/v1/articles/bridge/narration").json
    assert article is not None and article["stream_url"] == status["stream_url"]
    player = client.get("/player/bridge/status.json").json
    assert player is not None and player["pending"]["stream_url"] == status["stream_url"]

    playlist = client.get(f"/stream/{plan.narration_key}.m3u8")
    assert playlist.status_code == 200
    assert playlist.mimetype == "application/vnd.apple.mpegurl"
    assert "no-store" in playlist.headers["Cache-Control"]
    uris = [line for line in playlist.text.splitlines() if not line.startswith("#")]
    assert len(uris) == 1 and "#EXT-X-ENDLIST" not in playlist.text
    with client.get(f"/stream/{uris[0]}") as segment:
        assert segment.status_code == 200 and segment.mimetype == "video/mp2t"
        assert segment.data[:1] == b"\x47"
        assert "immutable" in segment.headers["Cache-Control"]
        etag = segment.headers["ETag"]
    with client.get(f"/stream/{uris[0]}", headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304


def test_a_ready_narration_has_no_stream_url(
    client: FlaskClient, plan: NarrationPlan, settings: Settings
) -> None:
    add_running(settings, plan, NarrationState.READY)
    synthesize_chunk(plan, 0, store_of(settings), settings)
    status = client.get(f"/v1/narrations/{'a' * 32}").json
    assert status is not None and status["state"] == "ready" and status["stream_url"] is None


@pytest.mark.parametrize(
    "path",
    [
        "/stream/" + "0" * 32 + ".m3u8",  # no such plan
        "/stream/not-a-key.m3u8",
        "/stream/{key}/0-" + "0" * 32 + ".ts",  # a name that is not the segment's
        "/stream/{key}/9-" + "0" * 32 + ".ts",  # past the plan's chunks
        "/stream/{key}/../plans.ts",
        "/stream/{key}/0.ts",
    ],
)
def test_unknown_streams_and_segments_are_404(
    client: FlaskClient, plan: NarrationPlan, settings: Settings, path: str
) -> None:
    synthesize_chunk(plan, 0, store_of(settings), settings)
    response = client.get(path.format(key=plan.narration_key))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_a_segment_not_synthesized_yet_is_404(
    client: FlaskClient, plan: NarrationPlan, settings: Settings
) -> None:
    store = store_of(settings)
    for index in range(len(plan.chunks)):
        synthesize_chunk(plan, index, store, settings)
    names = [s.name for s in ready_segments(plan, store)]
    other = AudioStore(settings.audio_cache_dir)
    for index in range(1, len(plan.chunks)):  # only the first chunk is left
        other.chunk_path(plan.chunks[index].key).unlink()
    with client.get(f"/stream/{plan.narration_key}/{names[0]}.ts") as first:
        assert first.status_code == 200
    assert client.get(f"/stream/{plan.narration_key}/{names[1]}.ts").status_code == 404


def test_segments_go_through_nginx_when_the_accel_prefix_is_set(
    plan: NarrationPlan, settings: Settings
) -> None:
    app = create_app(settings, audio_accel_prefix="/_audio_store")
    client = app.test_client()
    synthesize_chunk(plan, 0, store_of(settings), settings)
    (segment,) = ready_segments(plan, store_of(settings))
    response = client.get(f"/stream/{plan.narration_key}/{segment.name}.ts")
    assert response.status_code == 200 and response.data == b""
    assert response.headers["X-Accel-Redirect"] == f"/_audio_store/segments/{segment.digest}.ts"
    assert response.headers["Content-Type"] == "video/mp2t"
    assert segment_path(store_of(settings), segment).is_file()  # built before nginx sends it


def test_streams_need_the_key_when_audio_does(plan: NarrationPlan, settings: Settings) -> None:
    client = create_app(settings, audio_requires_key=True).test_client()
    url = f"/stream/{plan.narration_key}.m3u8"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer test-key"}).status_code == 200


def test_the_feed_lists_only_finished_mp3s_never_a_stream(
    client: FlaskClient, plan: NarrationPlan, settings: Settings
) -> None:
    """A narration being made is playable as a stream, but podcast apps only ever get the
    finished MP3: an article whose first narration is still running has no episode yet."""
    add_running(settings, plan, NarrationState.RUNNING)
    synthesize_chunk(plan, 0, store_of(settings), settings)
    stream = client.get(f"/v1/narrations/{'a' * 32}").json
    assert stream is not None and stream["stream_url"]  # playable right now ...
    feed = client.get("/feeds/all.xml")
    assert feed.status_code == 200
    assert b"<item>" not in feed.data  # ... but not an episode
    assert b"/stream/" not in feed.data and b".m3u8" not in feed.data


def test_nginx_sends_built_segments_from_the_store_and_asks_the_api_for_the_rest(
    plan: NarrationPlan, settings: Settings, tmp_path: Path
) -> None:
    import requests

    from tests.integration.nginx_conf import write_nginx_conf
    from tests.integration.test_topology import nginx_binary, wait_http
    from tests.integration.worker_process import free_port, http_server, running

    nginx = nginx_binary()
    synthesize_chunk(plan, 0, store_of(settings), settings)
    (segment,) = ready_segments(plan, store_of(settings))
    with http_server(create_app(settings)) as api:
        port = free_port()
        conf = write_nginx_conf(
            tmp_path / "nginx",
            port=port,
            upstream=api.removeprefix("http://"),
            audio_dir=settings.audio_cache_dir,
        )
        args = [nginx, "-e", "stderr", "-p", str(conf.parent), "-c", str(conf), "-g", "daemon off;"]
        with running(args, dict(os.environ), tmp_path / "nginx.log", "nginx") as process:
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/healthz", process, tmp_path / "nginx.log", "nginx")
            playlist = requests.get(f"{base}/stream/{plan.narration_key}.m3u8", timeout=10)
            assert playlist.status_code == 200 and f"{segment.name}.ts" in playlist.text
            url = f"{base}/stream/{plan.narration_key}/{segment.name}.ts"
            first = requests.get(url, timeout=30)  # not built yet: the API builds it
            assert first.status_code == 200 and "X-Request-ID" in first.headers
            again = requests.get(url, timeout=10)  # now nginx sends it from the store
            assert again.status_code == 200 and "X-Request-ID" not in again.headers
            assert again.content == first.content
            assert again.headers["Content-Type"] == "video/mp2t"
            assert "immutable" in again.headers["Cache-Control"]
            missing = requests.get(
                f"{base}/stream/{plan.narration_key}/1-{'0' * 32}.ts", timeout=10
            )
            assert missing.status_code == 404


def test_a_wav_chunk_is_read_in_process_with_the_samples_ffmpeg_would_give(
    plan: NarrationPlan, settings: Settings, tmp_path: Path
) -> None:
    """Chunks may be stored as WAV: their samples are read without starting ffmpeg."""
    import wave

    from narration.audio import decode
    from narration.progressive import _read_wav, chunk_rate

    store = store_of(settings)
    synthesize_chunk(plan, 0, store, settings)
    key = plan.chunks[0].key
    rate = chunk_rate(store.chunk_meta(key))
    samples = decode(find_ffmpeg(None), store.chunk_path(key), rate)
    wav = tmp_path / "chunk.wav"
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    read = _read_wav(wav, rate)
    assert read is not None and (read == samples).all()
    assert _read_wav(wav, rate * 2) is None  # another rate: left to ffmpeg, which resamples
    other = tmp_path / "chunk.mp3"
    other.write_bytes(b"ID3\x04" + bytes(64))
    assert _read_wav(other, rate) is None  # not WAV: left to ffmpeg

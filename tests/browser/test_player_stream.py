"""The player plays a narration while it is being made: the growing HLS stream of its
synthesized chunks, in headless Chromium (natively if it plays HLS, else with hls.js), then the
finished MP3 from the same place once it is ready.

Real audio: eSpeak NG chunks in the audio store, segments made by ffmpeg on request, the
service on a loopback port.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from narration.catalog import Narration, NarrationState, narrations, session_scope
from narration.catalog.db import dispose_all
from narration.plan import plan_narration
from narration.script import Paragraph, Script, Section, Sentence
from narration.settings import Settings
from narration.stitch import stitch_narration
from narration.store import AudioStore
from narration.synthesis import synthesize_chunk
from service.app import create_app
from tests.browser.chromium import CHROMIUM, Page, chromium
from tests.browser.test_player import add_article
from tests.conftest import unavailable
from tests.integration.worker_process import http_server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

PARAGRAPHS = [
    "The harbour bridge reopened to traffic on Monday morning after eight months of repairs.",
    "Engineers replaced the worn cables and repainted the steel towers in their old colour.",
    "Commuters welcomed the news, saying the detour had added half an hour to every trip.",
    "The council said the work had finished two weeks early and well under its budget.",
    "A ribbon was cut by the mayor, who thanked the crews who had worked through the winter.",
    "Cyclists will get a wider lane on the eastern side when the last barriers come down.",
]
STORY = Script(
    "test",
    "Harbour bridge reopens after repairs",
    "Ana Ruiz",
    "en",
    [Section(None, [Paragraph([Sentence(t, t)]) for t in PARAGRAPHS])],
)
AUDIO = "document.getElementById('audio')"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium is not installed at {CHROMIUM}")
    settings = Settings(
        audio_cache_dir=tmp_path / "audio_cache",
        database_url=f"sqlite:///{tmp_path / 'catalog.sqlite3'}",
        engine="espeak",
        api_keys=["k"],
        redis_url=None,
        outro_text=None,
    )
    app = create_app(settings)
    with http_server(app) as base:
        yield base, settings
    dispose_all()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Page]]:
    with chromium(tmp_path_factory.mktemp("chromium") / "profile") as new_page:
        yield new_page


WITHOUT_NATIVE_HLS = """
(() => {
  const canPlayType = HTMLMediaElement.prototype.canPlayType;
  HTMLMediaElement.prototype.canPlayType = function (type) {
    return /mpegurl/i.test(type) ? "" : canPlayType.call(this, type);
  };
})();
"""


@pytest.mark.parametrize("player", ["as the browser chooses", "hls.js"])
def test_the_stream_plays_before_the_mp3_exists_then_the_mp3_takes_over(
    browser: Callable[[], Page], site: tuple[str, Settings], player: str
) -> None:
    """This Chromium plays HLS itself (``canPlayType`` says "maybe"); the hls.js path, which
    other browsers take, is run by hiding that."""
    base, settings = site
    store = AudioStore(settings.audio_cache_dir)
    plan = plan_narration(STORY, settings)
    store.save_plan(plan)
    assert len(plan.chunks) >= 5
    for index in range(3):  # the first chunks are done, the rest still to come
        synthesize_chunk(plan, index, store, settings)
    add_article(
        settings,
        "bridge",
        Narration(
            id="n-stream",
            narration_key=plan.narration_key,
            state=NarrationState.RUNNING,
            engine="espeak",
            lang="en",
            chunks_total=len(plan.chunks),
            chunks_done=3,
        ),
    )

    page = browser()
    if player == "hls.js":
        page.send("Page.addScriptToEvaluateOnNewDocument", {"source": WITHOUT_NATIVE_HLS})
    page.navigate(f"{base}/player/bridge")
    native = page.js(f"{AUDIO}.canPlayType('application/vnd.apple.mpegurl')")
    print(f"canPlayType('application/vnd.apple.mpegurl'): {native!r}")
    engine = page.wait_for("window.narratorPlayer.streaming()", what="the stream to be set up")
    assert engine == ("native" if native else "hls.js")
    if player == "hls.js":
        assert page.js("typeof window.Hls") == "function"
    page.wait_for("!document.getElementById('play').disabled", what="the play button")
    page.click("#play")
    page.wait_for(f"{AUDIO}.currentTime > 1.0", what="the stream to play")
    assert not page.js(f"{AUDIO}.src").endswith(".mp3")
    assert "narrated so far" in page.js("document.getElementById('status').textContent")
    shot = page.screenshot(site[1].audio_cache_dir.parent / f"player-streaming-{engine}.png")
    print(f"screenshot: {shot}")
    assert page.js(f"{AUDIO}.error") is None

    # The rest is synthesized and stitched; the catalog says ready; the player moves over.
    for index in range(3, len(plan.chunks)):
        synthesize_chunk(plan, index, store, settings)
    result = stitch_narration(plan, store, settings)
    with session_scope(settings.catalog_url) as session:
        assert narrations.mark_ready(
            session,
            "n-stream",
            audio_key=result.audio_key,
            duration_ms=result.duration_ms,
            size_bytes=result.bytes,
        )
    before = page.js(f"{AUDIO}.currentTime")
    page.wait_for(
        f"{AUDIO}.currentSrc.endsWith('/audio/{result.audio_key}.mp3')",
        what="the player to switch to the finished MP3",
        timeout=40,
    )
    assert page.js("window.narratorPlayer.streaming()") is None
    page.wait_for(f"{AUDIO}.readyState >= 1", what="the MP3's metadata")
    # It goes on from where the stream was, and keeps playing.
    page.wait_for(f"!{AUDIO}.paused && {AUDIO}.currentTime > {before}", what="playback to go on")
    assert abs(page.js(f"{AUDIO}.duration") * 1000 - result.duration_ms) < 300
    page.wait_for("document.querySelectorAll('.sentence').length > 3", what="the transcript")

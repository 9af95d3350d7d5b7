"""The embeddable player in headless Chromium, against the service on a loopback port.

The audio is real: a short story narrated by eSpeak NG through the whole pipeline, with its
manifest (every sentence's start and end) beside it. The browser must load and play it, keep
the highlighted sentence in step with the manifest, seek when a sentence is clicked, and pick
up audio that becomes ready while the page is open.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from narration.catalog import Article, Narration, NarrationState, narrations, session_scope
from narration.catalog.db import dispose_all
from narration.pipeline import narrate
from narration.script import Paragraph, Script, Section, Sentence
from narration.settings import Settings
from service.app import create_app
from tests.browser.chromium import CHROMIUM, Page, chromium
from tests.conftest import unavailable
from tests.integration.worker_process import http_server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


def said(*texts: str) -> Paragraph:
    return Paragraph([Sentence(t, t) for t in texts])


STORY = Script(
    source="test",
    title="Harbour bridge reopens after repairs",
    byline="Ana Ruiz",
    lang="en",
    sections=[
        Section(
            heading=None,
            paragraphs=[
                said(
                    "The harbour bridge reopened to traffic on Monday morning.",
                    "Eight months of repairs are over.",
                ),
                said("Engineers replaced the worn cables and repainted the steel towers."),
            ],
        ),
        Section(
            heading=Sentence("Commuters return", "Commuters return"),
            paragraphs=[
                said(
                    "Commuters welcomed the news.",
                    "The detour had added half an hour to their trips.",
                    "The council said the work finished early and under budget.",
                )
            ],
        ),
    ],
)


@dataclass
class Site:
    base: str
    settings: Settings
    manifest: dict[str, Any]
    audio: dict[str, Any]


def add_article(settings: Settings, article_id: str, narration: Narration) -> None:
    with session_scope(settings.catalog_url) as session:
        session.add(
            Article(
                id=article_id,
                source="pushed",
                title=STORY.title,
                byline=STORY.byline,
                section="City",
                lang="en",
                content_type="text/plain",
                body=b"",
                content_hash="0" * 64,
            )
        )
        session.flush()
        narration.article_id = article_id
        session.add(narration)
        session.flush()
        article = session.get(Article, article_id)
        assert article is not None
        article.latest_narration_id = narration.id
        if narration.state == NarrationState.READY:
            article.current_narration_id = narration.id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium is not installed at {CHROMIUM}")
    root = tmp_path_factory.mktemp("player")
    settings = Settings(
        audio_cache_dir=root / "audio_cache", engine="espeak", api_keys=["k"], redis_url=None
    )
    result = narrate(STORY, root / "story.mp3", settings)
    manifest = json.loads((settings.audio_cache_dir / f"{result.audio_key}.json").read_text())
    app = create_app(settings)
    add_article(
        settings,
        "bridge",
        Narration(
            id="n-bridge",
            narration_key="k-bridge",
            state=NarrationState.READY,
            engine="espeak",
            lang="en",
            audio_key=result.audio_key,
            duration_ms=result.duration_ms,
            bytes=result.bytes,
            chunks_total=3,
            chunks_done=3,
        ),
    )
    audio = {
        "audio_key": result.audio_key,
        "duration_ms": result.duration_ms,
        "bytes": result.bytes,
    }
    with http_server(app) as base:
        yield Site(base, settings, manifest, audio)
    dispose_all()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go, for a person to look at (the path is printed)."""
    path = tmp_path_factory.mktemp("screenshots")
    print(f"screenshots in {path}")
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Page]]:
    with chromium(tmp_path_factory.mktemp("chromium") / "profile") as new_page:
        yield new_page


def spoken_sentences(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in manifest["sentences"] if s["kind"] not in ("intro", "outro")]


def expected_at(manifest: dict[str, Any], seconds: float) -> str:
    """The text the player should highlight at ``seconds``: the last sentence started by then."""
    started = [s for s in spoken_sentences(manifest) if s["start_ms"] <= seconds * 1000 + 50]
    return str(started[-1]["text"]) if started else ""


CURRENT = "(document.querySelector('.sentence.is-current') || {}).textContent || ''"


def open_player(page: Page, site: Site, article_id: str = "bridge") -> None:
    page.navigate(f"{site.base}/player/{article_id}")


def test_audio_loads_with_transcript_and_duration(
    browser: Callable[[], Page], site: Site, shots: Path
) -> None:
    page = browser()
    open_player(page, site)
    page.wait_for("document.getElementById('audio').readyState >= 1", what="audio metadata")
    duration = page.js("document.getElementById('audio').duration")
    assert abs(duration * 1000 - site.audio["duration_ms"]) < 300
    texts = page.js("[...document.querySelectorAll('.sentence')].map(e => e.textContent)")
    assert texts == [s["text"] for s in spoken_sentences(site.manifest)]
    assert page.js("document.querySelector('h2 .sentence').textContent") == "Commuters return"
    assert "Written by reporters, read by AI" in page.js("document.body.innerText")
    seconds = int(duration)
    shown = page.js("document.getElementById('duration').textContent")
    assert shown == f"{seconds // 60}:{seconds % 60:02d}"
    page.screenshot(shots / "player-loaded.png")


def test_play_advances_and_the_highlight_follows_the_manifest(
    browser: Callable[[], Page], site: Site, shots: Path
) -> None:
    page = browser()
    open_player(page, site)
    page.wait_for("!document.getElementById('play').disabled", what="the play button")
    page.click("#play")
    page.wait_for("document.getElementById('audio').currentTime > 1.5", what="playback to advance")
    assert page.js("document.getElementById('play').getAttribute('aria-label')") == "Pause"
    # Sample the highlight while playing: each sample must match the manifest at that moment.
    seen = []
    for _ in range(4):
        state = page.js(f"({{t: document.getElementById('audio').currentTime, text: {CURRENT}}})")
        t, text = state["t"], state["text"]
        # the highlight is refreshed every animation frame, so allow one sentence boundary
        assert text in {expected_at(site.manifest, t), expected_at(site.manifest, t - 0.3)}, (
            t,
            text,
        )
        seen.append(text)
        page.wait_for(f"document.getElementById('audio').currentTime > {t + 1.2}", what="time")
    assert all(seen), "a sentence is highlighted throughout"
    assert len(set(seen)) >= 2, "the highlight moved on as the narration did"
    page.screenshot(shots / "player-playing.png")


def test_clicking_a_sentence_seeks_to_it(browser: Callable[[], Page], site: Site) -> None:
    page = browser()
    open_player(page, site)
    page.wait_for("document.querySelectorAll('.sentence').length > 5", what="the transcript")
    target = spoken_sentences(site.manifest)[5]
    start = target["start_ms"] / 1000
    page.click(f".sentence[data-start='{start}']")
    page.wait_for(
        f"Math.abs(document.getElementById('audio').currentTime - {start}) < 1.5"
        " && !document.getElementById('audio').paused",
        what="the seek to the clicked sentence",
    )
    page.wait_for(
        f"{CURRENT} === {json.dumps(target['text'])}", what="the clicked sentence to light up"
    )
    assert (
        page.js("document.querySelector('.sentence.is-current').getAttribute('aria-current')")
        == "true"
    )


def test_the_transcript_is_one_tab_stop_walked_with_arrow_keys(
    browser: Callable[[], Page], site: Site
) -> None:
    page = browser()
    open_player(page, site)
    page.wait_for("document.querySelectorAll('.sentence').length > 5", what="the transcript")
    assert page.js("document.querySelectorAll('.sentence[tabindex=\"0\"]').length") == 1
    page.js("document.querySelector('.sentence[tabindex=\"0\"]').focus()")
    page.press("ArrowDown")
    page.press("ArrowDown")
    target = spoken_sentences(site.manifest)[2]
    assert page.js("document.activeElement.textContent") == target["text"]
    page.press("Enter")
    start = target["start_ms"] / 1000
    page.wait_for(
        f"Math.abs(document.getElementById('audio').currentTime - {start}) < 1.5",
        what="Enter to play from the focused sentence",
    )


def test_speed_and_skip_controls(browser: Callable[[], Page], site: Site) -> None:
    page = browser()
    open_player(page, site)
    page.wait_for("!document.getElementById('forward').disabled", what="the controls")
    page.js(
        "(() => { const s = document.getElementById('speed'); s.value = '1.5';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    assert page.js("document.getElementById('audio').playbackRate") == 1.5
    page.click("#forward")
    page.wait_for("document.getElementById('audio').currentTime >= 14.9", what="skip forward")
    page.click("#back")
    page.wait_for("document.getElementById('audio').currentTime < 0.5", what="skip back")


def test_a_narration_that_becomes_ready_while_the_page_is_open(
    browser: Callable[[], Page], site: Site, shots: Path
) -> None:
    add_article(
        site.settings,
        "later",
        Narration(
            id="n-later",
            narration_key="k-later",
            state=NarrationState.RUNNING,
            engine="espeak",
            lang="en",
            chunks_total=4,
            chunks_done=1,
        ),
    )
    page = browser()
    open_player(page, site, "later")
    status = page.js("document.getElementById('status').textContent")
    assert "1 of 4" in status
    assert page.js("document.getElementById('play').disabled") is True
    page.screenshot(shots / "player-pending.png")
    with session_scope(site.settings.catalog_url) as session:
        assert narrations.mark_ready(
            session,
            "n-later",
            audio_key=site.audio["audio_key"],
            duration_ms=site.audio["duration_ms"],
            size_bytes=site.audio["bytes"],
        )
    page.wait_for("!document.getElementById('play').disabled", what="the page to pick up the audio")
    page.wait_for("document.querySelectorAll('.sentence').length > 0", what="the transcript")
    assert page.js("document.getElementById('status').textContent") == ""

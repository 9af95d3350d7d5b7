"""Podcast feeds: catalog rows to plain episodes, episodes to RSS, manifests to chapters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from lxml import etree

from narration import feeds
from narration.catalog import Article, Narration, NarrationState, session_scope, upgrade_to_head
from narration.disclosure import disclosure_line
from narration.settings import Settings

NS = {"itunes": feeds.ITUNES_NS, "podcast": feeds.PODCAST_NS}
LINKS = feeds.Links("https://news.example/")
PUBLISHED = datetime(2025, 9, 30, 8, 15, tzinfo=UTC)


def episode(guid: str = "lee-ishiba", **changes: object) -> feeds.Episode:
    values: dict[str, object] = {
        "guid": guid,
        "title": "Lee and Ishiba agree to deepen ties",
        "audio_key": "a1b2c3",
        "bytes": 1_234_567,
        "duration_ms": 154_600,
        "published": PUBLISHED,
        "updated": PUBLISHED + timedelta(hours=1),
        "lang": "en",
        "link": "https://news.example/article/1",
        "byline": "Sarah Kim",
        "section": "Politics",
    }
    values.update(changes)
    return feeds.Episode(**values)  # type: ignore[arg-type]


CHANNEL = feeds.Channel(slug="all", title="Narrated", description="All of it.", author="News")


def parse(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def test_item_has_what_podcast_apps_need() -> None:
    root = parse(feeds.render_rss(CHANNEL, [episode()], LINKS))
    item = root.find("channel/item")
    assert item is not None
    enclosure = item.find("enclosure")
    assert enclosure is not None
    assert enclosure.get("url") == "https://news.example/audio/a1b2c3.mp3"
    assert enclosure.get("length") == "1234567"
    assert enclosure.get("type") == "audio/mpeg"
    guid = item.find("guid")
    assert guid is not None and guid.text == "lee-ishiba" and guid.get("isPermaLink") == "false"
    assert parsedate_to_datetime(item.findtext("pubDate") or "") == PUBLISHED
    assert item.findtext("itunes:duration", namespaces=NS) == "155"
    assert item.findtext("itunes:explicit", namespaces=NS) == "false"
    transcript = item.find("podcast:transcript", NS)
    assert transcript is not None
    assert transcript.get("url") == "https://news.example/audio/a1b2c3.vtt"
    assert transcript.get("type") == "text/vtt"
    chapters = item.find("podcast:chapters", NS)
    assert chapters is not None
    assert chapters.get("url") == "https://news.example/feeds/chapters/a1b2c3.json"
    assert chapters.get("type") == "application/json+chapters"


def test_channel_links_itself_and_says_explicit_false() -> None:
    root = parse(feeds.render_rss(CHANNEL, [episode()], LINKS))
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("itunes:explicit", namespaces=NS) == "false"
    self_links = [el.get("href") for el in channel if el.get("rel") == "self"]
    assert self_links == ["https://news.example/feeds/all.xml"]
    assert parsedate_to_datetime(channel.findtext("lastBuildDate") or "") == PUBLISHED + timedelta(
        hours=1
    )


def test_episodes_keep_their_order_and_an_empty_feed_is_valid() -> None:
    newer = episode("b", published=PUBLISHED + timedelta(days=1))
    root = parse(feeds.render_rss(CHANNEL, [newer, episode("a")], LINKS))
    assert [g.text for g in root.iterfind("channel/item/guid")] == ["b", "a"]
    empty = parse(feeds.render_rss(CHANNEL, [], LINKS))
    assert empty.find("channel/item") is None
    assert empty.findtext("channel/title") == "Narrated"


def test_without_a_canonical_url_the_item_links_to_the_player() -> None:
    root = parse(feeds.render_rss(CHANNEL, [episode(link=None)], LINKS))
    assert root.findtext("channel/item/link") == "https://news.example/player/lee-ishiba"


@pytest.mark.parametrize(
    ("name", "slug"),
    [("World News", "world-news"), ("Économie", "economie"), ("  Arts & Culture ", "arts-culture")],
)
def test_section_slugs(name: str, slug: str) -> None:
    assert feeds.slugify(name) == slug


def test_chapters_open_at_the_title_and_each_heading() -> None:
    manifest = {
        "title": "Lee and Ishiba",
        "sentences": [
            {"kind": "title", "text": "Lee and Ishiba", "start_ms": 0, "end_ms": 2000},
            {"kind": "byline", "text": "By Sarah Kim", "start_ms": 2600, "end_ms": 3500},
            {"kind": "sentence", "text": "They met.", "start_ms": 4200, "end_ms": 5000},
            {"kind": "heading", "text": "Trade", "start_ms": 6000, "end_ms": 6500},
            {"kind": "sentence", "text": "Tariffs.", "start_ms": 7000, "end_ms": 7800},
        ],
    }
    assert feeds.chapters_from_manifest(manifest) == {
        "version": "1.2.0",
        "chapters": [
            {"startTime": 0.0, "title": "Lee and Ishiba"},
            {"startTime": 6.0, "title": "Trade"},
        ],
    }


# --- from the catalog -------------------------------------------------------------------------


@pytest.fixture
def catalog(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    upgrade_to_head(url)
    return url


def add_article(
    url: str,
    article_id: str,
    *,
    section: str | None,
    state: NarrationState = NarrationState.READY,
    published: datetime = PUBLISHED,
    lang: str = "en",
) -> None:
    with session_scope(url) as session:
        article = Article(
            id=article_id,
            source="pushed",
            title=f"Title {article_id}",
            byline="Sarah Kim",
            section=section,
            lang=lang,
            published_at=published,
            content_type="application/json",
            body=b"{}",
            content_hash="0" * 64,
        )
        session.add(article)
        session.flush()
        narration = Narration(
            id=f"n-{article_id}",
            narration_key=f"key-{article_id}",
            article_id=article_id,
            state=state,
            engine="espeak",
            lang=lang,
            audio_key=f"audio-{article_id}" if state == NarrationState.READY else None,
            duration_ms=61_000,
            bytes=500_000,
            ready_at=published + timedelta(minutes=5),
        )
        session.add(narration)
        session.flush()
        article.latest_narration_id = narration.id
        if state == NarrationState.READY:
            article.current_narration_id = narration.id


def test_load_feed_lists_ready_articles_newest_first(catalog: str) -> None:
    add_article(catalog, "old", section="World News")
    add_article(catalog, "new", section="Politics", published=PUBLISHED + timedelta(days=1))
    add_article(catalog, "pending", section="Politics", state=NarrationState.QUEUED)
    with session_scope(catalog) as session:
        channel, episodes = feeds.load_feed(session, "all", Settings(album="Narrated"))
    assert channel.title == "Narrated"
    assert [e.guid for e in episodes] == ["new", "old"]
    assert episodes[0].audio_key == "audio-new"
    assert episodes[0].published == PUBLISHED + timedelta(days=1)
    assert episodes[0].bytes == 500_000 and episodes[0].duration_ms == 61_000


def test_load_feed_for_one_section(catalog: str) -> None:
    add_article(catalog, "w", section="World News")
    add_article(catalog, "p", section="Politics")
    add_article(catalog, "pending", section="Sports", state=NarrationState.RUNNING)
    with session_scope(catalog) as session:
        channel, episodes = feeds.load_feed(session, "world-news", Settings(album="Narrated"))
        assert channel.title == "Narrated: World News"
        assert [e.guid for e in episodes] == ["w"]
        _, sports = feeds.load_feed(session, "sports", Settings())
        assert sports == []
        with pytest.raises(feeds.UnknownFeed) as info:
            feeds.load_feed(session, "weather", Settings())
    assert info.value.field == "feed"


def test_each_episode_discloses_the_ai_voice_in_its_own_language(catalog: str) -> None:
    add_article(catalog, "tokyo", section="World", lang="ja")
    add_article(catalog, "london", section="World", published=PUBLISHED + timedelta(days=1))
    settings = Settings(album="Narrated")
    with session_scope(catalog) as session:
        channel, episodes = feeds.load_feed(session, "all", settings)
    by_guid = {e.guid: e for e in episodes}
    assert (
        by_guid["tokyo"].disclosure
        == disclosure_line("ja")
        == "この記事は記者が執筆し、AI音声が読み上げました。"
    )
    assert by_guid["london"].disclosure == settings.disclosure
    # two languages: the channel keeps the configured line
    assert channel.disclosure == settings.disclosure
    items = parse(feeds.render_rss(channel, episodes, LINKS)).iterfind("channel/item")
    descriptions = {item.findtext("guid"): item.findtext("description") for item in items}
    assert descriptions == {
        "tokyo": f"By Sarah Kim. {disclosure_line('ja')}",
        "london": f"By Sarah Kim. {settings.disclosure}",
    }


def test_a_feed_all_in_japanese_discloses_in_japanese(catalog: str) -> None:
    add_article(catalog, "tokyo", section="World", lang="ja")
    with session_scope(catalog) as session:
        channel, _ = feeds.load_feed(session, "world", Settings(album="Narrated"))
    assert channel.language == "ja"
    assert channel.disclosure == disclosure_line("ja")
    assert channel.description.endswith(f", narrated. {disclosure_line('ja')}")


def test_a_configured_disclosure_is_used_in_every_language(catalog: str) -> None:
    add_article(catalog, "tokyo", section="World", lang="ja")
    settings = Settings(disclosure="Voiced by software.")
    with session_scope(catalog) as session:
        channel, episodes = feeds.load_feed(session, "all", settings)
    assert channel.disclosure == episodes[0].disclosure == "Voiced by software."


def test_an_episode_without_its_own_disclosure_shows_the_channels() -> None:
    root = parse(feeds.render_rss(CHANNEL, [episode(disclosure=None)], LINKS))
    assert root.findtext("channel/item/description") == f"By Sarah Kim. {CHANNEL.disclosure}"


def test_chapters_use_the_manifests_own_chapters_with_their_ends() -> None:
    manifest = {
        "title": "Lee and Ishiba",
        "chapters": [
            {"title": "Lee and Ishiba", "start_ms": 0, "end_ms": 6000},
            {"title": "Trade", "start_ms": 6000, "end_ms": 9100},
        ],
        "sentences": [],
    }
    assert feeds.chapters_from_manifest(manifest)["chapters"] == [
        {"startTime": 0.0, "title": "Lee and Ishiba", "endTime": 6.0},
        {"startTime": 6.0, "title": "Trade", "endTime": 9.1},
    ]


def test_podcast_guid_follows_the_podcasting_2_0_example() -> None:
    # the example in the podcast namespace's documentation of <podcast:guid>
    assert (
        feeds.podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml")
        == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    )


def test_channel_has_category_guid_and_artwork_when_configured() -> None:
    channel = feeds.Channel(
        slug="all", title="N", description="D", author="A", image_url="https://news.example/a.png"
    )
    root = parse(feeds.render_rss(channel, [episode()], LINKS)).find("channel")
    assert root is not None
    category = root.find("itunes:category", NS)
    assert category is not None and category.get("text") == "News"
    assert root.findtext("podcast:guid", namespaces=NS) == feeds.podcast_guid(
        "https://news.example/feeds/all.xml"
    )
    image = root.find("itunes:image", NS)
    assert image is not None and image.get("href") == "https://news.example/a.png"
    assert root.findtext("image/url") == "https://news.example/a.png"


def test_a_feed_with_nothing_configured_still_has_language_owner_and_artwork() -> None:
    root = parse(feeds.render_rss(CHANNEL, [], LINKS)).find("channel")
    assert root is not None
    assert root.findtext("language") == "en"
    assert root.findtext("itunes:owner/itunes:name", namespaces=NS) == "News"
    assert root.findtext("itunes:owner/itunes:email", namespaces=NS) == "podcasts@news.example"
    artwork = "https://news.example/player/static/artwork.png"
    assert root.findtext("image/url") == artwork
    image = root.find("itunes:image", NS)
    assert image is not None and image.get("href") == artwork

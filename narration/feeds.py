"""Podcast feeds: every narrated article, or one section's, as RSS for podcast apps.

Two steps, so each can be tested alone: :func:`load_feed` reads the catalog into plain
:class:`Episode` data; :func:`render_rss` turns that into RSS 2.0 with the iTunes tags and the
Podcasting 2.0 ``podcast:transcript`` and ``podcast:chapters`` links. An episode's ``guid`` is the
article's ID, so a re-narrated article updates its episode instead of adding another.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from narration import disclosure
from narration.catalog import Article, Narration, NarrationState
from narration.errors import NarrationError
from narration.languages import normalize as normalize_lang
from narration.settings import Settings

ALL = "all"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
CHAPTERS_VERSION = "1.2.0"
DEFAULT_LIMIT = 100
"""Newest episodes per feed; podcast apps keep what they already downloaded."""


class UnknownFeed(NarrationError):
    """No section has this slug."""


@dataclass(frozen=True)
class Episode:
    guid: str
    """The article's ID: stable across re-narrations."""
    title: str
    audio_key: str
    bytes: int
    duration_ms: int
    published: datetime
    updated: datetime
    lang: str
    link: str | None = None
    byline: str | None = None
    image_url: str | None = None
    section: str | None = None
    disclosure: str | None = None
    """The AI-voice disclosure in the episode's language; ``None``: the channel's."""


@dataclass(frozen=True)
class Channel:
    slug: str
    title: str
    description: str
    author: str
    language: str | None = None
    explicit: bool = False
    disclosure: str = "Written by reporters, read by AI."
    image_url: str | None = None
    """The podcast artwork; ``None``: the built-in one (``Links.artwork``)."""
    category: str = "News"
    owner_email: str | None = None
    """``itunes:owner``'s address; ``None``: ``podcasts@`` the feed's host."""


def slugify(name: str) -> str:
    """``"World News"`` -> ``"world-news"``; accents folded, anything else becomes a hyphen."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or "section"


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    # SQLite returns naive datetimes for timezone-aware columns; they were written in UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def sections(session: Session) -> dict[str, list[str]]:
    """Section slug -> the section names (as the CMS spells them) that share it."""
    names = session.scalars(select(Article.section).where(Article.section.is_not(None)).distinct())
    result: dict[str, list[str]] = {}
    for name in names:
        if name and name.strip():
            result.setdefault(slugify(name), []).append(name)
    return result


def load_feed(
    session: Session, feed: str, settings: Settings, *, limit: int = DEFAULT_LIMIT
) -> tuple[Channel, list[Episode]]:
    """The channel and its newest ready episodes (newest first) for ``all`` or a section slug.

    A section with no narration yet is an empty feed; a slug no article carries is
    :class:`UnknownFeed`.
    """
    query = (
        select(Article, Narration)
        .join(Narration, Article.current_narration_id == Narration.id)
        .where(Narration.state == NarrationState.READY, Narration.audio_key.is_not(None))
    )
    if feed == ALL:
        title = settings.album
        section_title = None
    else:
        names = sections(session).get(feed)
        if not names:
            raise UnknownFeed(f"no section has the feed name {feed!r}", field="feed")
        query = query.where(Article.section.in_(names))
        section_title = names[0]
        title = f"{settings.album}: {section_title}"
    published = Article.published_at
    query = query.order_by(published.desc().nulls_last(), Narration.ready_at.desc()).limit(limit)
    rows = session.execute(query)
    episodes = [_episode(article, narration, settings) for article, narration in rows]
    languages = {e.lang.split("-")[0] for e in episodes}
    # always a <language>: the episodes' one, else the configured one, else English
    language = languages.pop() if len(languages) == 1 else normalize_lang(settings.lang) or "en"
    # in the channel's language; the configured (English) line when it has none
    channel_disclosure = disclosure.comment(settings, language or "en")
    channel = Channel(
        slug=feed,
        title=title,
        description=(
            f"Articles from {settings.publisher}"
            + (f" ({section_title})" if section_title else "")
            + f", narrated. {channel_disclosure}"
        ),
        author=settings.publisher,
        disclosure=channel_disclosure,
        image_url=settings.feed_image_url or None,
        language=language,
        owner_email=settings.feed_owner_email,
    )
    return channel, episodes


def _episode(article: Article, narration: Narration, settings: Settings) -> Episode:
    ready = _as_utc(narration.ready_at) or _as_utc(narration.created_at) or datetime.now(UTC)
    assert narration.audio_key is not None  # filtered by the query
    return Episode(
        guid=article.id,
        title=article.title or narration.title or article.id,
        audio_key=audio_stem(narration.audio_key),
        bytes=narration.bytes or 0,
        duration_ms=narration.duration_ms or 0,
        published=_as_utc(article.published_at) or ready,
        updated=max(ready, _as_utc(article.updated_at) or ready),
        lang=normalize_lang(narration.lang) or narration.lang,  # rows made before: "iw"
        link=article.canonical_url,
        byline=article.byline,
        image_url=article.image_url,
        section=article.section,
        # in the language the episode is read in, as its audio's own outro and ID3 comment are
        disclosure=disclosure.comment(settings, narration.lang),
    )


def audio_stem(audio_key: str) -> str:
    """The store key without a file extension (catalog rows may hold either form)."""
    return audio_key.removesuffix(".mp3")


def last_modified(episodes: Sequence[Episode]) -> datetime | None:
    return max((e.updated for e in episodes), default=None)


@dataclass(frozen=True)
class Links:
    """Absolute URLs, from ``settings.public_url`` or the request's host."""

    base: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", self.base.rstrip("/"))

    def feed(self, slug: str) -> str:
        return f"{self.base}/feeds/{slug}.xml"

    def audio(self, key: str, ext: str) -> str:
        return f"{self.base}/audio/{key}.{ext}"

    def chapters(self, key: str) -> str:
        return f"{self.base}/feeds/chapters/{key}.json"

    def player(self, guid: str) -> str:
        return f"{self.base}/player/{guid}"

    def artwork(self) -> str:
        """The built-in square artwork, for a feed without ``NARRATOR_FEED_IMAGE_URL``."""
        return f"{self.base}/player/static/artwork.png"

    @property
    def host(self) -> str:
        return urlsplit(self.base).hostname or "localhost"


# --- rendering ------------------------------------------------------------------------------


class _PodcastIndex(BaseExtension):
    """Channel-level Podcasting 2.0 and the iTunes tags feedgen spells differently."""

    def __init__(self) -> None:
        self.explicit = False
        self.guid: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def extend_rss(self, rss: Any) -> Any:
        channel = rss[0]
        # Apple now documents "true"/"false"; feedgen only knows yes/no/clean.
        etree.SubElement(channel, f"{{{ITUNES_NS}}}explicit").text = _bool(self.explicit)
        if self.guid:
            etree.SubElement(channel, f"{{{PODCAST_NS}}}guid").text = self.guid
        return rss


class _PodcastIndexEntry(BaseEntryExtension):
    def __init__(self) -> None:
        self.explicit = False
        self.transcript: tuple[str, str, str | None] | None = None
        self.chapters: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def extend_rss(self, item: Any) -> Any:
        etree.SubElement(item, f"{{{ITUNES_NS}}}explicit").text = _bool(self.explicit)
        if self.transcript:
            url, mime, lang = self.transcript
            element = etree.SubElement(item, f"{{{PODCAST_NS}}}transcript", url=url, type=mime)
            if lang:
                element.set("language", lang)
        if self.chapters:
            etree.SubElement(
                item,
                f"{{{PODCAST_NS}}}chapters",
                url=self.chapters,
                type="application/json+chapters",
            )
        return item


PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


def podcast_guid(feed_url: str) -> str:
    """The Podcasting 2.0 ``podcast:guid``: UUIDv5 of the feed URL without its scheme."""
    bare = re.sub(r"^[a-z][a-z0-9+.-]*://", "", feed_url, flags=re.I).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def _bool(value: bool) -> str:
    return "true" if value else "false"


def render_rss(channel: Channel, episodes: Sequence[Episode], links: Links) -> bytes:
    """RSS 2.0 bytes (UTF-8) for podcast apps."""
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.register_extension("podcastindex", _PodcastIndex, _PodcastIndexEntry, atom=False)
    feed_url = links.feed(channel.slug)
    fg.title(channel.title)
    # feedgen's RSS <link> is the last link given: the site, after the feed's own atom:link.
    fg.link(href=feed_url, rel="self")
    fg.link(href=links.base + "/", rel="alternate")
    fg.description(channel.description)
    fg.generator("narrator")
    fg.docs("https://www.rssboard.org/rss-specification")
    fg.language(channel.language or "en")
    fg.podcast.itunes_author(channel.author)
    # podcast directories ask for an owner and artwork: the feed always has both
    fg.podcast.itunes_owner(
        name=channel.author, email=channel.owner_email or f"podcasts@{links.host}"
    )
    fg.podcast.itunes_summary(channel.description)
    fg.podcast.itunes_type("episodic")
    fg.podcast.itunes_category(channel.category)
    image_url = channel.image_url or links.artwork()
    fg.image(url=image_url, title=channel.title, link=links.base + "/")
    if _itunes_image_ok(image_url):
        fg.podcast.itunes_image(image_url)
    fg.podcastindex.explicit = channel.explicit
    fg.podcastindex.guid = podcast_guid(feed_url)
    if episodes:
        fg.lastBuildDate(max(e.updated for e in episodes))
    else:
        fg.lastBuildDate(datetime(1970, 1, 1, tzinfo=UTC))

    for episode in episodes:
        fe = fg.add_entry(order="append")
        fe.guid(episode.guid, permalink=False)
        fe.title(episode.title)
        fe.link(href=episode.link or links.player(episode.guid))
        summary = f"By {episode.byline}. " if episode.byline else ""
        fe.description(summary + (episode.disclosure or channel.disclosure))
        fe.pubDate(episode.published)
        fe.enclosure(links.audio(episode.audio_key, "mp3"), str(episode.bytes), "audio/mpeg")
        fe.podcast.itunes_duration(round(episode.duration_ms / 1000))
        if episode.byline:
            fe.podcast.itunes_author(episode.byline)
        if episode.image_url and _itunes_image_ok(episode.image_url):
            fe.podcast.itunes_image(episode.image_url)
        fe.podcastindex.explicit = channel.explicit
        fe.podcastindex.transcript = (
            links.audio(episode.audio_key, "vtt"),
            "text/vtt",
            episode.lang,
        )
        fe.podcastindex.chapters = links.chapters(episode.audio_key)
    rss: bytes = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return rss


def _itunes_image_ok(url: str) -> bool:
    # feedgen refuses itunes:image URLs that do not end in .jpg or .png (Apple's rule).
    return url.lower().split("?")[0].endswith((".jpg", ".png"))


# --- chapters -------------------------------------------------------------------------------


def chapters_from_manifest(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Podcasting 2.0 JSON chapters: one per section, starting where its first sentence does.

    Uses the manifest's own ``chapters`` when it has them; otherwise the first entry opens the
    article (its title) and every ``heading`` entry opens a chapter.
    """
    chapters: list[dict[str, Any]] = []
    given = manifest.get("chapters")
    if isinstance(given, list) and given:
        for item in given:
            chapter = {
                "startTime": round(item.get("start_ms", 0) / 1000, 3),
                "title": str(item.get("title") or manifest.get("title") or ""),
            }
            if isinstance(item.get("end_ms"), int | float):
                chapter["endTime"] = round(item["end_ms"] / 1000, 3)
            chapters.append(chapter)
    else:
        # Older manifests: the article opens at 0, then every section heading starts a chapter.
        entries = manifest.get("sentences") or []
        title = manifest.get("title") or next((e.get("text") for e in entries), "")
        chapters.append({"startTime": 0.0, "title": str(title or "")})
        for entry in entries:
            if entry.get("kind") == "heading":
                start = round(entry.get("start_ms", 0) / 1000, 3)
                chapters.append({"startTime": start, "title": str(entry.get("text", ""))})
    return {"version": CHAPTERS_VERSION, "chapters": chapters}

"""Podcast feeds over HTTP: ``GET /feeds/<feed>.xml`` and the chapters each episode links to."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from narration import feeds
from narration.catalog import session_scope
from narration.vocabulary import AUDIO_KEY, FEED_NAME
from service.context import catalog_url, current_settings
from service.errors import ApiError

bp = Blueprint("feeds", __name__)

RSS_MIMETYPE = "application/rss+xml"
FEED_MAX_AGE_S = 300
"""Podcast apps poll; five minutes of caching costs a new episode at most five minutes."""


def links() -> feeds.Links:
    """Absolute URLs from the configured public URL, else from the host the request came to."""
    return feeds.Links(current_settings().public_url or request.host_url)


@bp.get("/feeds/<feed>.xml")
def feed(feed: str) -> Response:
    """RSS of every narrated article (``all``) or of one section (its slug)."""
    if not FEED_NAME.fullmatch(feed):
        raise ApiError(404, f"no feed named {feed!r}: use 'all' or a section slug", field="feed")
    with session_scope(catalog_url()) as session:
        try:
            channel, episodes = feeds.load_feed(session, feed, current_settings())
        except feeds.UnknownFeed as exc:
            raise ApiError(404, str(exc), field="feed") from exc
    response = Response(feeds.render_rss(channel, episodes, links()), mimetype=RSS_MIMETYPE)
    response.cache_control.public = True
    response.cache_control.max_age = FEED_MAX_AGE_S
    response.last_modified = feeds.last_modified(episodes)
    response.add_etag()
    response.make_conditional(request)  # in place: 304 when ETag or date match
    return response


@bp.get("/feeds/chapters/<key>.json")
def chapters(key: str) -> Response:
    """Podcasting 2.0 JSON chapters of one narration, derived from its sentence manifest."""
    if not AUDIO_KEY.fullmatch(key):
        raise ApiError(404, "no narration has this audio key", field="key")
    path = current_settings().audio_cache_dir / f"{key}.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ApiError(404, "no narration has this audio key", field="key") from exc
    body = json.dumps(feeds.chapters_from_manifest(manifest), ensure_ascii=False)
    response = Response(body, mimetype="application/json+chapters")
    # The manifest behind a key never changes, so neither do its chapters.
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.add_etag()
    response.make_conditional(request)  # in place: 304 when ETag or date match
    return response

"""The embeddable player: ``GET /player/<id>``, a small page meant for an ``<iframe>``.

The page is plain HTML, CSS and JavaScript (``service/static/player/``). It plays the article's
current audio and reads along: the sentence being spoken is highlighted from the narration's
manifest (every sentence's start and end in ms), and clicking a sentence seeks to it. When no
audio is ready yet it shows the narration's state and polls ``/player/<id>/status.json``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from narration import contract, disclosure, readalong
from narration.catalog import narrations, session_scope
from narration.catalog.articles import get_article
from narration.catalog.models import NarrationState
from narration.languages import normalize as normalize_lang
from narration.vocabulary import AUDIO_KEY
from service.context import answer, audio_store, catalog_url, current_settings
from service.errors import ApiError, checked_article_id
from service.stream import stream_url_if_playable

bp = Blueprint(
    "player",
    __name__,
    static_folder="static/player",
    static_url_path="/player/static",
    template_folder="templates",
)

SPEEDS = (0.75, 1.0, 1.25, 1.5, 1.75, 2.0)


def _base_url() -> str:
    """Where audio links point: the configured public URL, else this host."""
    return (current_settings().public_url or request.host_url).rstrip("/")


def player_status(article_id: str) -> dict[str, Any] | None:
    """What the player needs: the audio it should play now and, while a newer version (or the
    first one) is being made, that narration's progress. ``None``: no such article."""
    with session_scope(catalog_url()) as session:
        article = get_article(session, article_id)
        if article is None:
            return None
        base = _base_url()
        current = narrations.current_audio(session, article_id)
        latest = narrations.latest_for_article(session, article_id)
        pending = latest if latest is not None and latest is not current else None
        state = "ready" if current is not None else (pending.state.value if pending else "none")
        audio = narrations.status(current, base_url=base) if current is not None else None
        if audio is not None and current is not None and current.audio_key:
            audio["read_along_url"] = f"{base}/player/read-along/{current.audio_key}.json"
        waiting = narrations.status(pending, base_url=base) if pending else None
        if waiting is not None and pending is not None:
            unfinished = pending.state in (NarrationState.QUEUED, NarrationState.RUNNING)
            waiting["stream_url"] = (
                stream_url_if_playable(base, pending.narration_key) if unfinished else None
            )
        narrated = current or pending
        lang = normalize_lang(article.lang or (narrated.lang if narrated else None)) or (
            current_settings().lang
        )
        return {
            "article_id": article_id,
            "lang": lang or "en",
            "title": article.title or (current.title if current else None) or article_id,
            "byline": article.byline,
            "image_url": article.image_url,
            "state": state,
            "audio": audio,
            "pending": waiting,
        }


def _security_headers(response: Response) -> Response:
    settings = current_settings()
    audio_origins = "'self'"
    if settings.public_url:
        parts = urlsplit(settings.public_url)
        if parts.scheme and parts.netloc:
            audio_origins += f" {parts.scheme}://{parts.netloc}"
    response.headers["Content-Security-Policy"] = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' https: data:",
            # blob: is the MediaSource hls.js plays a narration's stream through
            f"media-src {audio_origins} blob:",
            f"connect-src {audio_origins}",
            "base-uri 'none'",
            "form-action 'none'",
            # made to be embedded: any site may frame it (it has no state a click could abuse)
            "frame-ancestors *",
        ]
    )
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/player/<article_id>")
def page(article_id: str) -> Response:
    status = player_status(checked_article_id(article_id))
    if status is None:
        response = Response(
            render_template("player.html", status=None, article_id=article_id, speeds=SPEEDS),
            status=404,
            mimetype="text/html",
        )
        return _security_headers(response)
    html = render_template(
        "player.html",
        status=status,
        article_id=article_id,
        speeds=SPEEDS,
        status_url=url_for("player.status", article_id=article_id),
        # in the article's language, as the narration's spoken outro is
        disclosure=disclosure.comment(current_settings(), status["lang"]),
        publisher=current_settings().publisher,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return _security_headers(response)


@bp.get("/player/read-along/<key>.json")
def read_along(key: str) -> Response:
    """The timed sentences the player highlights, with paragraph breaks."""
    if not AUDIO_KEY.fullmatch(key):
        raise ApiError(404, "no narration has this audio key", field="key")
    try:
        body = readalong.read_along(audio_store(), key)
    except FileNotFoundError as exc:
        raise ApiError(404, "no narration has this audio key", field="key") from exc
    response = jsonify(body)
    # Derived from an immutable manifest and plan: cache like the audio itself.
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.add_etag()
    response.make_conditional(request)
    return response


@bp.get("/player/<article_id>/status.json")
def status(article_id: str) -> Response:
    result = player_status(checked_article_id(article_id))
    if result is None:
        raise ApiError(404, f"no article {article_id!r}", field="id")
    response = answer(contract.PlayerStatus, result)
    response.headers["Cache-Control"] = "no-store"
    return response

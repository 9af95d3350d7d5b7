"""The publisher API: articles in, narrations queued and reported, on-demand narration.

Views are thin: they validate the request and call ``narration`` (script, plan, catalog, and
the job through the app's :class:`~narration.queue.JobQueue`). Every write needs an API key
(``service.auth``).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from narration import jobs, logs
from narration.article import Article as ParsedArticle
from narration.catalog import articles, narrations, session_scope
from narration.catalog.models import Narration, NarrationState
from narration.errors import NarrationError, UnreadableArticle
from narration.jobs import PRIORITIES, Priority, Requested, request_narration
from narration.queue import QueueUnavailable
from narration.scripting import build_script, parse_article
from narration.sources import ArticleNotFound, ArticleSourceError
from service.auth import write_access
from service.context import audio_store, current_settings, job_queue
from service.errors import ApiError
from service.stream import stream_url_if_playable

bp = Blueprint("api", __name__, url_prefix="/v1")

ARTICLE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
NARRATION_ID = re.compile(r"[0-9a-f]{32}")
ENGINES = ("gtts", "espeak", "piper", "auto")
MAX_WAIT_S = 30
WAIT_POLL_S = 0.25
MAX_BATCH = 1000


# --- helpers ------------------------------------------------------------------------------------


def checked_article_id(article_id: str) -> str:
    if not ARTICLE_ID.fullmatch(article_id):
        raise ApiError(
            400,
            "an article ID is 1 to 128 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit",
            field="id",
        )
    return article_id


def checked_size(body: bytes, field: str) -> bytes:
    """413 for an article over ``NARRATOR_MAX_ARTICLE_BYTES`` (the request limit itself is
    higher, to leave room for JSON around the article)."""
    limit = current_settings().max_article_bytes
    if len(body) > limit:
        raise ApiError(413, f"{field} is over the limit of {limit} bytes", field=field)
    return body


def base_url() -> str:
    settings = current_settings()
    return (settings.public_url or request.host_url).rstrip("/")


def status_json(row: Narration) -> dict[str, Any]:
    body = narrations.status(row, base_url=base_url())
    # Where to listen while it is made: the growing HLS playlist, once its first chunk exists.
    unfinished = row.state in (NarrationState.QUEUED, NarrationState.RUNNING)
    body["stream_url"] = (
        stream_url_if_playable(base_url(), row.narration_key) if unfinished else None
    )
    return body


def json_object(*, required: bool) -> dict[str, Any]:
    """The request's JSON object body; ``{}`` when optional and absent."""
    data = request.get_data(cache=True)
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and len(data) >= limit:
        # A body without Content-Length (chunked) is cut at the limit rather than refused, and
        # the cut would otherwise show as invalid JSON, or parse into something else.
        raise ApiError(413, f"the body is over the limit of {limit} bytes", field="body")
    if not data.strip():
        if required:
            raise ApiError(400, "the request needs a JSON object body", field="body")
        return {}
    try:
        # Lenient about the media type: `curl -d '{…}'` sends a form type with a JSON body.
        obj = json.loads(data)
    except ValueError:
        if request.is_json:
            raise ApiError(400, "the body is not valid JSON", field="body") from None
        raise ApiError(
            415, "send a JSON object as application/json", field="Content-Type"
        ) from None
    if not isinstance(obj, dict):
        raise ApiError(400, "the body must be a JSON object", field="body")
    return obj


def _optional_str(obj: dict[str, Any], name: str, max_len: int) -> str | None:
    value = obj.get(name, request.args.get(name))
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise ApiError(400, f"{name} must be a string of at most {max_len} characters", field=name)
    return value.strip()


def narration_options(obj: dict[str, Any], *, default_priority: Priority) -> dict[str, Any]:
    """engine, voice, lang, priority and callback_url from a JSON body or the query string."""
    engine = _optional_str(obj, "engine", 16)
    if engine is not None and engine not in ENGINES:
        raise ApiError(400, f"engine must be one of {', '.join(ENGINES)}", field="engine")
    lang = _optional_str(obj, "lang", 35)
    if lang is not None and not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*", lang):
        raise ApiError(400, "lang must be a BCP 47 language tag such as en or zh-TW", field="lang")
    priority = _optional_str(obj, "priority", 8) or default_priority
    if priority not in PRIORITIES:
        raise ApiError(400, f"priority must be one of {', '.join(PRIORITIES)}", field="priority")
    callback_url = _optional_str(obj, "callback_url", 2048)
    if callback_url is not None:
        from narration.webhooks import validate_callback_url

        callback_url = validate_callback_url(callback_url, hosts=current_settings().webhook_hosts)
    return {
        "engine": engine,
        "voice": _optional_str(obj, "voice", 64),
        "lang": lang,
        "priority": priority,
        "callback_url": callback_url,
    }


def queue_unavailable(exc: QueueUnavailable) -> ApiError:
    """503 while the queue is down: the row stays queued and the reconciler sends its job when
    the queue is back."""
    current_app.logger.warning("could not queue a narration: %s", exc)
    return ApiError(503, "the job queue is unreachable; the narration starts when it is back")


def start_job(requested: Requested, priority: str) -> None:
    """Send the job if this request won the row, else recover its lost work, if any."""
    try:
        jobs.start_job(current_settings(), audio_store(), job_queue(), requested, priority)
    except QueueUnavailable as exc:
        raise queue_unavailable(exc) from exc


def narrate_article(article_id: str, options: dict[str, Any]) -> Requested:
    try:
        return jobs.narrate_article(
            current_settings(), audio_store(), job_queue(), article_id, **options
        )
    except ArticleNotFound as exc:
        raise ApiError(404, str(exc), field="id") from exc
    except ArticleSourceError as exc:
        raise ApiError(502, str(exc), title="Article source failed") from exc
    except QueueUnavailable as exc:
        raise queue_unavailable(exc) from exc


def article_json(article_id: str) -> dict[str, Any]:
    settings = current_settings()
    with session_scope(settings.catalog_url) as session:
        row = articles.get_article(session, article_id)
        if row is None:
            raise ApiError(404, f"no article {article_id!r}", field="id")
        latest = narrations.latest_for_article(session, article_id)
        current = narrations.current_audio(session, article_id)
        return {
            "id": row.id,
            "source": row.source,
            "title": row.title,
            "byline": row.byline,
            "section": row.section,
            "lang": row.lang,
            "published": narrations.iso_utc(row.published_at),
            "canonical_url": row.canonical_url,
            "image_url": row.image_url,
            "content_hash": row.content_hash,
            "updated_at": narrations.iso_utc(row.updated_at),
            "narration": status_json(latest) if latest else None,
            "audio_url": status_json(current)["audio_url"] if current else None,
        }


def narration_response(row: Narration, location: str) -> Response:
    """200 with the status when the audio is ready (or failed for good), else 202 + Location."""
    response = jsonify(status_json(row))
    if row.state in (NarrationState.QUEUED, NarrationState.RUNNING):
        response.status_code = 202
        response.headers["Location"] = location
    return response


def wait_until_final(narration_id: str, seconds: float) -> Narration | None:
    """Poll the catalog until the narration is ready or failed, or ``seconds`` have passed."""
    url = current_settings().catalog_url
    deadline = time.monotonic() + seconds
    while True:
        with session_scope(url) as session:
            row = narrations.get(session, narration_id)
        if row is None or row.state in narrations.FINAL_STATES:
            return row
        if time.monotonic() >= deadline:
            return row
        time.sleep(min(WAIT_POLL_S, max(0.0, deadline - time.monotonic())))


# --- articles ----------------------------------------------------------------------------------


@bp.put("/articles/<path:article_id>")
@write_access
def put_article(article_id: str) -> Response:
    """Store or update an article: CMS JSON, or a whole HTML page, as the body."""
    article_id = checked_article_id(article_id)
    settings = current_settings()
    body = checked_size(request.get_data(cache=False), "body")
    if not body.strip():
        raise ApiError(400, "the body is empty: send CMS JSON or an HTML page", field="body")
    try:
        parsed = parse_article(
            body, content_type=request.content_type, max_bytes=settings.max_article_bytes
        )
        # Scripting now refuses what could never be narrated, and names the untitled.
        script = build_script(parsed, source=f"cms:{article_id}", settings=settings)
    except NarrationError as exc:
        field = f"body.{exc.field}" if exc.field else "body"
        raise ApiError(422, str(exc), field=field) from exc
    with session_scope(settings.catalog_url) as session:
        existed = articles.get_article(session, article_id) is not None
        articles.upsert_article(
            session,
            article_id,
            parsed,
            body=body,
            content_type=request.content_type or "application/octet-stream",
            source="pushed",
            script=script,
        )
    response = jsonify(article_json(article_id))
    response.status_code = 200 if existed else 201
    response.headers["Location"] = url_for(".get_article", article_id=article_id)
    return response


@bp.get("/articles/<path:article_id>")
def get_article(article_id: str) -> Response:
    return jsonify(article_json(checked_article_id(article_id)))


@bp.post("/articles/<path:article_id>/narration")
@write_access
def post_article_narration(article_id: str) -> Response:
    """Queue the article's narration (one job however often or concurrently asked)."""
    article_id = checked_article_id(article_id)
    options = narration_options(json_object(required=False), default_priority="normal")
    requested = narrate_article(article_id, options)
    return narration_response(
        requested.narration, url_for(".get_article_narration", article_id=article_id)
    )


@bp.get("/articles/<path:article_id>/narration")
def get_article_narration(article_id: str) -> Response:
    """The latest version's state and progress; ``current_audio_url`` is what is served now."""
    article_id = checked_article_id(article_id)
    settings = current_settings()
    with session_scope(settings.catalog_url) as session:
        if articles.get_article(session, article_id) is None:
            raise ApiError(404, f"no article {article_id!r}", field="id")
        latest = narrations.latest_for_article(session, article_id)
        current = narrations.current_audio(session, article_id)
    if latest is None:
        raise ApiError(404, f"article {article_id!r} has not been narrated", field="id")
    body = status_json(latest)
    body["current_audio_url"] = status_json(current)["audio_url"] if current else None
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/articles/<path:article_id>/audio")
def get_article_audio(article_id: str) -> Response:
    """Redirect to the article's current content-addressed MP3."""
    article_id = checked_article_id(article_id)
    with session_scope(current_settings().catalog_url) as session:
        current = narrations.current_audio(session, article_id)
    if current is None or not current.audio_key:
        raise ApiError(404, f"article {article_id!r} has no audio yet", field="id")
    response = Response(status=302)
    response.headers["Location"] = f"{base_url()}/audio/{current.audio_key}.mp3"
    response.headers["Cache-Control"] = "no-cache"
    return response


# --- on-demand and batch -----------------------------------------------------------------------


def _on_demand_article(obj: dict[str, Any]) -> ParsedArticle:
    settings = current_settings()
    if request.mimetype in ("text/plain", "text/html"):
        return parse_article(
            checked_size(request.get_data(), "body"),
            content_type=request.content_type,
            max_bytes=settings.max_article_bytes,
        )
    text, html = obj.get("text"), obj.get("html")
    if (text is None) == (html is None):
        raise ApiError(400, "send exactly one of text and html", field="text")
    title = _optional_str(obj, "title", 500)
    source = text if text is not None else html
    name = "text" if text is not None else "html"
    if not isinstance(source, str) or not source.strip():
        raise ApiError(400, f"{name} must be a non-empty string", field=name)
    if len(source.encode()) > settings.max_article_bytes:
        raise ApiError(
            413, f"{name} is over the limit of {settings.max_article_bytes} bytes", field=name
        )
    if text is not None:
        article = ParsedArticle(form="text", body_text=source)
    else:
        article = parse_article(source.encode(), content_type="text/html; charset=utf-8")
    if title:
        article.title = title
    return article


@bp.post("/narrations")
@write_access
def post_narrations() -> Response:
    """Narrate posted text or HTML; with ``?wait=N`` (N ≤ 30) answer when ready or after N s."""
    raw_wait = request.args.get("wait", "0")
    try:
        wait = float(raw_wait)
    except ValueError:
        raise ApiError(400, "wait must be a number of seconds", field="wait") from None
    if not 0 <= wait <= MAX_WAIT_S:
        raise ApiError(400, f"wait must be between 0 and {MAX_WAIT_S} seconds", field="wait")
    obj = {} if request.mimetype in ("text/plain", "text/html") else json_object(required=True)
    options = narration_options(obj, default_priority="high")
    try:
        article = _on_demand_article(obj)
    except UnreadableArticle as exc:
        raise ApiError(422, str(exc), field=exc.field or "text") from exc
    requested = request_narration(
        current_settings(), audio_store(), article, source="on-demand", **options
    )
    logs.update_context(
        narration_id=requested.narration.id, narration_key=requested.narration.narration_key
    )
    start_job(requested, options["priority"])
    row = requested.narration
    if wait > 0 and row.state not in narrations.FINAL_STATES:
        row = wait_until_final(row.id, wait) or row
    return narration_response(row, url_for(".get_narration", narration_id=row.id))


@bp.get("/narrations/<narration_id>")
def get_narration(narration_id: str) -> Response:
    if not ARTICLE_ID.fullmatch(narration_id):
        raise ApiError(400, "a narration ID is 32 hexadecimal digits", field="id")
    row = None
    if NARRATION_ID.fullmatch(narration_id):
        with session_scope(current_settings().catalog_url) as session:
            row = narrations.get(session, narration_id)
    if row is None:
        raise ApiError(404, f"no narration {narration_id!r}", field="id")
    response = jsonify(status_json(row))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/narrations:batch")
@write_access
def post_narrations_batch() -> Response:
    """Queue many articles at once (an archive backfill): low priority unless told otherwise."""
    obj = json_object(required=True)
    ids = obj.get("ids")
    if not isinstance(ids, list) or not ids:
        raise ApiError(400, "ids must be a non-empty list of article IDs", field="ids")
    if len(ids) > MAX_BATCH:
        raise ApiError(400, f"at most {MAX_BATCH} ids per batch", field="ids")
    for position, article_id in enumerate(ids):
        if not isinstance(article_id, str) or not ARTICLE_ID.fullmatch(article_id):
            raise ApiError(400, "not a valid article ID", field=f"ids[{position}]")
    options = narration_options(obj, default_priority="low")
    results: list[dict[str, Any]] = []
    for article_id in dict.fromkeys(ids):
        try:
            requested = narrate_article(article_id, options)
        except ApiError as exc:
            results.append({"id": article_id, "status": exc.status, "error": exc.detail})
            continue
        except NarrationError as exc:
            results.append({"id": article_id, "status": 422, "error": str(exc)})
            continue
        row = requested.narration
        results.append(
            {
                "id": article_id,
                "status": 200 if row.state == NarrationState.READY else 202,
                "state": row.state.value,
                "narration_id": row.id,
                "status_url": url_for(".get_article_narration", article_id=article_id),
            }
        )
    return Response(
        response=current_app.json.dumps({"results": results}),
        status=202,
        mimetype="application/json",
    )

"""The publisher API: articles in, narrations queued and reported, on-demand narration.

Views are thin: they validate the request against ``narration.contract`` and call ``narration``
(script, plan, catalog, and the job through the app's :class:`~narration.queue.JobQueue`).
Every write needs an API key (``service.auth``).
"""

from __future__ import annotations

import json
import time
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, request, url_for
from pydantic import BaseModel, ValidationError

from narration import contract, jobs, languages, logs
from narration.article import Article as ParsedArticle
from narration.catalog import articles, narrations, session_scope
from narration.catalog.models import Narration, NarrationState
from narration.errors import NarrationError, UnreadableArticle
from narration.jobs import Requested, request_narration
from narration.queue import QueueUnavailable
from narration.scripting import build_script, parse_article
from narration.sources import ArticleNotFound, ArticleSourceError
from narration.vocabulary import ARTICLE_ID, NARRATION_ID, Priority
from service.auth import write_access
from service.context import answer, audio_store, current_settings, job_queue
from service.errors import ApiError, checked_article_id
from service.stream import stream_url_if_playable

bp = Blueprint("api", __name__, url_prefix="/v1")

WAIT_POLL_S = 0.25

M = TypeVar("M", bound=BaseModel)

# --- helpers ------------------------------------------------------------------------------------


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


def checked(model: type[M], data: dict[str, Any], *, whole: str = "body") -> M:
    """``data`` validated by ``model``; a 400 naming the field (``whole``: the object)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        field, message = contract.first_error(exc)
        raise ApiError(400, message, field=field or whole) from None


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


def single_arg(name: str) -> str:
    """The query parameter ``name``, refused when given more than once."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise ApiError(400, f"give {name} once", field=name)
    return values[0]


def with_query_options(obj: dict[str, Any]) -> dict[str, Any]:
    """The body's fields over the narration options of the query string (the body wins)."""
    query = {name: single_arg(name) for name in contract.OPTION_NAMES if name in request.args}
    checked(contract.NarrationOptions, query)  # a bad one is refused even when the body wins
    return {**query, **obj}


def narration_options(
    options: contract.NarrationOptions, *, default_priority: Priority
) -> dict[str, Any]:
    """What ``request_narration`` takes from validated options."""
    callback_url = options.callback_url
    if callback_url is not None:
        from narration.webhooks import validate_callback_url

        try:
            callback_url = validate_callback_url(
                callback_url, hosts=current_settings().webhook_hosts
            )
        except ValueError as exc:  # urllib's refusal of a malformed host
            raise ApiError(400, f"callback_url: {exc}", field="callback_url") from None
    lang = languages.normalize(options.lang)
    if options.lang and lang is None:
        raise ApiError(422, f"lang {options.lang!r} is not a known language", field="lang")
    return {
        "engine": options.engine,
        "voice": options.voice.strip() if options.voice else None,
        "lang": lang,
        "priority": options.priority or default_priority,
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
    unfinished = row.state in (NarrationState.QUEUED, NarrationState.RUNNING)
    response = answer(contract.NarrationStatus, status_json(row), 202 if unfinished else 200)
    if unfinished:
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


@bp.put("/articles/<article:article_id>")
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
    response = answer(contract.ArticleAnswer, article_json(article_id), 200 if existed else 201)
    response.headers["Location"] = url_for(".get_article", article_id=article_id)
    return response


@bp.get("/articles/<article:article_id>")
def get_article(article_id: str) -> Response:
    return answer(contract.ArticleAnswer, article_json(checked_article_id(article_id)))


@bp.post("/articles/<article:article_id>/narration")
@write_access
def post_article_narration(article_id: str) -> Response:
    """Queue the article's narration (one job however often or concurrently asked)."""
    article_id = checked_article_id(article_id)
    body = checked(contract.NarrationOptions, with_query_options(json_object(required=False)))
    options = narration_options(body, default_priority="normal")
    requested = narrate_article(article_id, options)
    return narration_response(
        requested.narration, url_for(".get_article_narration", article_id=article_id)
    )


@bp.get("/articles/<article:article_id>/narration")
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
    response = answer(contract.ArticleNarrationStatus, body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/articles/<article:article_id>/audio")
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


def _on_demand_article(body: contract.OnDemandRequest | None) -> ParsedArticle:
    """The article of a text or HTML body, or of a JSON request's ``text`` or ``html``."""
    settings = current_settings()
    if body is None:
        return parse_article(
            checked_size(request.get_data(), "body"),
            content_type=request.content_type,
            max_bytes=settings.max_article_bytes,
        )
    name, source = ("text", body.text) if body.text is not None else ("html", body.html)
    assert source is not None  # the model holds exactly one of them
    if len(source.encode()) > settings.max_article_bytes:
        raise ApiError(
            413, f"{name} is over the limit of {settings.max_article_bytes} bytes", field=name
        )
    if body.text is not None:
        article = ParsedArticle(form="text", body_text=source)
    else:
        article = parse_article(source.encode(), content_type="text/html; charset=utf-8")
    if body.title and body.title.strip():
        article.title = body.title.strip()
    return article


def checked_wait() -> float:
    """``?wait=``: seconds, at most ``NARRATOR_MAX_WAIT_S``, to hold the answer for the audio."""
    limit = current_settings().max_wait_s
    seconds = 0.0
    if "wait" in request.args:
        try:
            seconds = float(single_arg("wait"))
        except ValueError:
            raise ApiError(400, "wait must be a number of seconds", field="wait") from None
    if not 0 <= seconds <= limit:  # also refuses nan
        raise ApiError(400, f"wait must be between 0 and {limit:g} seconds", field="wait")
    return seconds


@bp.post("/narrations")
@write_access
def post_narrations() -> Response:
    """Narrate posted text or HTML; with ``?wait=N`` answer when ready or after N s."""
    wait = checked_wait()
    body: contract.OnDemandRequest | None = None
    if request.mimetype in ("text/plain", "text/html"):
        options = narration_options(
            checked(contract.NarrationOptions, with_query_options({})), default_priority="high"
        )
    else:
        obj = with_query_options(json_object(required=True))
        body = checked(contract.OnDemandRequest, obj, whole="text")
        options = narration_options(body, default_priority="high")
    try:
        article = _on_demand_article(body)
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
    response = answer(contract.NarrationStatus, status_json(row))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/narrations:batch")
@write_access
def post_narrations_batch() -> Response:
    """Queue many articles at once (an archive backfill): low priority unless told otherwise."""
    body = checked(contract.BatchRequest, with_query_options(json_object(required=True)))
    options = narration_options(body, default_priority="low")
    results: list[dict[str, Any]] = []
    for article_id in dict.fromkeys(body.ids):
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
    return answer(contract.BatchAnswer, {"results": results}, 202)

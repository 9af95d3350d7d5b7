"""The OpenAPI 3.1 description of the HTTP API, served at ``/openapi.json``.

The schemas are generated from the models of ``narration.contract`` that the views validate
requests and build answers with; the patterns come from ``narration.vocabulary``. Only the paths
are declared here. ``tests/unit/test_service_openapi.py`` checks that every route the app serves
is described, that nothing else is, and that real answers match the schemas.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic.json_schema import models_json_schema

from narration import contract
from narration import vocabulary as v
from narration.settings import Settings
from service.context import current_settings

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"
SECURED: list[dict[str, list[str]]] = [{"bearer": []}]
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}}
LOCATION = {"Location": {"description": "Where to poll the state.", "schema": {"type": "string"}}}


@lru_cache(maxsize=1)
def schemas() -> dict[str, Any]:
    """Components generated from the contract's models: requests as validated, answers as
    serialized."""
    _, defs = models_json_schema(
        [(m, "validation") for m in contract.REQUESTS]
        + [(m, "serialization") for m in contract.ANSWERS],
        ref_template=REF,
    )
    return dict(defs["$defs"])


def ref(model: type[Any] | str) -> dict[str, str]:
    return {"$ref": REF.format(model=model if isinstance(model, str) else model.__name__)}


def problem(description: str, **headers: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/problem+json": {"schema": ref(contract.Problem)}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def content(description: str, media: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": schema or {}}}}


def json_answer(description: str, model: type[Any], **headers: Any) -> dict[str, Any]:
    answer = content(description, "application/json", ref(model))
    if headers:
        answer["headers"] = headers
    return answer


def path_param(name: str, pattern: str, description: str = "") -> dict[str, Any]:
    schema = {"type": "string", "pattern": v.anchored(pattern)}
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


def query_options() -> list[dict[str, Any]]:
    """The narration options as query parameters (the JSON body wins), schemas without the
    body's ``null``."""
    properties = schemas()["NarrationOptions"]["properties"]
    params = []
    for name in contract.OPTION_NAMES:
        schema = dict(properties[name])
        branches = [b for b in schema.pop("anyOf", []) if b.get("type") != "null"]
        schema.pop("default", None)
        schema.update(branches[0] if branches else {})
        params.append({"name": name, "in": "query", "schema": schema})
    return params


def text_body(*, json_model: type[Any]) -> dict[str, Any]:
    # no "type": the body is text whatever it looks like (a JSON array sent as text/plain is
    # text), only a blank one is refused
    text = {"schema": {"pattern": contract.NON_BLANK}}
    return {
        "required": True,
        "content": {"application/json": {"schema": ref(json_model)}, "text/html": text,
                    "text/plain": text},
    }  # fmt: skip


OUTAGE = {"503": problem("The catalog, the job queue or the audio store cannot be used now; "
                         "retry after Retry-After seconds.", **RETRY_AFTER)}  # fmt: skip
READ_ERRORS = {"400": problem("Invalid article ID (`field` says so)."), **OUTAGE}
WRITE_ERRORS = {
    "400": problem("Invalid request; `field` names what is wrong."),
    "401": problem("Missing or invalid API key."),
    "403": problem("No API keys configured and the request is not from loopback."),
    "413": problem("The body is larger than NARRATOR_MAX_ARTICLE_BYTES allows."),
    "415": problem("The body is not sent as a JSON object."),
    "422": problem("Well formed, but it cannot be narrated (`field` says why): no text, a "
                   "language no engine speaks, a webhook host that is not allowed."),
    **OUTAGE,
}  # fmt: skip
STATUS = {
    "200": json_answer("Ready, or failed for good.", contract.NarrationStatus),
    "202": json_answer("Queued or being made.", contract.NarrationStatus, **LOCATION),
}


def op(summary: str, responses: dict[str, Any], **fields: Any) -> dict[str, Any]:
    operation_id = fields.pop("id")
    if fields.pop("secured", False):
        fields["security"] = SECURED
        responses = {**WRITE_ERRORS, **responses}
    return {"summary": summary, "operationId": operation_id, **fields, "responses": responses}


def paths(settings: Settings) -> dict[str, Any]:
    article = [path_param("article_id", v.ARTICLE_ID_PATTERN, "The publisher's article ID.")]
    key = [path_param("key", v.AUDIO_KEY_PATTERN, "The narration's audio key.")]
    stream = [path_param("narration_key", v.AUDIO_KEY_PATTERN, "The narration's key.")]
    wait = {"name": "wait", "in": "query", "description": "Seconds to wait for the audio first.",
            "schema": {"type": "number", "minimum": 0, "maximum": settings.max_wait_s}}  # fmt: skip
    options_json = {"application/json": {"schema": ref(contract.NarrationOptions)}}
    options_body = {"required": False, "content": options_json}
    return {
        "/v1/articles/{article_id}": {
            "parameters": article,
            "put": op("Store or update an article (CMS JSON or a whole HTML page).", {
                "200": json_answer("Updated.", contract.ArticleAnswer, **LOCATION),
                "201": json_answer("Created.", contract.ArticleAnswer, **LOCATION),
            }, id="putArticle", secured=True,
               requestBody=text_body(json_model=contract.CmsArticle)),
            "get": op("The stored article, its latest narration and current audio.", {
                "200": json_answer("The article.", contract.ArticleAnswer),
                "404": problem("No such article."), **READ_ERRORS,
            }, id="getArticle"),
        },
        "/v1/articles/{article_id}/narration": {
            "parameters": article,
            "post": op("Queue the article's narration: one job per content however often asked; "
                       "pulled from NARRATOR_ARTICLE_SOURCE when not pushed.", {
                **STATUS,
                "404": problem("No such article here or at the article source."),
                "502": problem("The article source failed."),
            }, id="narrateArticle", secured=True, parameters=query_options(),
               requestBody=options_body),
            "get": op("State and live progress of the latest version.", {
                "200": json_answer("The latest version.", contract.ArticleNarrationStatus),
                "404": problem("No such article, or never narrated."), **READ_ERRORS,
            }, id="getArticleNarration"),
        },
        "/v1/articles/{article_id}/audio": {
            "parameters": article,
            "get": op("Redirect to the article's current content-addressed MP3.", {
                "302": {"description": "To /audio/{key}.mp3.", "headers": LOCATION},
                "404": problem("No audio yet."), **READ_ERRORS,
            }, id="getArticleAudio"),
        },
        "/v1/narrations": {
            "post": op("Narrate posted text or HTML now.", STATUS, id="narrate", secured=True,
                       parameters=[wait, *query_options()],
                       requestBody=text_body(json_model=contract.OnDemandRequest)),
        },
        "/v1/narrations/{narration_id}": {
            "parameters": [path_param("narration_id", v.ARTICLE_ID_PATTERN,
                                      f"32 hexadecimal digits ({v.NARRATION_ID_PATTERN}).")],
            "get": op("State and progress of one narration.", {
                "200": json_answer("The narration.", contract.NarrationStatus),
                "404": problem("No such narration."), **READ_ERRORS,
            }, id="getNarration"),
        },
        "/v1/narrations:batch": {
            "post": op("Queue many articles (an archive backfill), low priority by default.", {
                "202": json_answer("One result per ID.", contract.BatchAnswer),
            }, id="narrateBatch", secured=True, parameters=query_options(),
               requestBody={"required": True, "content": {
                   "application/json": {"schema": ref(contract.BatchRequest)}}}),
        },
        "/audio/{key}.{ext}": {
            "parameters": [*key, {"name": "ext", "in": "path", "required": True,
                                  "schema": {"type": "string", "enum": list(v.AUDIO_EXTENSIONS)}}],
            "get": op("A narration's MP3, sentence manifest or WebVTT transcript (immutable; "
                      "a Range of several parts is answered whole).", {
                "200": {"description": "The whole file.", "content": {
                    "audio/mpeg": {}, "application/json": {}, "text/vtt": {}}},
                "206": {"description": "The requested byte range.", "content": {
                    "audio/mpeg": {}, "application/json": {}, "text/vtt": {}}},
                "304": {"description": "Not modified (the ETag matched)."},
                "401": problem("Key-only audio without a valid key."),
                "404": problem("No such file."),
                "416": problem("The range starts past the end of the file."),
            }, id="getAudio", parameters=[
                {"name": "Range", "in": "header", "schema": {"type": "string"}},
                {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
            ]),
        },
        "/stream/{narration_key}.m3u8": {
            "parameters": stream,
            "get": op("HLS playlist (EVENT) of a narration's chunks made so far; "
                      "#EXT-X-ENDLIST once all are there.", {
                "200": content("The playlist; not cached until complete.",
                               "application/vnd.apple.mpegurl", {"type": "string"}),
                "401": problem("Key-only audio without a valid key."),
                "404": problem("No such narration plan."),
            }, id="getStreamPlaylist"),
        },
        "/stream/{narration_key}/{segment}.ts": {
            "parameters": [*stream, path_param("segment", v.STREAM_SEGMENT_PATTERN)],
            "get": op("One segment of the stream: a chunk as AAC in MPEG-TS (immutable).", {
                "200": content("Cache-Control: public, max-age=31536000, immutable.",
                               "video/mp2t"),
                "304": {"description": "Not modified (the ETag matched)."},
                "401": problem("Key-only audio without a valid key."),
                "404": problem("No such segment, or its chunk is not synthesized yet."),
            }, id="getStreamSegment", parameters=[
                {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
            ]),
        },
        "/feeds/{feed}.xml": {
            "parameters": [path_param("feed", v.FEED_NAME_PATTERN, "`all` or a section slug.")],
            "get": op("Podcast RSS with iTunes and Podcasting 2.0 tags.", {
                "200": content("RSS 2.0.", "application/rss+xml"),
                "304": {"description": "Not modified."},
                "404": problem("No such feed."), **OUTAGE,
            }, id="getFeed"),
        },
        "/feeds/chapters/{key}.json": {
            "parameters": key,
            "get": op("Podcasting 2.0 JSON chapters of one narration.", {
                "200": content("Chapters.", "application/json+chapters", {"type": "object"}),
                "304": {"description": "Not modified."},
                "404": problem("No narration has this audio key."),
            }, id="getChapters"),
        },
        "/player/{article_id}": {
            "parameters": article,
            "get": op("The embeddable audio player page.", {
                "200": content("The player.", "text/html", {"type": "string"}),
                "400": problem("Invalid article ID."),
                "404": content("A page saying there is no such article, for the frame.",
                               "text/html", {"type": "string"}),
                **OUTAGE,
            }, id="getPlayer"),
        },
        "/player/{article_id}/status.json": {
            "parameters": article,
            "get": op("What the player polls: audio, transcript and chapters when ready.", {
                "200": json_answer("Status.", contract.PlayerStatus),
                "404": problem("No such article."), **READ_ERRORS,
            }, id="getPlayerStatus"),
        },
        "/player/read-along/{key}.json": {
            "parameters": key,
            "get": op("The timed sentences the player highlights, with paragraph breaks.", {
                "200": content("Read-along data.", "application/json", {"type": "object"}),
                "304": {"description": "Not modified."},
                "404": problem("No narration has this audio key."),
            }, id="getReadAlong"),
        },
        "/healthz": {"get": op("The process is up.", {"200": json_answer("Up.", contract.Health)},
                               id="healthz")},
        "/readyz": {"get": op("Redis, the catalog and the audio store (writable, with free "
                              "space) can be used.", {
            "200": json_answer("Ready.", contract.Health),
            "503": json_answer("Not ready; `checks` says why.", contract.Health, **RETRY_AFTER),
        }, id="readyz")},
        "/metrics": {"get": op("Prometheus metrics.", {
            "200": content("Text exposition format.", "text/plain", {"type": "string"})},
            id="metrics")},
        "/openapi.json": {"get": op("This document.", {
            "200": content("OpenAPI 3.1.", "application/json", {"type": "object"})},
            id="openapi")},
    }  # fmt: skip


def document(settings: Settings, server_url: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Narrator",
            "version": "1",
            "description": "Article narration: articles in, narrated MP3s, feeds and a player "
            "out. Errors are application/problem+json; writes need Authorization: Bearer <key>.",
        },
        "paths": paths(settings),
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


@bp.get("/openapi.json")
def openapi_json() -> Response:
    settings = current_settings()
    return jsonify(document(settings, (settings.public_url or request.host_url).rstrip("/")))

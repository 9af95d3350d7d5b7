"""The OpenAPI 3.1 description of the HTTP API, served at ``/openapi.json``.

Written by hand, next to the views; ``tests/unit/test_service_openapi.py`` checks that every
route the app serves is described here, with its methods, and that nothing else is.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from narration.failures import Category
from service.context import current_settings

bp = Blueprint("openapi", __name__)

ARTICLE_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


def _json(description: str, schema: str, **headers: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ref(schema)}},
    }
    if headers:
        answer["headers"] = headers
    return answer


ARTICLE_ID = {
    "name": "article_id",
    "in": "path",
    "required": True,
    "description": "The publisher's article ID; anything else is a 400.",
    "schema": {"type": "string", "pattern": ARTICLE_ID_PATTERN},
}
LOCATION = {"description": "Where to poll the narration's state.", "schema": {"type": "string"}}
OUTAGE = {"503": _problem("The catalog or the job queue is unreachable; retry (Retry-After).")}
WRITE_ERRORS = {
    "400": _problem("Invalid request; `field` names what is wrong."),
    "401": _problem("Missing or invalid API key."),
    "403": _problem("No API keys configured and the request is not from loopback."),
    "413": _problem("The body is larger than NARRATOR_MAX_ARTICLE_BYTES allows."),
    **OUTAGE,
}
SECURED: list[dict[str, list[str]]] = [{"bearer": []}]

NARRATION_OPTIONS = {
    "engine": {"type": "string", "enum": ["gtts", "espeak", "piper", "auto"]},
    "voice": {"type": "string", "maxLength": 64},
    "lang": {"type": "string", "description": "BCP 47 tag, e.g. en, ko, zh-TW."},
    "priority": {"type": "string", "enum": ["high", "normal", "low"]},
    "callback_url": {
        "type": "string",
        "format": "uri",
        "description": "POSTed a signed webhook when the narration is ready or failed.",
    },
}

OPTION_PARAMETERS = [
    {
        "name": name,
        "in": "query",
        "description": "Also accepted in the JSON body, which wins.",
        "schema": schema,
    }
    for name, schema in NARRATION_OPTIONS.items()
]

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details.",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "field": {"type": "string", "description": "The request field at fault."},
        },
    },
    "CmsArticle": {
        "type": "object",
        "description": "A CMS JSON article; `body_html` or `body` is required.",
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "dek": {"type": "string"},
            "byline": {
                "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
            },
            "section": {"type": "string"},
            "published": {"type": "string", "format": "date-time"},
            "lang": {"type": "string"},
            "body_html": {"type": "string"},
            "body": {"type": "string"},
            "canonical_url": {"type": "string"},
            "image_url": {"type": "string"},
        },
    },
    "Article": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "source": {"type": "string", "enum": ["pushed", "pulled"]},
            "title": {"type": ["string", "null"]},
            "byline": {"type": ["string", "null"]},
            "section": {"type": ["string", "null"]},
            "lang": {"type": ["string", "null"]},
            "published": {"type": ["string", "null"], "format": "date-time"},
            "canonical_url": {"type": ["string", "null"]},
            "image_url": {"type": ["string", "null"]},
            "content_hash": {"type": "string"},
            "updated_at": {"type": "string", "format": "date-time"},
            "narration": {"oneOf": [_ref("Narration"), {"type": "null"}]},
            "audio_url": {"type": ["string", "null"]},
        },
    },
    "Narration": {
        "type": "object",
        "required": ["id", "state", "chunks_done", "chunks_total"],
        "properties": {
            "id": {"type": "string"},
            "article_id": {"type": ["string", "null"]},
            "version": {"type": "integer"},
            "state": {"type": "string", "enum": ["queued", "running", "ready", "failed"]},
            "chunks_done": {"type": "integer"},
            "chunks_total": {"type": "integer"},
            "audio_url": {"type": ["string", "null"]},
            "transcript_url": {"type": ["string", "null"]},
            "manifest_url": {"type": ["string", "null"]},
            "stream_url": {
                "type": ["string", "null"],
                "description": "While queued or running, once the first chunk exists: an HLS "
                "playlist of the chunks made so far, growing until complete. Null otherwise; "
                "play audio_url once ready.",
            },
            "current_audio_url": {
                "type": ["string", "null"],
                "description": "The audio served now (the previous version while this one is "
                "made); only on the article narration resource.",
            },
            "duration_ms": {"type": ["integer", "null"]},
            "bytes": {"type": ["integer", "null"]},
            "engine": {"type": "string"},
            "voice": {"type": ["string", "null"]},
            "lang": {"type": "string"},
            "error": {
                "type": ["string", "null"],
                "description": "Why it failed, in plain words a newsroom can act on.",
            },
            "error_category": {
                "type": ["string", "null"],
                "enum": [*(category.value for category in Category), None],
                "description": "The kind of failure, for programs.",
            },
            "narration_key": {"type": "string"},
            "priority": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "ready_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "NarrationOptions": {"type": "object", "properties": NARRATION_OPTIONS},
    "OnDemandRequest": {
        "type": "object",
        "description": "Exactly one of `text` and `html`.",
        "properties": {
            "text": {"type": "string"},
            "html": {"type": "string"},
            "title": {"type": "string"},
            **NARRATION_OPTIONS,
        },
    },
    "BatchRequest": {
        "type": "object",
        "required": ["ids"],
        "properties": {
            "ids": {
                "type": "array",
                "minItems": 1,
                "maxItems": 1000,
                "items": {"type": "string", "pattern": ARTICLE_ID_PATTERN},
            },
            **NARRATION_OPTIONS,
        },
    },
    "BatchResult": {
        "type": "object",
        "properties": {
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "status": {"type": "integer"},
                        "state": {"type": "string"},
                        "narration_id": {"type": "string"},
                        "status_url": {"type": "string"},
                        "error": {"type": "string"},
                    },
                },
            }
        },
    },
    "Health": {
        "type": "object",
        "properties": {
            "status": {"type": "string"},
            "checks": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
}

PATHS: dict[str, Any] = {
    "/v1/articles/{article_id}": {
        "parameters": [ARTICLE_ID],
        "put": {
            "summary": "Store or update an article (CMS JSON or a whole HTML page).",
            "operationId": "putArticle",
            "security": SECURED,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": _ref("CmsArticle")},
                    "text/html": {"schema": {"type": "string"}},
                    "text/plain": {"schema": {"type": "string"}},
                },
            },
            "responses": {
                "200": _json("Updated.", "Article"),
                "201": _json("Created.", "Article", Location=LOCATION),
                "413": _problem("Larger than NARRATOR_MAX_ARTICLE_BYTES."),
                "422": _problem("Not an article that can be narrated."),
                **WRITE_ERRORS,
            },
        },
        "get": {
            "summary": "The stored article, its latest narration and current audio.",
            "operationId": "getArticle",
            "responses": {
                "200": _json("The article.", "Article"),
                "400": _problem("Invalid article ID."),
                "404": _problem("No such article."),
                **OUTAGE,
            },
        },
    },
    "/v1/articles/{article_id}/narration": {
        "parameters": [ARTICLE_ID],
        "post": {
            "summary": "Queue the article's narration; one job per content however often "
            "asked. Pulls the article from NARRATOR_ARTICLE_SOURCE when it is not pushed.",
            "operationId": "narrateArticle",
            "security": SECURED,
            "parameters": OPTION_PARAMETERS,
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": _ref("NarrationOptions")}},
            },
            "responses": {
                "200": _json("This content's audio exists (or failed for good).", "Narration"),
                "202": _json("Queued or in progress.", "Narration", Location=LOCATION),
                "404": _problem("No such article here or at the article source."),
                "415": _problem("Options not sent as JSON."),
                "422": _problem("The article cannot be narrated."),
                "502": _problem("The article source failed."),
                **WRITE_ERRORS,
            },
        },
        "get": {
            "summary": "State and live progress of the latest version.",
            "operationId": "getArticleNarration",
            "responses": {
                "200": _json("The latest version.", "Narration"),
                "400": _problem("Invalid article ID."),
                "404": _problem("No such article, or never narrated."),
                **OUTAGE,
            },
        },
    },
    "/v1/articles/{article_id}/audio": {
        "parameters": [ARTICLE_ID],
        "get": {
            "summary": "Redirect to the article's current content-addressed MP3.",
            "operationId": "getArticleAudio",
            "responses": {
                "302": {"description": "To /audio/{key}.mp3."},
                "400": _problem("Invalid article ID."),
                "404": _problem("No audio yet."),
                **OUTAGE,
            },
        },
    },
    "/v1/narrations": {
        "post": {
            "summary": "Narrate posted text or HTML on demand.",
            "operationId": "narrate",
            "security": SECURED,
            "parameters": [
                {
                    "name": "wait",
                    "in": "query",
                    "description": "Seconds (at most 30) to wait for the audio before a 202.",
                    "schema": {"type": "number", "minimum": 0, "maximum": 30},
                },
                *OPTION_PARAMETERS,
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": _ref("OnDemandRequest")},
                    "text/plain": {"schema": {"type": "string"}},
                    "text/html": {"schema": {"type": "string"}},
                },
            },
            "responses": {
                "200": _json("Ready (or failed).", "Narration"),
                "202": _json("Still being made.", "Narration", Location=LOCATION),
                "415": _problem("Unsupported body type."),
                "422": _problem("Nothing to narrate."),
                **WRITE_ERRORS,
            },
        }
    },
    "/v1/narrations/{narration_id}": {
        "parameters": [
            {"name": "narration_id", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "get": {
            "summary": "State and progress of one narration.",
            "operationId": "getNarration",
            "responses": {
                "200": _json("The narration.", "Narration"),
                "400": _problem("Not a valid ID."),
                "404": _problem("No such narration."),
                **OUTAGE,
            },
        },
    },
    "/v1/narrations:batch": {
        "post": {
            "summary": "Queue many articles (e.g. an archive backfill), low priority by default.",
            "operationId": "narrateBatch",
            "security": SECURED,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("BatchRequest")}},
            },
            "parameters": OPTION_PARAMETERS,
            "responses": {
                "202": _json("One result per ID.", "BatchResult"),
                "415": _problem("Not sent as JSON."),
                **WRITE_ERRORS,
            },
        }
    },
    "/audio/{key}.{ext}": {
        "parameters": [
            {
                "name": "key",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": "^[0-9a-f]{16,64}$"},
            },
            {
                "name": "ext",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "enum": ["mp3", "json", "vtt"]},
            },
        ],
        "get": {
            "summary": "A narration's MP3, sentence manifest or WebVTT transcript (immutable).",
            "operationId": "getAudio",
            "parameters": [
                {"name": "Range", "in": "header", "schema": {"type": "string"}},
                {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {
                    "description": "The whole file; Cache-Control: public, max-age=31536000, "
                    "immutable.",
                    "content": {
                        "audio/mpeg": {},
                        "application/json": {},
                        "text/vtt": {},
                    },
                },
                "206": {"description": "The requested byte range."},
                "304": {"description": "Not modified (ETag matched)."},
                "401": _problem("Key-only audio without a valid key."),
                "404": _problem("No such file."),
                "416": _problem("Range not satisfiable."),
            },
        },
    },
    "/stream/{narration_key}.m3u8": {
        "parameters": [
            {
                "name": "narration_key",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": "^[0-9a-f]{16,64}$"},
            }
        ],
        "get": {
            "summary": "HLS playlist (EVENT) of a narration's chunks made so far; "
            "#EXT-X-ENDLIST once all are there.",
            "operationId": "getStreamPlaylist",
            "responses": {
                "200": {
                    "description": "The playlist; not cached until complete.",
                    "content": {"application/vnd.apple.mpegurl": {}},
                },
                "401": _problem("Key-only audio without a valid key."),
                "404": _problem("No such narration plan."),
            },
        },
    },
    "/stream/{narration_key}/{segment}.ts": {
        "parameters": [
            {
                "name": "narration_key",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": "^[0-9a-f]{16,64}$"},
            },
            {
                "name": "segment",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": "^[0-9]{1,6}-[0-9a-f]{32}$"},
            },
        ],
        "get": {
            "summary": "One segment of the stream: a chunk as AAC in MPEG-TS (immutable).",
            "operationId": "getStreamSegment",
            "parameters": [
                {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {
                    "description": "Cache-Control: public, max-age=31536000, immutable.",
                    "content": {"video/mp2t": {}},
                },
                "304": {"description": "Not modified (ETag matched)."},
                "401": _problem("Key-only audio without a valid key."),
                "404": _problem("No such segment, or its chunk is not synthesized yet."),
            },
        },
    },
    "/feeds/{feed}.xml": {
        "parameters": [
            {"name": "feed", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "get": {
            "summary": "Podcast RSS: `all` articles or one section's slug.",
            "operationId": "getFeed",
            "responses": {
                "200": {
                    "description": "RSS 2.0 with iTunes and Podcasting 2.0 tags.",
                    "content": {"application/rss+xml": {}},
                },
                "304": {"description": "Not modified."},
                "404": _problem("No such feed."),
                **OUTAGE,
            },
        },
    },
    "/feeds/chapters/{key}.json": {
        "parameters": [
            {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "get": {
            "summary": "Podcasting 2.0 JSON chapters of one narration.",
            "operationId": "getChapters",
            "responses": {
                "200": {"description": "Chapters.", "content": {"application/json+chapters": {}}},
                "404": _problem("No such narration."),
            },
        },
    },
    "/player/{article_id}": {
        "parameters": [ARTICLE_ID],
        "get": {
            "summary": "The embeddable audio player page.",
            "operationId": "getPlayer",
            "responses": {
                "200": {"description": "HTML.", "content": {"text/html": {}}},
                "400": _problem("Invalid article ID."),
                "404": _problem("No such article."),
            },
        },
    },
    "/player/{article_id}/status.json": {
        "parameters": [ARTICLE_ID],
        "get": {
            "summary": "What the player polls: audio, transcript and chapters when ready.",
            "operationId": "getPlayerStatus",
            "responses": {
                "200": {"description": "Status.", "content": {"application/json": {}}},
                "404": _problem("No such article."),
            },
        },
    },
    "/player/read-along/{key}.json": {
        "parameters": [
            {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "get": {
            "summary": "The timed sentences the player highlights, with paragraph breaks.",
            "operationId": "getReadAlong",
            "responses": {
                "200": {"description": "Read-along data.", "content": {"application/json": {}}},
                "304": {"description": "Not modified."},
                "404": _problem("No narration has this audio key."),
            },
        },
    },
    "/healthz": {
        "get": {
            "summary": "The process is up.",
            "operationId": "healthz",
            "responses": {"200": _json("Up.", "Health")},
        }
    },
    "/readyz": {
        "get": {
            "summary": "Redis, the catalog and the audio store are reachable.",
            "operationId": "readyz",
            "responses": {
                "200": _json("Ready.", "Health"),
                "503": _json("A dependency is down; `checks` says which.", "Health"),
            },
        }
    },
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics: queue depth, narrations by state, synthesis "
            "latency, cache hit ratio.",
            "operationId": "metrics",
            "responses": {
                "200": {"description": "Text exposition format.", "content": {"text/plain": {}}}
            },
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This document.",
            "operationId": "openapi",
            "responses": {
                "200": {"description": "OpenAPI 3.1.", "content": {"application/json": {}}}
            },
        }
    },
}


def document(server_url: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Narrator",
            "version": "1",
            "description": "Article narration: articles in, narrated MP3s, feeds and a player "
            "out. Errors are application/problem+json; writes need Authorization: Bearer <key>.",
        },
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


@bp.get("/openapi.json")
def openapi_json() -> Response:
    base = (current_settings().public_url or request.host_url).rstrip("/")
    return jsonify(document(base))

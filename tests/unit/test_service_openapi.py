"""``/openapi.json`` is valid OpenAPI 3.1, describes exactly the routes the app serves, and
the app's real answers match the schemas it generates."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from narration.settings import Settings
from service.app import create_app

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def served(app: Flask) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every route, files under static folders aside."""
    pairs = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - IGNORED_METHODS:
            pairs.add((path, method.lower()))
    return pairs


def documented(doc: dict) -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "patch"}
    return {(path, m) for path, item in doc["paths"].items() for m in item if m in methods}


def test_document_is_valid_openapi_3_1(settings: Settings) -> None:
    app = create_app(settings, migrate=False)
    doc = app.test_client().get("/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_every_route_is_documented_and_nothing_else(settings: Settings) -> None:
    app = create_app(settings, migrate=False)
    doc = app.test_client().get("/openapi.json").json
    assert served(app) == documented(doc)


def test_writes_are_marked_as_needing_a_key(settings: Settings) -> None:
    app = create_app(settings, migrate=False)
    doc = app.test_client().get("/openapi.json").json
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "requires_key", False):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in (rule.methods or set()) - IGNORED_METHODS:
                assert doc["paths"][path][method.lower()]["security"] == [{"bearer": []}], path


def test_write_and_catalog_operations_document_every_answer_they_can_give(
    settings: Settings,
) -> None:
    doc = create_app(settings, migrate=False).test_client().get("/openapi.json").json
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            if "security" in operation:  # a body past MAX_CONTENT_LENGTH, a database outage
                assert {"400", "401", "403", "413", "503"} <= codes, (method, path)
            if path.startswith(("/v1/", "/feeds/{feed}")):
                assert "503" in codes, (method, path)


def test_narration_options_are_documented_where_the_query_string_is_read(
    settings: Settings,
) -> None:
    doc = create_app(settings, migrate=False).test_client().get("/openapi.json").json
    options = {"engine", "voice", "lang", "priority", "callback_url"}
    for path in ("/v1/articles/{article_id}/narration", "/v1/narrations", "/v1/narrations:batch"):
        query = {p["name"] for p in doc["paths"][path]["post"]["parameters"] if p["in"] == "query"}
        assert options <= query, path


def test_every_write_method_needs_a_key(settings: Settings) -> None:
    app = create_app(settings, migrate=False)
    for rule in app.url_map.iter_rules():
        if (rule.methods or set()) & {"PUT", "POST", "PATCH", "DELETE"}:
            assert getattr(app.view_functions[rule.endpoint], "requires_key", False), rule.rule


def answer_schema(doc: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    """The documented schema of one answer, with the components its references point into."""
    media = doc["paths"][path][method]["responses"][str(status)]["content"]
    schema = next(iter(media.values()))["schema"]
    return {**schema, "components": doc["components"]}


def conforms(doc: dict[str, Any], path: str, method: str, response: Any) -> None:
    schema = answer_schema(doc, path, method, response.status_code)
    Draft202012Validator(schema).validate(json.loads(response.data))


CMS = {"title": "Harbour bridge reopens", "lang": "en", "published": "2025-06-17T09:30:00Z",
       "body_html": "<p>The bridge reopened on Monday.</p><p>Commuters cheered.</p>"}  # fmt: skip
AUTH = {"Authorization": "Bearer test-key"}


def test_real_answers_match_the_generated_schemas(settings: Settings) -> None:
    client = create_app(settings).test_client()
    doc = client.get("/openapi.json").json
    article, narration = "/v1/articles/{article_id}", "/v1/articles/{article_id}/narration"
    checks = [
        (article, "put", client.put("/v1/articles/a", json=CMS, headers=AUTH)),
        (article, "put", client.put("/v1/articles/a", json=CMS, headers=AUTH)),
        (article, "get", client.get("/v1/articles/a")),
        (article, "get", client.get("/v1/articles/nowhere")),
        (article, "get", client.get("/v1/articles/-bad")),
        (narration, "get", client.get("/v1/articles/a/narration")),
        (narration, "post", client.post("/v1/articles/a/narration?priority=urgent", headers=AUTH)),
        ("/v1/narrations", "post", client.post("/v1/narrations", json={}, headers=AUTH)),
        ("/v1/narrations:batch", "post",
         client.post("/v1/narrations:batch", json={"ids": ["nowhere"]}, headers=AUTH)),
        ("/v1/narrations/{narration_id}", "get", client.get("/v1/narrations/" + "0" * 32)),
        ("/player/{article_id}/status.json", "get", client.get("/player/a/status.json")),
        ("/healthz", "get", client.get("/healthz")),
        ("/readyz", "get", client.get("/readyz")),
    ]  # fmt: skip
    statuses = []
    for path, method, response in checks:
        conforms(doc, path, method, response)
        statuses.append(response.status_code)
    assert statuses[:8] == [201, 200, 200, 404, 400, 404, 400, 400]
    assert statuses[8] == 202


@pytest.mark.parametrize("tag", ["iw", "jw", "en-US", "zh_Hant"])
def test_the_documented_language_pattern_is_what_the_api_accepts(
    settings: Settings, tag: str
) -> None:
    doc = create_app(settings, migrate=False).test_client().get("/openapi.json").json
    pattern = doc["components"]["schemas"]["NarrationOptions"]["properties"]["lang"]["anyOf"][0]
    assert re.search(pattern["pattern"], tag)

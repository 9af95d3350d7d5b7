"""``/openapi.json`` is valid OpenAPI 3.1 and describes exactly the routes the app serves."""

from __future__ import annotations

import re

from flask import Flask
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

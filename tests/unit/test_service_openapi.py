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

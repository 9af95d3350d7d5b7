"""Every error is application/problem+json; unexpected ones never leak a stack trace."""

from __future__ import annotations

from flask import Flask

from narration.errors import NarrationError
from narration.settings import Settings
from service.app import create_app
from service.errors import ApiError


def app_with_failing_views(settings: Settings) -> Flask:
    app = create_app(settings, migrate=False)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals at /srv/app.py line 12")

    @app.get("/domain")
    def domain() -> str:
        raise NarrationError("the voice 'xx' does not exist", field="voice")

    @app.get("/teapot")
    def teapot() -> str:
        raise ApiError(418, "short and stout", field="spout", headers={"Retry-After": "5"})

    return app


def test_unexpected_errors_are_500_problems_without_internals(settings: Settings) -> None:
    response = app_with_failing_views(settings).test_client().get("/boom")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert b"secret" not in response.data and b"Traceback" not in response.data
    assert response.json["status"] == 500


def test_domain_errors_are_422_naming_the_field(settings: Settings) -> None:
    response = app_with_failing_views(settings).test_client().get("/domain")
    assert response.status_code == 422
    assert response.json["field"] == "voice"
    assert response.json["detail"] == "the voice 'xx' does not exist"


def test_api_errors_keep_status_field_and_headers(settings: Settings) -> None:
    response = app_with_failing_views(settings).test_client().get("/teapot")
    assert response.status_code == 418
    assert response.headers["Retry-After"] == "5"
    assert response.json == {
        "type": "about:blank",
        "title": "I'm a Teapot",
        "status": 418,
        "detail": "short and stout",
        "field": "spout",
    }


def test_an_unreachable_database_is_a_503_problem(settings: Settings) -> None:
    # Port 1 refuses at once: the catalog is down, which the client may retry, unlike a bug.
    down = settings.model_copy(
        update={"database_url": "postgresql+psycopg://postgres@127.0.0.1:1/test"}
    )
    client = create_app(down, migrate=False).test_client()
    for response in (
        client.get("/v1/articles/a"),
        client.put(
            "/v1/articles/a",
            json={"title": "T", "body_html": "<p>Hello there, my friend.</p>"},
            headers={"Authorization": "Bearer test-key"},
        ),
        client.get("/feeds/all.xml"),
    ):
        assert response.status_code == 503, response.data
        assert response.mimetype == "application/problem+json"
        assert response.headers["Retry-After"] == "5"
        assert b"psycopg" not in response.data and b"Traceback" not in response.data

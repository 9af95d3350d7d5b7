"""The Flask app factory: settings, blueprints, error handlers, catalog migration."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import PathConverter

from narration.logs import configure_logging
from narration.settings import Settings, get_settings
from service.auth import log_auth_mode
from service.context import SETTINGS_KEY
from service.errors import register_error_handlers
from service.logging import init_request_logging


class ArticlePath(PathConverter):
    """An article ID as routed: any path, so that a malformed ID (``a/b``) reaches the view
    and is a 400 naming it; but never one ending in a sub-resource of the article, so that
    ``PUT …/{id}/audio`` is that resource's 405, not the article's 400."""

    regex = r"[^/][\s\S]*?(?<!/narration)(?<!/audio)"  # [\s\S]: newlines too


def blueprints() -> list[Blueprint]:
    """Every surface of the service; add a blueprint here to serve it."""
    from service.api import bp as api
    from service.audio import bp as audio
    from service.feeds import bp as feeds
    from service.health import bp as health
    from service.openapi import bp as openapi
    from service.player import bp as player
    from service.stream import bp as stream

    return [health, openapi, api, audio, feeds, player, stream]


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the app from ``settings`` (default: the environment), with field ``overrides``.

    ``migrate=False`` skips bringing the catalog to the latest schema (it is otherwise done here,
    so a fresh machine needs no separate step).
    """
    migrate = overrides.pop("migrate", True)
    settings = settings or get_settings()
    if overrides:
        settings = settings.model_copy(update=overrides)

    configure_logging(settings.log_level)
    app = Flask(__name__)
    app.url_map.converters["article"] = ArticlePath
    app.extensions[SETTINGS_KEY] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_article_bytes + 64_000
    app.json.sort_keys = False  # type: ignore[attr-defined]
    register_error_handlers(app)
    init_request_logging(app)
    log_auth_mode(settings)

    if migrate:
        from narration.catalog import upgrade_to_head

        upgrade_to_head(settings.catalog_url)

    for blueprint in blueprints():
        app.register_blueprint(blueprint)
    if settings.proxy_hops:
        behind_proxy(app, settings.proxy_hops)
    return app


def behind_proxy(app: Flask, hops: int = 1) -> Flask:
    """Trust ``hops`` proxies' ``X-Forwarded-*`` (nginx in front of gunicorn), so links and
    redirects use the host and scheme the client used. Only when the deployment says so
    (``NARRATOR_PROXY_HOPS``): without a proxy those headers come from the client itself."""
    app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
        app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
    )
    return app

"""The WSGI entry point for gunicorn: ``gunicorn service.wsgi:app``.

In production gunicorn sits behind nginx (deploy/nginx.conf), which sets ``X-Forwarded-*``;
``NARRATOR_PROXY_HOPS=1`` (docker-compose sets it) makes the app trust exactly that one hop, so
feed links and redirects use the host and scheme the client used.
"""

from __future__ import annotations

from service.app import create_app

app = create_app()

"""The WSGI entry point for gunicorn: ``gunicorn service.wsgi:app``.

In production gunicorn sits behind nginx (deploy/nginx.conf), which sets ``X-Forwarded-*``; the
app trusts exactly that one hop, so feed links and redirects use the host and scheme the client
used.
"""

from __future__ import annotations

from service.app import behind_proxy, create_app

app = behind_proxy(create_app())

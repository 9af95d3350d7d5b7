"""The WSGI entry point for gunicorn: ``gunicorn service.wsgi:app``.

In production gunicorn sits behind nginx (deploy/nginx.conf), which sets ``X-Forwarded-*``; the
app trusts exactly that one hop, so feed links and redirects use the host and scheme the client
used.
"""

from __future__ import annotations

from werkzeug.middleware.proxy_fix import ProxyFix

from service.app import create_app

app = create_app()
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

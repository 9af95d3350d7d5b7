"""Redis clients from the one ``redis_url`` setting, whatever form it takes.

Celery spells a unix socket ``redis+socket:///path`` (the embedded redis-server listens on one);
redis-py wants ``unix:///path``. Both are accepted here.
"""

from __future__ import annotations

import redis

from narration.settings import Settings

LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_url(settings: Settings) -> str:
    """The configured Redis, else one on the standard local port.

    ``narrator serve`` sets ``NARRATOR_REDIS_URL`` to its embedded server before anything reads
    it, so this fallback only applies to a bare ``flask``/``gunicorn``/``celery`` start.
    """
    return settings.redis_url or LOCAL_REDIS_URL


def client_for(url: str, *, timeout: float = 5.0) -> redis.Redis:
    if url.startswith("redis+socket://"):
        path, _, query = url.removeprefix("redis+socket://").partition("?")
        db = 0
        for part in query.split("&"):
            name, _, value = part.partition("=")
            if name in {"db", "virtual_host"} and value.isdigit():
                db = int(value)
        return redis.Redis(
            unix_socket_path=path, db=db, socket_timeout=timeout, socket_connect_timeout=timeout
        )
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def client(settings: Settings, *, timeout: float = 5.0) -> redis.Redis:
    return client_for(redis_url(settings), timeout=timeout)

"""One Redis URL setting, in Celery's spelling or redis-py's, gives a working client."""

from __future__ import annotations

from redis.connection import UnixDomainSocketConnection

from narration.redisconn import LOCAL_REDIS_URL, client_for, redis_url
from narration.settings import Settings


def test_celery_socket_url_becomes_a_unix_socket_client() -> None:
    client = client_for("redis+socket:///tmp/narrator/redis.sock?virtual_host=2")
    pool = client.connection_pool
    assert pool.connection_class is UnixDomainSocketConnection
    assert pool.connection_kwargs["path"] == "/tmp/narrator/redis.sock"
    assert pool.connection_kwargs["db"] == 2


def test_tcp_url_keeps_host_port_and_db() -> None:
    kwargs = client_for("redis://10.0.0.5:6380/4").connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("10.0.0.5", 6380, 4)


def test_unset_url_means_the_local_standard_port(settings: Settings) -> None:
    assert redis_url(settings.model_copy(update={"redis_url": None})) == LOCAL_REDIS_URL
    assert redis_url(settings.model_copy(update={"redis_url": "redis://r:1/0"})) == "redis://r:1/0"

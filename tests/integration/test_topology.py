"""The production topology as plain processes on loopback, and an article narrated through it.

The same pieces as docker-compose.yml: nginx (deploy/nginx.conf, rendered as the nginx image
would) in front, gunicorn with two workers running ``service.wsgi:app``, two Celery worker
processes, Redis and PostgreSQL. Speech comes from the local stand-in of Google's endpoint.
Every process is stopped by its fixture, and its log's tail is printed when a test fails.
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from narration import webhooks
from narration.settings import Settings
from tests.conftest import unavailable
from tests.fakes.gtts_server import GttsStandIn
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.nginx_conf import write_nginx_conf
from tests.integration.worker_process import (
    await_condition,
    celery_worker,
    free_port,
    last_lines,
    running,
    settings_env,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

KEY = "topology-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
SECRET = "webhook-secret"
READY_TIMEOUT_S = 240


@dataclass
class Topology:
    base: str
    """nginx: the only address a client uses."""
    gunicorn: str
    settings: Settings
    hooks: queue.Queue[tuple[dict[str, str], bytes]]
    hook_url: str


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if found is None:
        unavailable("nginx is not installed")
    assert found is not None
    return found


def wait_http(url: str, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}:\n{last_lines(log)}")
        try:
            requests.get(url, timeout=2)
            return True
        except requests.ConnectionError:
            return False

    await_condition(answers, timeout=60, what=what)


@pytest.fixture
def topology(
    tmp_path: Path,
    leased_redis_db: str,
    postgres_url: str,
    gtts_server: GttsStandIn,
    webhook_receiver: WebhookReceiver,
) -> Iterator[Topology]:
    nginx = nginx_binary()
    audio = tmp_path / "audio_cache"
    audio.mkdir()
    settings = Settings(
        redis_url=leased_redis_db,
        database_url=postgres_url,
        audio_cache_dir=audio,
        engine="gtts",
        gtts_endpoint=gtts_server.url,
        tts_concurrency_max=1000,
        outro_text=None,
        api_keys=[KEY],
        webhook_secret=SECRET,
    )
    env = settings_env(settings)
    env["NARRATOR_API_KEYS"] = KEY
    env["NARRATOR_AUDIO_ACCEL_PREFIX"] = "/_audio_store/"
    # as docker-compose.yml sets them: nginx is the one trusted proxy, and gunicorn's
    # processes count metrics into one folder
    env["NARRATOR_PROXY_HOPS"] = "1"
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    api_port, nginx_port = free_port(), free_port()
    logs = tmp_path / "logs"
    logs.mkdir()

    with ExitStack() as stack:
        gunicorn = stack.enter_context(
            running(
                [
                    sys.executable, "-m", "gunicorn",
                    "--bind", f"127.0.0.1:{api_port}",
                    "--workers", "2", "--threads", "4",
                    "--access-logfile", "-",
                    "service.wsgi:app",
                ],
                env,
                logs / "gunicorn.log",
                "gunicorn",
            )
        )  # fmt: skip
        for _ in range(2):
            stack.enter_context(celery_worker(settings, logs, concurrency=4))
        conf = write_nginx_conf(
            tmp_path / "nginx", port=nginx_port, upstream=f"127.0.0.1:{api_port}", audio_dir=audio
        )
        nginx_process = stack.enter_context(
            running(
                [
                    nginx,
                    "-e",
                    "stderr",
                    "-p",
                    str(conf.parent),
                    "-c",
                    str(conf),
                    "-g",
                    "daemon off;",
                ],
                env,
                logs / "nginx.log",
                "nginx",
            )
        )
        wait_http(
            f"http://127.0.0.1:{api_port}/healthz", gunicorn, logs / "gunicorn.log", "gunicorn"
        )
        base = f"http://127.0.0.1:{nginx_port}"
        wait_http(f"{base}/healthz", nginx_process, logs / "nginx.log", "nginx")
        yield Topology(
            base,
            f"http://127.0.0.1:{api_port}",
            settings,
            webhook_receiver.received,
            webhook_receiver.url,
        )
        print(f"--- nginx error log ---\n{last_lines(conf.parent / 'error.log', 30)}")


def test_an_article_narrated_through_nginx(topology: Topology, seed_article: Path) -> None:
    base = topology.base
    put = requests.put(
        f"{base}/v1/articles/lee-ishiba",
        data=seed_article.read_bytes(),
        headers={**AUTH, "Content-Type": "text/plain; charset=utf-8"},
        timeout=30,
    )
    assert put.status_code == 201, put.text
    posted = requests.post(
        f"{base}/v1/articles/lee-ishiba/narration",
        json={"callback_url": topology.hook_url},
        headers=AUTH,
        timeout=60,
    )
    assert posted.status_code == 202, posted.text

    def ready() -> dict[str, Any] | None:
        body: dict[str, Any] = requests.get(
            f"{base}/v1/articles/lee-ishiba/narration", timeout=10
        ).json()
        assert body["state"] != "failed", body["error"]
        return body if body["state"] == "ready" else None

    status = await_condition(ready, timeout=READY_TIMEOUT_S, what="the narration", interval=0.5)
    # links name the host the client used (nginx), not gunicorn's
    assert status["audio_url"].startswith(f"{base}/audio/")

    # nginx sends the file itself: the API would have added X-Request-ID
    first_two = requests.get(status["audio_url"], headers={"Range": "bytes=0-1"}, timeout=30)
    assert first_two.status_code == 206
    assert first_two.headers["Content-Range"] == f"bytes 0-1/{status['bytes']}"
    assert len(first_two.content) == 2
    assert "X-Request-ID" not in first_two.headers
    whole = requests.get(status["audio_url"], timeout=60)
    assert whole.status_code == 200
    assert whole.headers["Content-Type"] == "audio/mpeg"
    assert whole.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert len(whole.content) == status["bytes"]
    assert whole.content[:2] == first_two.content
    etag = {"If-None-Match": whole.headers["ETag"]}
    again = requests.get(status["audio_url"], headers=etag, timeout=30)
    assert again.status_code == 304
    manifest = requests.get(status["manifest_url"], timeout=30)
    assert manifest.headers["Content-Type"].startswith("application/json")
    assert manifest.json()["duration_ms"] == status["duration_ms"]

    # the feed, the player and the API all come through nginx from gunicorn
    feed = requests.get(f"{base}/feeds/all.xml", timeout=30)
    assert feed.status_code == 200 and "X-Request-ID" in feed.headers
    enclosure = etree.fromstring(feed.content).find("channel/item/enclosure")
    assert enclosure is not None
    assert enclosure.get("url") == status["audio_url"]
    assert enclosure.get("length") == str(status["bytes"])
    assert requests.get(f"{base}/player/lee-ishiba", timeout=30).status_code == 200

    # the webhook arrived, signed
    headers, body = topology.hooks.get(timeout=60)
    assert headers[webhooks.EVENT_HEADER] == "narration.ready"
    assert webhooks.verify(
        SECRET, headers[webhooks.TIMESTAMP_HEADER], body, headers[webhooks.SIGNATURE_HEADER]
    )


def test_nginx_keeps_the_store_private(topology: Topology) -> None:
    store = topology.settings.audio_cache_dir
    (store / "chunks").mkdir(exist_ok=True)
    (store / "chunks" / ("a" * 32 + ".mp3")).write_bytes(b"chunk")
    (store / ("." + "b" * 32 + ".mp3.tmp")).write_bytes(b"half")
    for path in [f"/audio/chunks/{'a' * 32}.mp3", f"/audio/.{'b' * 32}.mp3.tmp", "/_audio_store/x"]:
        response = requests.get(f"{topology.base}{path}", timeout=10)
        assert response.status_code == 404, path
        assert response.content not in (b"chunk", b"half")

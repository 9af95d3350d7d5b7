"""The API end to end with a real worker process: on-demand narration with ``?wait``, pulling
articles from the CMS, webhooks, failures and a broker outage."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from narration import webhooks
from narration.catalog import narrations, session_scope
from narration.catalog.db import dispose_all
from narration.redisconn import client_for
from narration.settings import Settings
from service.app import create_app
from tests.fakes.cms_server import CmsStandIn
from tests.fakes.gtts_server import GttsStandIn
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.worker_process import await_condition, celery_worker, http_server

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

AUTH = {"Authorization": "Bearer test-key"}
TEXT = (
    "The library on Elm Street will open on Sundays from next month. "
    "Volunteers will run a reading hour for children every week."
)


def wait_state(url: str, *states: str, timeout: float = 120) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        body: dict[str, Any] = requests.get(url, timeout=10).json()
        return body if body["state"] in states else None

    return await_condition(probe, timeout=timeout, what=f"{url} to be {'/'.join(states)}")


def test_on_demand_with_wait_answers_when_ready(service: str) -> None:
    response = requests.post(
        f"{service}/v1/narrations?wait=30",
        json={"text": TEXT, "title": "Library hours"},
        headers=AUTH,
        timeout=60,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "ready" and body["article_id"] is None
    assert body["chunks_done"] == body["chunks_total"]
    again = requests.get(f"{service}/v1/narrations/{body['id']}", timeout=10).json()
    assert again["audio_url"] == body["audio_url"]
    audio = requests.get(body["audio_url"], timeout=10)
    assert audio.status_code == 200 and audio.headers["Content-Type"] == "audio/mpeg"


def test_on_demand_without_wait_is_202_with_a_status_url(service: str) -> None:
    response = requests.post(
        f"{service}/v1/narrations",
        data=TEXT.replace("Sundays", "Saturdays").encode(),
        headers={**AUTH, "Content-Type": "text/plain"},
        timeout=60,
    )
    assert response.status_code == 202
    location = response.headers["Location"]
    assert location == f"/v1/narrations/{response.json()['id']}"
    assert wait_state(f"{service}{location}", "ready")["audio_url"]


def test_webhook_is_signed_and_sent_when_ready(
    service: str, webhook_receiver: WebhookReceiver
) -> None:
    requests.put(
        f"{service}/v1/articles/library",
        data=TEXT.encode(),
        headers={**AUTH, "Content-Type": "text/plain"},
        timeout=30,
    )
    posted = requests.post(
        f"{service}/v1/articles/library/narration",
        json={"callback_url": webhook_receiver.url},
        headers=AUTH,
        timeout=60,
    )
    assert posted.status_code == 202
    wait_state(f"{service}/v1/articles/library/narration", "ready")
    await_condition(lambda: webhook_receiver.deliveries, timeout=30, what="the webhook")
    headers, body = webhook_receiver.deliveries[0]
    assert headers[webhooks.EVENT_HEADER] == "narration.ready"
    assert webhooks.verify(
        "whsec-test", headers[webhooks.TIMESTAMP_HEADER], body, headers[webhooks.SIGNATURE_HEADER]
    )
    data = json.loads(body)["data"]
    assert data["article_id"] == "library" and data["state"] == "ready"


def test_permanent_engine_error_fails_with_a_reason_and_can_be_retried(
    service: str, gtts_server: GttsStandIn, webhook_receiver: WebhookReceiver
) -> None:
    requests.put(
        f"{service}/v1/articles/doomed",
        data=TEXT.encode(),
        headers={**AUTH, "Content-Type": "text/plain"},
        timeout=30,
    )
    gtts_server.fail_next(403, count=1000)
    requests.post(
        f"{service}/v1/articles/doomed/narration",
        json={"callback_url": webhook_receiver.url},
        headers=AUTH,
        timeout=60,
    )
    failed = wait_state(f"{service}/v1/articles/doomed/narration", "failed")
    assert "403" in failed["error"]
    await_condition(
        lambda: "narration.failed" in webhook_receiver.events(), timeout=30, what="failed webhook"
    )

    gtts_server._fail.clear()
    retried = requests.post(f"{service}/v1/articles/doomed/narration", headers=AUTH, timeout=60)
    assert retried.status_code == 202
    assert retried.json()["id"] == failed["id"]
    ready = wait_state(f"{service}/v1/articles/doomed/narration", "ready")
    assert ready["error"] is None


def test_articles_are_pulled_from_the_cms_and_pulled_again_after_an_edit(
    service_settings: Settings, worker: None, cms_server: CmsStandIn
) -> None:
    cms_server.articles["elm-library"] = {
        "title": "Library opens on Sundays",
        "byline": "Jo Park",
        "lang": "en",
        "body": TEXT + "\n\nThe council approved the budget on Tuesday night.",
    }
    app = create_app(
        service_settings,
        article_source=f"{cms_server.url}/api/{{id}}.json",
        article_source_hosts=["127.0.0.1"],
    )
    with http_server(app) as base:
        first = requests.post(f"{base}/v1/articles/elm-library/narration", headers=AUTH, timeout=60)
        assert first.status_code == 202, first.text
        article = requests.get(f"{base}/v1/articles/elm-library", timeout=10).json()
        assert article["source"] == "pulled" and article["byline"] == "Jo Park"
        v1 = wait_state(f"{base}/v1/articles/elm-library/narration", "ready")

        cms_server.articles["elm-library"]["body"] = TEXT + "\n\nThe council voted on Monday."
        second = requests.post(
            f"{base}/v1/articles/elm-library/narration", headers=AUTH, timeout=60
        )
        assert second.status_code == 202
        assert second.json()["id"] != v1["id"]
        v2 = wait_state(f"{base}/v1/articles/elm-library/narration", "ready")
        assert v2["version"] == 2 and v2["audio_url"] != v1["audio_url"]

        missing = requests.post(
            f"{base}/v1/articles/not-in-cms/narration", headers=AUTH, timeout=60
        )
        assert missing.status_code == 404
        assert missing.json()["field"] == "id"


def test_broker_outage_is_503_and_the_narration_can_be_asked_again(settings: Settings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(settings, redis_url=f"redis://127.0.0.1:{port}/0")
    client = app.test_client()
    client.put("/v1/articles/a", data=TEXT, content_type="text/plain", headers=AUTH)
    response = client.post("/v1/articles/a/narration", headers=AUTH)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    status = client.get("/v1/articles/a/narration").json
    assert status["state"] == "queued"  # recorded: the reconciler sends it once Redis is back
    dispose_all()


def test_a_lost_job_is_sent_again_once(service_settings: Settings, tmp_path: Path) -> None:
    service_settings = service_settings.model_copy(update={"stall_after_s": 1.0})
    with http_server(create_app(service_settings)) as base:
        requests.put(
            f"{base}/v1/articles/lost",
            data=TEXT.encode(),
            headers={**AUTH, "Content-Type": "text/plain"},
            timeout=30,
        )
        first = requests.post(f"{base}/v1/articles/lost/narration", headers=AUTH, timeout=60)
        assert first.status_code == 202
        client_for(service_settings.redis_url or "").flushdb()  # Redis lost every message

        def overdue() -> bool:
            with session_scope(service_settings.catalog_url) as session:
                return narrations.overdue(session, now=datetime.now(UTC)) != []

        await_condition(overdue, timeout=30, what="the narration to be overdue")

        for _ in range(3):
            again = requests.post(f"{base}/v1/articles/lost/narration", headers=AUTH, timeout=60)
            assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
        with session_scope(service_settings.catalog_url) as session:
            row = narrations.get(session, first.json()["id"])
            assert row is not None and row.attempts == 2  # sent again once, not three times

        with celery_worker(service_settings, tmp_path):
            wait_state(f"{base}/v1/articles/lost/narration", "ready")

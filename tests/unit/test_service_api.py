"""The API's validation, auth and article storage (no broker needed for these paths)."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from narration.settings import Settings
from service.app import create_app

AUTH = {"Authorization": "Bearer test-key"}
CMS = {
    "title": "Harbour bridge reopens",
    "byline": "Ana Ruiz",
    "section": "City",
    "published": "2025-06-17T09:30:00+09:00",
    "lang": "en",
    "body_html": "<p>The bridge reopened on Monday.</p><p>Commuters cheered.</p>",
}


@pytest.fixture
def client(settings: Settings) -> FlaskClient:
    return create_app(settings).test_client()


def put_json(client: FlaskClient, article_id: str, obj: object, **headers: str) -> object:
    return client.put(
        f"/v1/articles/{article_id}",
        data=json.dumps(obj),
        content_type="application/json",
        headers={**AUTH, **headers},
    )


def problem(response: object) -> dict:
    assert response.mimetype == "application/problem+json", response.data  # type: ignore[attr-defined]
    return response.json  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize(
    "article_id",
    ["a%20b", "-leading-dash", ".hidden", "a%2Fb", "a/b", "x" * 129, "%C3%A9t%C3%A9", "a:b"],
)
def test_bad_article_ids_are_400_naming_the_id(client: FlaskClient, article_id: str) -> None:
    for method, path in (
        ("put", f"/v1/articles/{article_id}"),
        ("get", f"/v1/articles/{article_id}"),
        ("post", f"/v1/articles/{article_id}/narration"),
        ("get", f"/v1/articles/{article_id}/narration"),
        ("get", f"/v1/articles/{article_id}/audio"),
    ):
        response = getattr(client, method)(path, headers=AUTH, data=b"{}")
        assert response.status_code == 400, (method, path)
        assert problem(response)["field"] == "id"


def test_put_stores_cms_json_then_updates_it(client: FlaskClient) -> None:
    created = put_json(client, "bridge-2025", CMS)
    assert created.status_code == 201  # type: ignore[attr-defined]
    assert created.headers["Location"] == "/v1/articles/bridge-2025"  # type: ignore[attr-defined]
    body = created.json  # type: ignore[attr-defined]
    assert body["title"] == "Harbour bridge reopens" and body["source"] == "pushed"
    assert body["section"] == "City" and body["narration"] is None

    updated = put_json(client, "bridge-2025", {**CMS, "title": "Bridge reopens early"})
    assert updated.status_code == 200  # type: ignore[attr-defined]
    got = client.get("/v1/articles/bridge-2025").json
    assert got["title"] == "Bridge reopens early"
    assert got["content_hash"] != body["content_hash"]


def test_put_accepts_a_whole_html_page(client: FlaskClient) -> None:
    page = (
        "<!doctype html><html lang='en'><head><title>Bridge | News</title></head><body>"
        "<article><h1>Harbour bridge reopens</h1><p>The harbour bridge reopened to traffic on "
        "Monday morning after eight months of repairs by the city.</p><p>Engineers replaced the "
        "worn cables and repainted the steel towers in their original grey colour.</p></article>"
        "</body></html>"
    )
    response = client.put("/v1/articles/page-1", data=page, content_type="text/html", headers=AUTH)
    assert response.status_code == 201, response.data
    assert response.json["title"] == "Harbour bridge reopens"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [
        (b"", "application/json", 400, "body"),
        (b"{not json", "application/json", 422, "body"),
        (json.dumps({**CMS, "title": 5}).encode(), "application/json", 422, "body.title"),
        (json.dumps({"title": "No body"}).encode(), "application/json", 422, "body.body"),
        (b"%PDF-1.7 binary", "application/pdf", 422, "body"),
    ],
)
def test_unreadable_articles_are_problems_naming_the_field(
    client: FlaskClient, body: bytes, content_type: str, status: int, field: str
) -> None:
    response = client.put("/v1/articles/bad", data=body, content_type=content_type, headers=AUTH)
    assert response.status_code == status
    assert problem(response)["field"] == field


def test_writes_need_a_valid_bearer_key(client: FlaskClient) -> None:
    missing = client.put("/v1/articles/a", data=b"{}", content_type="application/json")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert problem(missing)["field"] == "Authorization"
    wrong = put_json(client, "a", CMS, Authorization="Bearer nope")
    assert wrong.status_code == 401
    for path in ("/v1/articles/a/narration", "/v1/narrations", "/v1/narrations:batch"):
        assert client.post(path).status_code == 401, path


def test_without_keys_writes_come_from_loopback_only(settings: Settings) -> None:
    app = create_app(settings, api_keys=[])
    client = app.test_client()
    body = json.dumps(CMS)
    local = client.put(
        "/v1/articles/a",
        data=body,
        content_type="application/json",
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert local.status_code == 201
    remote = client.put(
        "/v1/articles/a",
        data=body,
        content_type="application/json",
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert remote.status_code == 403
    assert (
        client.get("/v1/articles/a", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 200
    )


@pytest.mark.parametrize("proxied", [False, True])
@pytest.mark.parametrize(
    ("peer", "headers", "status"),
    [
        ("203.0.113.9", {"X-Forwarded-For": "127.0.0.1"}, 403),  # a remote client lying
        ("203.0.113.9", {"X-Real-IP": "::1"}, 403),
        ("203.0.113.9", {"Forwarded": 'for="[::1]:80"'}, 403),
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, 403),  # a local proxy's remote client
        ("127.0.0.1", {"X-Forwarded-For": "127.0.0.1, 203.0.113.9"}, 403),
        ("127.0.0.1", {"Forwarded": "for=203.0.113.9;proto=https"}, 403),
        ("127.0.0.1", {"X-Forwarded-For": "not-an-address"}, 403),
        ("127.0.0.1", {"X-Forwarded-For": "127.0.0.1"}, 201),  # local client via local nginx
    ],
)
def test_forwarding_headers_never_make_a_remote_client_local(
    settings: Settings, proxied: bool, peer: str, headers: dict[str, str], status: int
) -> None:
    app = create_app(settings, api_keys=[], proxy_hops=1 if proxied else 0)
    response = app.test_client().put(
        "/v1/articles/a",
        data=json.dumps(CMS),
        content_type="application/json",
        headers=headers,
        environ_base={"REMOTE_ADDR": peer},
    )
    assert response.status_code == status, response.data


def test_reads_need_no_key(client: FlaskClient) -> None:
    put_json(client, "a", CMS)
    assert client.get("/v1/articles/a").status_code == 200


def test_unknown_article_without_a_source_is_404(client: FlaskClient) -> None:
    response = client.post("/v1/articles/nowhere/narration", headers=AUTH)
    assert response.status_code == 404
    assert problem(response)["field"] == "id"
    assert client.get("/v1/articles/nowhere/narration").status_code == 404
    assert client.get("/v1/articles/nowhere/audio").status_code == 404


def test_article_not_narrated_yet(client: FlaskClient) -> None:
    put_json(client, "a", CMS)
    response = client.get("/v1/articles/a/narration")
    assert response.status_code == 404
    assert "not been narrated" in problem(response)["detail"]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"engine": "siri"}, "engine"),
        ({"priority": "urgent"}, "priority"),
        ({"lang": "english please"}, "lang"),
        ({"voice": 7}, "voice"),
        ({"callback_url": "ftp://example.com/x"}, "callback_url"),
    ],
)
def test_bad_narration_options_are_400(client: FlaskClient, options: dict, field: str) -> None:
    put_json(client, "a", CMS)
    response = client.post(
        "/v1/articles/a/narration",
        data=json.dumps(options),
        content_type="application/json",
        headers=AUTH,
    )
    assert response.status_code in (400, 422)
    assert problem(response)["field"] == field


@pytest.mark.parametrize(
    ("query", "body", "field"),
    [
        ("", {"text": "a", "html": "<p>b</p>"}, "text"),
        ("", {}, "text"),
        ("", {"text": ""}, "text"),
        ("?wait=31", {"text": "Hello there."}, "wait"),
        ("?wait=soon", {"text": "Hello there."}, "wait"),
    ],
)
def test_bad_on_demand_requests(client: FlaskClient, query: str, body: dict, field: str) -> None:
    response = client.post(
        f"/v1/narrations{query}",
        data=json.dumps(body),
        content_type="application/json",
        headers=AUTH,
    )
    assert response.status_code == 400
    assert problem(response)["field"] == field


def test_on_demand_options_must_be_json(client: FlaskClient) -> None:
    response = client.post(
        "/v1/narrations",
        data=b"text=hi",
        content_type="application/x-www-form-urlencoded",
        headers=AUTH,
    )
    assert response.status_code == 415
    broken = client.post(
        "/v1/narrations", data=b"{nope", content_type="application/json", headers=AUTH
    )
    assert broken.status_code == 400 and problem(broken)["field"] == "body"
    # curl -d sends JSON with a form media type: the JSON is still read (here: bad engine).
    lenient = client.post(
        "/v1/narrations",
        data=b'{"text": "Hi there.", "engine": "siri"}',
        content_type="application/x-www-form-urlencoded",
        headers=AUTH,
    )
    assert problem(lenient)["field"] == "engine"


def test_batch_names_the_bad_id(client: FlaskClient) -> None:
    response = client.post(
        "/v1/narrations:batch",
        data=json.dumps({"ids": ["good-1", "bad id"]}),
        content_type="application/json",
        headers=AUTH,
    )
    assert response.status_code == 400
    assert problem(response)["field"] == "ids[1]"
    empty = client.post(
        "/v1/narrations:batch",
        data=json.dumps({"ids": []}),
        content_type="application/json",
        headers=AUTH,
    )
    assert problem(empty)["field"] == "ids"


def test_unknown_narration_is_404(client: FlaskClient) -> None:
    assert client.get("/v1/narrations/" + "0" * 32).status_code == 404
    assert client.get("/v1/narrations/not-an-id").status_code == 404


@pytest.mark.parametrize("narration_id", ["..", "-x", "a:b", "%2E%2E", "x" * 129, "a%20b"])
def test_malformed_narration_ids_are_400_naming_the_id(
    client: FlaskClient, narration_id: str
) -> None:
    response = client.get(f"/v1/narrations/{narration_id}")
    assert response.status_code == 400
    assert problem(response)["field"] == "id"


def test_unknown_routes_and_methods_are_problems(client: FlaskClient) -> None:
    assert problem(client.get("/v2/nothing"))["status"] == 404
    wrong = client.delete("/v1/articles/a")
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["Allow"]


def test_plain_text_article_takes_its_title_and_language_from_the_script(
    client: FlaskClient,
) -> None:
    text = (
        "Harbour bridge reopens after repairs\n\n"
        "The harbour bridge reopened to traffic on Monday morning after eight months of work.\n\n"
        "Engineers replaced the worn cables and repainted the steel towers.\n"
    )
    response = client.put("/v1/articles/plain", data=text, content_type="text/plain", headers=AUTH)
    assert response.status_code == 201
    assert response.json["title"] == "Harbour bridge reopens after repairs"
    assert response.json["lang"] == "en"


def test_a_redis_outage_keeps_the_row_and_answers_503_without_retrying_for_long(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings, redis_url="redis://127.0.0.1:1/0")  # port 1 refuses at once
    client = app.test_client()
    assert put_json(client, "a", CMS).status_code == 201
    with caplog.at_level("ERROR", logger="celery.backends.redis"):
        response = client.post("/v1/articles/a/narration", headers=AUTH)
    assert response.status_code == 503
    assert problem(response)["status"] == 503
    status = client.get("/v1/articles/a/narration").json
    assert status["state"] == "queued"  # recorded: the reconciler sends it once Redis is back
    retries = [r for r in caplog.records if "Connection to Redis lost" in r.getMessage()]
    assert len(retries) <= 3, [r.getMessage() for r in retries]


def test_callback_urls_to_metadata_or_unlisted_hosts_are_refused(settings: Settings) -> None:
    client = create_app(settings).test_client()
    metadata = client.post(
        "/v1/narrations",
        json={"text": "Hello there.", "callback_url": "http://169.254.169.254/latest/"},
        headers=AUTH,
    )
    assert metadata.status_code == 422
    assert problem(metadata)["field"] == "callback_url"
    listed = create_app(settings, webhook_hosts=["hooks.example"]).test_client()
    unlisted = listed.post(
        "/v1/narrations",
        json={"text": "Hello there.", "callback_url": "http://10.0.0.5/hook"},
        headers=AUTH,
    )
    assert unlisted.status_code == 422
    assert problem(unlisted)["field"] == "callback_url"


def test_an_article_over_the_size_limit_is_413_however_it_is_sent(settings: Settings) -> None:
    client = create_app(settings, max_article_bytes=1000).test_client()
    words = b"word " * 400  # 2000 bytes: over the article limit, under the request limit
    for response, field in (
        (client.put("/v1/articles/a", data=words, content_type="text/plain", headers=AUTH), "body"),
        (
            client.post("/v1/narrations", data=words, content_type="text/plain", headers=AUTH),
            "body",
        ),
        (client.post("/v1/narrations", json={"text": words.decode()}, headers=AUTH), "text"),
    ):
        assert response.status_code == 413, response.data
        assert problem(response)["field"] == field


@pytest.mark.parametrize("path", ["/v1/narrations", "/v1/narrations:batch"])
def test_a_chunked_json_body_over_the_limit_is_413_not_cut_short(
    settings: Settings, path: str
) -> None:
    import io

    client = create_app(settings, max_article_bytes=1000).test_client()
    # Valid JSON however it is cut: padding after the object is what gets cut off.
    body = json.dumps({"ids": ["a"], "text": "Hello there."}).encode() + b" " * 100_000
    response = client.post(
        path,
        input_stream=io.BytesIO(body),
        headers={**AUTH, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413, response.data
    assert problem(response)["field"] == "body"


def test_a_method_an_article_sub_resource_does_not_have_is_405(client: FlaskClient) -> None:
    wrong = client.put("/v1/articles/a/audio", headers=AUTH, data=b"{}")
    assert wrong.status_code == 405
    assert problem(wrong)["status"] == 405
    assert "PUT" not in wrong.headers["Allow"] and "GET" in wrong.headers["Allow"]
    options = client.options("/v1/articles/a/narration")
    assert set(options.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?priority=null", "priority"),
        ("?priority=", "priority"),
        ("?voice=", "voice"),
        ("?engine=gtts&engine=espeak", "engine"),
        ("?callback_url=null", "callback_url"),
        ("?callback_url=http%3A%2F%2F%5B0%5D", "callback_url"),
        ("?wait=30.5", "wait"),
        ("?wait=nan", "wait"),
        ("?wait=1&wait=2", "wait"),
    ],
)
def test_query_options_are_checked_even_when_the_body_gives_them(
    client: FlaskClient, query: str, field: str
) -> None:
    body = {"text": "Hello there.", "priority": None, "voice": None, "callback_url": None}
    response = client.post(f"/v1/narrations{query}", json=body, headers=AUTH)
    assert response.status_code == 400, response.data
    assert problem(response)["field"] == field


def test_deprecated_language_codes_never_reach_the_catalog_or_the_player(
    client: FlaskClient,
) -> None:
    hebrew = {"title": "Title", "lang": "iw", "body": "A short text to read."}
    assert put_json(client, "hebrew", hebrew).status_code == 201  # type: ignore[attr-defined]
    assert client.get("/v1/articles/hebrew").json["lang"] == "he"
    assert '<html lang="he">' in client.get("/player/hebrew").get_data(as_text=True)


def test_a_well_formed_tag_of_no_language_is_422_naming_lang(client: FlaskClient) -> None:
    response = client.post("/v1/narrations?lang=qx", json={"text": "Hello there."}, headers=AUTH)
    assert response.status_code == 422
    assert problem(response)["field"] == "lang"

"""Pulling articles from the CMS: JSON or HTML answers, host allow-list, limits, time-outs."""

from __future__ import annotations

import pytest

from narration.errors import UnreadableArticle
from narration.settings import Settings
from narration.sources import ArticleNotFound, ArticleSourceError, fetch, pull_article
from tests.fakes.cms_server import CmsStandIn

ARTICLE = {
    "title": "Harbour bridge reopens",
    "byline": "Ana Ruiz",
    "lang": "en",
    "body": "The harbour bridge reopened on Monday after eight months of repairs.\n\n"
    "Engineers replaced the worn cables and repainted the steel towers.",
}


def source(settings: Settings, cms: CmsStandIn, template: str, **extra: object) -> Settings:
    cms.articles["bridge-1"] = dict(ARTICLE)
    return settings.model_copy(
        update={
            "article_source": f"{cms.url}{template}",
            "article_source_hosts": ["127.0.0.1"],
            "article_source_timeout": 2.0,
            "max_article_bytes": 200_000,
            **extra,
        }
    )


def test_pulls_cms_json(settings: Settings, cms_server: CmsStandIn) -> None:
    configured = source(settings, cms_server, "/api/{id}.json")
    article, fetched = pull_article(configured, "bridge-1")
    assert article.id == "bridge-1" and article.form == "cms-json"
    assert article.title == "Harbour bridge reopens" and article.byline == "Ana Ruiz"
    assert fetched.content_type and fetched.content_type.startswith("application/json")


def test_pulls_the_public_html_page(settings: Settings, cms_server: CmsStandIn) -> None:
    article, _ = pull_article(source(settings, cms_server, "/pages/{id}"), "bridge-1")
    assert article.form == "html"
    assert article.title == "Harbour bridge reopens"


def test_missing_article_is_not_found(settings: Settings, cms_server: CmsStandIn) -> None:
    with pytest.raises(ArticleNotFound):
        fetch(source(settings, cms_server, "/api/{id}.json"), "no-such-article")


def test_redirects_stay_on_allowed_hosts(settings: Settings, cms_server: CmsStandIn) -> None:
    article, fetched = pull_article(source(settings, cms_server, "/redirect-home/{id}"), "bridge-1")
    assert article.title == "Harbour bridge reopens"
    assert fetched.url.endswith("/api/bridge-1.json")
    with pytest.raises(ArticleSourceError, match="not in NARRATOR_ARTICLE_SOURCE_HOSTS"):
        fetch(source(settings, cms_server, "/redirect-away/{id}"), "bridge-1")
    assert not any(path.startswith("/api/") for path in cms_server.requests[-1:])


def test_template_host_must_be_allowed(settings: Settings, cms_server: CmsStandIn) -> None:
    configured = source(
        settings, cms_server, "/api/{id}.json", article_source_hosts=["cms.example"]
    )
    with pytest.raises(ArticleSourceError, match="not in"):
        fetch(configured, "bridge-1")
    assert cms_server.requests == []


def test_without_a_host_list_only_the_template_host_is_allowed(
    settings: Settings, cms_server: CmsStandIn
) -> None:
    configured = source(settings, cms_server, "/api/{id}.json", article_source_hosts=[])
    assert pull_article(configured, "bridge-1")[0].title == "Harbour bridge reopens"
    away = source(settings, cms_server, "/redirect-away/{id}", article_source_hosts=[])
    with pytest.raises(ArticleSourceError):
        fetch(away, "bridge-1")


@pytest.mark.parametrize("kind", ["huge", "huge-chunked"])
def test_size_limit(settings: Settings, cms_server: CmsStandIn, kind: str) -> None:
    with pytest.raises(UnreadableArticle, match="limit"):
        fetch(source(settings, cms_server, f"/{kind}/{{id}}"), "bridge-1")


def test_time_out(settings: Settings, cms_server: CmsStandIn) -> None:
    cms_server.slow_s = 3.0
    configured = source(settings, cms_server, "/slow/{id}", article_source_timeout=0.5)
    with pytest.raises(ArticleSourceError, match="timed out"):
        fetch(configured, "bridge-1")


@pytest.mark.timeout(30)
def test_a_body_dripping_in_meets_the_overall_deadline(
    settings: Settings, cms_server: CmsStandIn
) -> None:
    configured = source(settings, cms_server, "/drip/{id}", article_source_timeout=0.5)
    with pytest.raises(ArticleSourceError, match="took over"):
        fetch(configured, "bridge-1")


def test_server_error(settings: Settings, cms_server: CmsStandIn) -> None:
    with pytest.raises(ArticleSourceError, match="HTTP 500"):
        fetch(source(settings, cms_server, "/broken/{id}"), "bridge-1")


def test_no_source_configured(settings: Settings) -> None:
    with pytest.raises(ArticleSourceError, match="NARRATOR_ARTICLE_SOURCE"):
        fetch(settings, "bridge-1")

"""Pull an article from the publisher's CMS by its ID.

``NARRATOR_ARTICLE_SOURCE`` is a URL template such as ``https://cms.example/api/{id}.json`` or
``https://news.example/articles/{id}``; the answer may be CMS JSON or the public HTML page.
Only hosts in ``NARRATOR_ARTICLE_SOURCE_HOSTS`` (by default the template's own host) are ever
contacted, redirects included, so an article ID can never steer the service elsewhere. Every
fetch has connect and read time-outs, an overall deadline and a size limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

import requests
from urllib3.exceptions import HTTPError as TransportError

from narration.article import Article
from narration.errors import NarrationError, UnreadableArticle
from narration.scripting import parse_article
from narration.settings import Settings

MAX_REDIRECTS = 5
USER_AGENT = "narrator-article-source/1"


class ArticleSourceError(NarrationError):
    """The CMS could not be asked, or did not answer usefully (time-out, 5xx, bad host)."""


class ArticleNotFound(ArticleSourceError):
    """The CMS says there is no such article (HTTP 404 or 410)."""


@dataclass(frozen=True)
class Fetched:
    url: str
    content_type: str | None
    body: bytes


def source_url(settings: Settings, article_id: str) -> str:
    if not settings.article_source:
        raise ArticleSourceError("no article source is configured (NARRATOR_ARTICLE_SOURCE)")
    if "{id}" not in settings.article_source:
        raise ArticleSourceError("NARRATOR_ARTICLE_SOURCE must contain {id}")
    return settings.article_source.replace("{id}", quote(article_id, safe=""))


def allowed_hosts(settings: Settings) -> set[str]:
    hosts = {host.lower() for host in settings.article_source_hosts}
    if not hosts and settings.article_source:
        template_host = urlsplit(settings.article_source.replace("{id}", "x")).hostname
        if template_host:
            hosts.add(template_host.lower())
    return hosts


def _check_url(url: str, hosts: set[str]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise ArticleSourceError(f"the article source must be http or https, not {parts.scheme!r}")
    if (parts.hostname or "").lower() not in hosts:
        raise ArticleSourceError(
            f"the article source host {parts.hostname!r} is not in NARRATOR_ARTICLE_SOURCE_HOSTS"
        )


def fetch(settings: Settings, article_id: str) -> Fetched:
    """GET the article's source URL, following redirects only to allowed hosts."""
    url = source_url(settings, article_id)
    hosts = allowed_hosts(settings)
    timeout = settings.article_source_timeout
    deadline = time.monotonic() + 3 * timeout
    limit = settings.max_article_bytes
    with requests.Session() as session:
        session.headers["User-Agent"] = USER_AGENT
        session.headers["Accept"] = "application/json, text/html;q=0.9, */*;q=0.1"
        for _ in range(MAX_REDIRECTS + 1):
            _check_url(url, hosts)
            try:
                response = session.get(
                    url, timeout=(timeout, timeout), stream=True, allow_redirects=False
                )
            except requests.Timeout as exc:
                raise ArticleSourceError(f"the article source timed out after {timeout} s") from exc
            except requests.RequestException as exc:
                raise ArticleSourceError(f"the article source is unreachable: {exc}") from exc
            with response:
                if response.is_redirect and "Location" in response.headers:
                    url = urljoin(url, response.headers["Location"])
                    continue
                if response.status_code in (404, 410):
                    raise ArticleNotFound(
                        f"the article source has no article {article_id!r}", field="id"
                    )
                if response.status_code != 200:
                    raise ArticleSourceError(
                        f"the article source answered HTTP {response.status_code}"
                    )
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > limit:
                    raise UnreadableArticle(
                        f"the article source sent {declared} bytes, over the limit of {limit}"
                    )
                body = bytearray()
                try:
                    # read1 returns whatever has arrived, so a server dripping bytes slower
                    # than any time-out meets the deadline; iter_content would block until a
                    # whole 64 KB piece had come.
                    while piece := response.raw.read1(64 * 1024, decode_content=True):
                        body += piece
                        if len(body) > limit:
                            raise UnreadableArticle(
                                f"the article source sent over the limit of {limit} bytes"
                            )
                        if time.monotonic() > deadline:
                            raise ArticleSourceError(
                                f"the article source took over {3 * timeout:g} s to answer"
                            )
                except (requests.RequestException, TransportError, OSError) as exc:
                    raise ArticleSourceError(f"the article source broke off: {exc}") from exc
                return Fetched(url, response.headers.get("Content-Type"), bytes(body))
    raise ArticleSourceError(f"the article source redirected more than {MAX_REDIRECTS} times")


def pull_article(settings: Settings, article_id: str) -> tuple[Article, Fetched]:
    """Fetch and parse one article; the parsed article keeps the ID it was asked for."""
    fetched = fetch(settings, article_id)
    article = parse_article(
        fetched.body,
        content_type=fetched.content_type,
        url=fetched.url,
        max_bytes=settings.max_article_bytes,
    )
    article.id = article_id
    return article, fetched

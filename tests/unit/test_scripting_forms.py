"""Reading the three article forms, and refusing what cannot be narrated."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from narration.errors import UnreadableArticle
from narration.scripting import article_from_json, load_article, parse_article

CMS = {
    "id": "2025-lee-ishiba",
    "title": "Lee meets Ishiba",
    "dek": "First talks.",
    "byline": ["Sarah Kim", "Jo He-rim"],
    "section": "National",
    "published": "2025-06-17T09:30:00Z",
    "lang": "en",
    "body_html": "<p>First paragraph.</p><p>Second paragraph.</p>",
    "canonical_url": "https://news.example/a/1",
    "image_url": "https://news.example/a/1.jpg",
    "desk": "politics",
}


def test_cms_json_fields() -> None:
    article = article_from_json(CMS)
    assert article.form == "cms-json"
    assert article.title == "Lee meets Ishiba"
    assert article.byline == "Sarah Kim and Jo He-rim"
    assert article.published == datetime(2025, 6, 17, 9, 30, tzinfo=UTC)
    assert article.body_html is not None and article.body_text is None
    assert article.canonical_url == "https://news.example/a/1"
    assert article.extra == {"desk": "politics"}


def test_cms_json_text_body_is_detected() -> None:
    article = article_from_json({"title": "T", "body": "One.\n\nTwo."})
    assert article.body_text == "One.\n\nTwo." and article.body_html is None


def test_cms_json_html_in_body_is_detected() -> None:
    article = article_from_json({"title": "T", "body": "<p>One.</p><p>Two.</p>"})
    assert article.body_html == "<p>One.</p><p>Two.</p>"


def test_body_html_with_any_tag_is_markup() -> None:
    article = article_from_json({"body_html": "<script>track()</script>"})
    assert article.body_html == "<script>track()</script>"
    # in a text body, a bracket is only a bracket
    article = article_from_json({"body": "Scores: 3 <5 and x > 2 <script> in quotes."})
    assert article.body_html is None
    assert article_from_json({"body_html": "Plain words only."}).body_text == "Plain words only."


@pytest.mark.parametrize(
    ("key", "value"),
    [("title", 3), ("byline", {"name": "x"}), ("published", "yesterday"), ("lang", ["en"])],
)
def test_cms_json_wrong_type_names_the_field(key: str, value: object) -> None:
    with pytest.raises(UnreadableArticle) as info:
        article_from_json({**CMS, key: value})
    assert info.value.field == key


def test_cms_json_empty_body() -> None:
    with pytest.raises(UnreadableArticle, match="empty") as info:
        article_from_json({"title": "T", "body_html": "  "})
    assert info.value.field == "body"


def test_form_is_sniffed_from_content_not_extension(tmp_path: Path) -> None:
    as_txt = tmp_path / "article.txt"
    as_txt.write_text(json.dumps(CMS))
    assert load_article(as_txt).form == "cms-json"
    page = tmp_path / "page.json"
    page.write_text("<!doctype html><html lang='ko'><body><p>x</p></body></html>")
    assert load_article(page).form == "html"
    text = tmp_path / "story.html"
    text.write_text("Headline\n\nA story in plain text.\n")
    assert load_article(text).form == "text"


def test_content_type_decides_for_api_bodies() -> None:
    article = parse_article(json.dumps(CMS).encode(), content_type="application/json")
    assert article.form == "cms-json"
    with pytest.raises(UnreadableArticle, match="invalid JSON"):
        parse_article(b"{not json", content_type="application/json")


def test_json_that_is_not_an_object() -> None:
    with pytest.raises(UnreadableArticle, match="JSON object"):
        parse_article(b'["a", "b"]')


@pytest.mark.parametrize("data", [b"", b"   \n\t  "])
def test_empty(data: bytes) -> None:
    with pytest.raises(UnreadableArticle, match="empty"):
        parse_article(data)


@pytest.mark.parametrize(
    "data", [b"%PDF-1.7\n...", b"\x89PNG\r\n\x1a\n\x00\x00", b"\x7fELF\x02\x01\x01\x00\x00\x00"]
)
def test_binary(data: bytes) -> None:
    with pytest.raises(UnreadableArticle, match="not an article"):
        parse_article(data)


def test_undecodable() -> None:
    noise = bytes(range(128, 256)) * 20
    with pytest.raises(UnreadableArticle, match="decode"):
        parse_article(noise)


def test_legacy_encoding_is_decoded() -> None:
    article = parse_article("Überschrift\n\nDie Bürger sind zufrieden.".encode("latin-1"))
    assert article.body_text is not None and "Bürger" in article.body_text


def test_too_big() -> None:
    with pytest.raises(UnreadableArticle, match="over the limit"):
        parse_article(b"word " * 100, max_bytes=100)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableArticle, match="cannot read"):
        load_article(tmp_path / "nope.txt")

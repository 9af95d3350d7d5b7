"""HTML extraction: trafilatura for pages, a plain walk for CMS bodies."""

from __future__ import annotations

import json

import lxml.html
import pytest

from narration.errors import UnreadableArticle
from narration.scripting.blocks import text_blocks
from narration.scripting.extract import declared_language, extract_page, fragment_blocks

FILLER = "".join(
    f"<p>Paragraph {n} of the story says something long enough to count as body text.</p>"
    for n in range(8)
)


def test_comment_inside_a_paragraph_keeps_the_text_after_it() -> None:
    page = (
        "<html><body><article><h1>T</h1>"
        "<p>When <!-- -->President<!-- --> Trump spoke, the room went quiet for a while.</p>"
        f"{FILLER}</article></body></html>"
    )
    texts = [b.text for b in extract_page(page).blocks]
    assert "When President Trump spoke, the room went quiet for a while." in texts


def test_table_row_reads_as_one_line() -> None:
    page = (
        f"<html><body><article>{FILLER}<table><tr><th>Pos</th><th>Player</th><th>Plays</th></tr>"
        "<tr><td>DL</td><td>Larry Ogunjobi</td><td>63</td></tr></table></article></body></html>"
    )
    texts = [b.text for b in extract_page(page).blocks]
    assert "DL Larry Ogunjobi 63" in texts


def test_declared_language() -> None:
    assert declared_language(lxml.html.fromstring("<html lang='ja'><body>x</body></html>")) == "ja"
    og = "<html><head><meta property='og:locale' content='pt_BR'></head><body>x</body></html>"
    assert declared_language(lxml.html.fromstring(og)) == "pt_BR"
    assert declared_language(lxml.html.fromstring("<html><body>x</body></html>")) is None
    ld = (
        '<html><head><script type="application/ld+json">{"@type": "NewsArticle", '
        '"inLanguage": "es-MX"}</script></head><body>x</body></html>'
    )
    assert declared_language(lxml.html.fromstring(ld)) == "es-MX"


def test_a_quoted_post_is_read_attributed_and_share_bars_are_pruned() -> None:
    page = (
        f"<html><body><article>{FILLER}<blockquote class='twitter-tweet'><p>Tweet text here "
        "that is long enough to be a paragraph of its own. <a href='https://t.co/x'>"
        "pic.twitter.com/x</a></p>&mdash; Some One (@someone) <a href='https://x.com/1'>"
        "May 2, 2024</a></blockquote><div class='share-bar'><a href='#'>Share</a></div>"
        "</article></body></html>"
    )
    found = extract_page(page)
    quoted = [b.text for b in found.blocks if "Tweet text" in b.text]
    assert quoted == [
        "Posted by Some One: Tweet text here that is long enough to be a paragraph of its own."
    ]
    (share,) = found.discarded
    assert (share.reason, share.text) == ("page tool bar", "Share")


def test_an_embed_with_no_author_stays_page_furniture() -> None:
    page = (
        f"<html><body><article>{FILLER}<blockquote class='instagram-media'><p>View this post "
        "on Instagram</p></blockquote></article></body></html>"
    )
    found = extract_page(page)
    assert not any("Instagram" in b.text for b in found.blocks)
    assert [s.reason for s in found.discarded] == ["social media embed"]


def test_fragment_drops_figures_and_splits_on_breaks() -> None:
    blocks = fragment_blocks(
        "Intro line<br>second line<figure><figcaption>A caption</figcaption></figure>"
        "<p>A paragraph\nwrapped in the source.</p><ul><li>One</li><li>Two</li></ul>"
        "<h3>Heading</h3><script>var x;</script>"
    )
    assert [(b.role, b.text) for b in blocks] == [
        ("paragraph", "Intro line"),
        ("paragraph", "second line"),
        ("paragraph", "A paragraph wrapped in the source."),
        ("paragraph", "One"),
        ("paragraph", "Two"),
        ("heading", "Heading"),
    ]


def test_fragment_that_is_a_whole_document_keeps_only_the_body() -> None:
    blocks = fragment_blocks("<html><head><title>T</title></head><body><p>One.</p></body></html>")
    assert [b.text for b in blocks] == ["One."]


def test_plain_text_lines_and_wrapped_paragraphs() -> None:
    browser_copy = "Headline\n\nHome > News\nFirst paragraph.\nSecond paragraph.\n"
    assert [b.text for b in text_blocks(browser_copy)] == [
        "Headline",
        "Home > News",
        "First paragraph.",
        "Second paragraph.",
    ]
    wrapped = (
        "This paragraph was wrapped by an editor at a fixed width of\n"
        "about sixty characters, so each of its lines stops in the\n"
        "middle of a sentence.\n\nNext one."
    )
    assert [b.text for b in text_blocks(wrapped)] == [
        "This paragraph was wrapped by an editor at a fixed width of about sixty characters, "
        "so each of its lines stops in the middle of a sentence.",
        "Next one.",
    ]


def test_a_page_drawn_by_javascript_is_read_from_its_schema_org_metadata() -> None:
    article = {
        "@type": "NewsArticle",
        "headline": "Rates held",
        "author": {"@type": "Person", "name": "Amara Osei"},
        "datePublished": "2024-06-12T14:00:00Z",
        "articleBody": "The bank left rates unchanged on Wednesday, as most had expected. " * 3
        + "\n\n"
        + "Markets barely moved after the announcement, traders said later that day. " * 2,
    }
    page = (
        '<html><head><script type="application/ld+json">'
        f"{json.dumps({'@graph': [{'@type': 'WebSite'}, article]})}</script>"
        '</head><body><div id="root"></div></body></html>'
    )
    found = extract_page(page)
    assert (found.title, found.byline) == ("Rates held", "Amara Osei")
    assert found.published is not None and found.published.year == 2024
    assert [b.text[:22] for b in found.blocks] == [
        "The bank left rates un",
        "Markets barely moved a",
    ]
    broken = page.replace('"@graph"', "@graph")  # invalid JSON-LD: nothing to read
    with pytest.raises(UnreadableArticle):
        extract_page(broken)

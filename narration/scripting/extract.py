"""HTML: the main text and metadata of a whole page (trafilatura), and the blocks of a CMS body.

The page is parsed once; its declared language is read from the markup before trafilatura
prunes it, and the extraction is memoised so that reading an article and then scripting it do
the work once.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import Document

from narration.article import Article
from narration.errors import UnreadableArticle
from narration.script import Skipped
from narration.scripting import block_model
from narration.scripting.blocks import BlockRole, TextBlock, normalize_space, text_blocks
from narration.scripting.discarded import discarded_blocks, mark_furniture
from narration.scripting.embeds import quote_posts
from narration.scripting.streamed import place_streamed_parts

# Elements of a CMS body that are never part of the story read aloud.
_FRAGMENT_DROP = (
    "script", "style", "noscript", "figure", "figcaption", "aside", "iframe", "video", "audio",
    "form", "button", "nav", "footer", "svg", "template", "object", "embed", "head", "title",
)  # fmt: skip
_WHOLE_PAGE = re.compile(r"<(?:html|head|body)[\s>]", re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_DOCUMENT_END = re.compile(r"</(?:body|html)\s*>", re.I)
# A <br> becomes this separator: source newlines inside a paragraph are only spaces.
_BREAK = "\u2029"
_FRAGMENT_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "dd"}


@dataclass
class PageExtraction:
    blocks: list[TextBlock]
    discarded: list[Skipped] = field(default_factory=list)
    """Visible text of the page that the extraction left out, with reasons."""
    title: str | None = None
    byline: str | None = None
    lang: str | None = None
    published: datetime | None = None
    canonical_url: str | None = None
    image_url: str | None = None
    section: str | None = None
    dek: str | None = None


def is_whole_page(html: str) -> bool:
    """A page has a document around its story; a fragment ("<p>..</p><p>..</p>") is a body."""
    return bool(_WHOLE_PAGE.search(html[:65536]))


def article_from_page(page: str, *, url: str | None = None) -> Article:
    """An Article from an HTML page: metadata now, the body blocks when it is scripted. A
    fragment is a story body already: it is read whole, without main-text extraction."""
    if not is_whole_page(page):
        return Article(form="html", body_html=page, canonical_url=url)
    found = extract_page(page, url=url)
    return Article(
        form="html",
        title=found.title,
        dek=found.dek,
        byline=found.byline,
        section=found.section,
        published=found.published,
        lang=found.lang,
        canonical_url=found.canonical_url or url,
        image_url=found.image_url,
        body_html=page,
    )


def extract_page(page: str, *, url: str | None = None) -> PageExtraction:
    """Main text and metadata of ``page``; the same page is extracted once per process (the
    URL only helps the first extraction: the body does not depend on it)."""
    digest = hashlib.blake2b(page.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    # A refitted block model (cross-validation) reads the page again.
    digest += id(block_model.current_model()).to_bytes(8, "little")
    found = _RECENT.get(digest)
    if found is None:
        found = _extract(page, url)
        with _RECENT_LOCK:  # workers may script in threads
            _RECENT[digest] = found
            while len(_RECENT) > 16:
                del _RECENT[next(iter(_RECENT))]
    return found


_RECENT: dict[bytes, PageExtraction] = {}
_RECENT_LOCK = threading.Lock()


def _extract(page: str, url: str | None) -> PageExtraction:
    tree = _parse(page)
    lang = declared_language(tree)
    doc = _trafilatura(tree, url)
    body = doc.body if isinstance(doc, Document) else None
    found = body is not None
    blocks = _restore_headings(blocks_from_trafilatura(body), tree) if body is not None else []
    if blocks and (model := block_model.current_model()) is not None:
        blocks = _model_blocks(tree, blocks, _clean(doc.title) if doc else None, model)
    # A page drawn by JavaScript carries its story only in its metadata (schema.org
    # articleBody); the extraction then finds a teaser, or nothing.
    # (trafilatura may read that itself, but as one paragraph).
    size = sum(len(b.text) for b in blocks)
    metadata = _json_ld_article(tree) if size < 2000 else None
    story = metadata.get("articleBody") if metadata else None
    if isinstance(story, str) and (
        len(story) >= max(300, 2 * size)
        or (len(blocks) == 1 and blocks[0].text == normalize_space(story))
    ):
        blocks = fragment_blocks(story) if _TAG.search(story) else text_blocks(story)
    elif not found:
        raise UnreadableArticle("no readable text in the page")
    if not isinstance(doc, Document):
        doc = Document()
    if metadata:  # what the page's own markup did not say
        schema = _document_from_json_ld(metadata)
        for name in ("title", "author", "date", "description"):
            setattr(doc, name, getattr(doc, name, None) or getattr(schema, name))
    title, byline, dek = _clean(doc.title), _clean(doc.author), _clean(doc.description)
    return PageExtraction(
        blocks=blocks,
        # trafilatura worked on its own copy of the tree: this one still has the whole page.
        discarded=discarded_blocks(tree, blocks, title=title, byline=byline, dek=dek),
        title=title,
        byline=byline,
        lang=lang,
        published=_parse_date(doc.date),
        canonical_url=doc.url,
        image_url=doc.image,
        section=_clean(doc.categories[0]) if doc.categories else None,
        dek=dek,
    )


_TAG = re.compile(r"</?(?:p|br|div|h[1-6]|li)\b", re.I)


def _parse(page: str) -> lxml.html.HtmlElement:
    # lxml refuses a str that still declares its byte encoding; it is decoded already.
    page = _XML_DECLARATION.sub("", page, count=1)
    # libxml2 drops what follows an early </html> (a tag manager's snippet may close the
    # document before the story); the parser closes both at the end of the input anyway.
    page = _DOCUMENT_END.sub("", page)
    try:
        tree = lxml.html.fromstring(page)
    except (etree.ParserError, ValueError) as exc:
        raise UnreadableArticle("no readable text in the page") from exc
    place_streamed_parts(tree, page)  # before the comments that delimit them go
    # trafilatura drops a comment with its tail text: "When <!-- -->President" would lose
    # "President" and everything after it in the paragraph. Strip comments, keep tails.
    etree.strip_tags(tree, etree.Comment)
    quote_posts(tree)  # a post the story quotes is read, attributed, without its handle
    return tree


def _trafilatura(tree: lxml.html.HtmlElement, url: str | None) -> Document | None:
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        prune_xpath=mark_furniture(tree),
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        # Links are kept only to measure how much of a block is link text.
        include_links=True,
    )
    return doc if isinstance(doc, Document) else None


def model_input(page: str) -> block_model.PageBlocks | None:
    """The DOM blocks of a whole page and their features, as the block model sees them (for
    training); None when trafilatura finds no text in it."""
    tree = _parse(page)
    doc = _trafilatura(tree, None)
    if doc is None or doc.body is None:
        return None
    blocks = _restore_headings(blocks_from_trafilatura(doc.body), tree)
    if not blocks:
        return None
    main_text = "\n".join(b.text for b in blocks)
    return block_model.page_blocks(tree, main_text, _clean(doc.title))


# A page where the model keeps less than this share of trafilatura's text is left to trafilatura
# (the model found no story: a page unlike any it was fitted on).
_MIN_KEPT = 0.2


def _model_blocks(
    tree: lxml.html.HtmlElement,
    found: list[TextBlock],
    title: str | None,
    model: block_model.BlockModel,
) -> list[TextBlock]:
    """The page's story blocks as the block model decides them, in document order (a page of
    fewer than ``block_model.MIN_BLOCKS`` blocks: trafilatura's)."""
    main_text = "\n".join(b.text for b in found)
    page = block_model.page_blocks(tree, main_text, title, min_blocks=block_model.MIN_BLOCKS)
    if page is None:
        return found
    keep = model.story(page.x) & ~page.in_comment_thread() & ~page.in_caption()
    blocks = [b.text_block() for b, k in zip(page.blocks, keep, strict=True) if k]
    if sum(len(b.text) for b in blocks) < _MIN_KEPT * len(main_text):
        return found
    return blocks


def _json_ld_article(tree: lxml.html.HtmlElement) -> dict[str, Any] | None:
    """The schema.org object of the page that carries the longest ``articleBody``, if any."""
    best: dict[str, Any] | None = None
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue  # pages ship broken JSON-LD often enough
        for obj in _json_objects(data):
            body = obj.get("articleBody")
            if isinstance(body, str) and (best is None or len(body) > len(best["articleBody"])):
                best = obj
    return best


def _json_objects(data: object) -> Iterator[dict[str, Any]]:
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from _json_objects(value)
    elif isinstance(data, list):
        for value in data:
            yield from _json_objects(value)


def _document_from_json_ld(obj: dict[str, Any]) -> Document:
    """The headline, authors, date and description of a schema.org article."""
    doc = Document()
    doc.title = obj.get("headline") if isinstance(obj.get("headline"), str) else None
    authors = obj.get("author")
    names = [
        a.get("name") if isinstance(a, dict) else a
        for a in (authors if isinstance(authors, list) else [authors])
    ]
    doc.author = "; ".join(n for n in names if isinstance(n, str)) or None
    doc.date = obj.get("datePublished") if isinstance(obj.get("datePublished"), str) else None
    doc.description = obj.get("description") if isinstance(obj.get("description"), str) else None
    return doc


def _restore_headings(blocks: list[TextBlock], tree: lxml.html.HtmlElement) -> list[TextBlock]:
    """trafilatura's fallback extractors return a page's sub-headings as plain paragraphs (a
    live blog's post titles); a paragraph that is exactly a sub-heading of the page is one."""
    headings = {
        text
        for element in tree.iter("h2", "h3", "h4", "h5", "h6")
        if len(text := normalize_space(element.text_content())) <= 200
    }
    for block in blocks:
        if block.role == "paragraph" and block.tag == "p" and block.text in headings:
            block.role = "heading"  # the tag stays "p": it was read as part of the story
    return blocks


def declared_language(tree: lxml.html.HtmlElement) -> str | None:
    """The language the page declares: ``<html lang>``, Content-Language, og:locale, a
    ``language`` meta tag, or the ``inLanguage`` of its JSON-LD metadata."""
    root = tree.getroottree().getroot()
    for value in (
        root.get("lang"),
        root.get("{http://www.w3.org/XML/1998/namespace}lang"),
        *root.xpath("//meta[translate(@http-equiv,'CONTENTLANGUAGE','contentlanguage')"
                    "='content-language']/@content"),
        *root.xpath("//meta[@property='og:locale']/@content"),
        *root.xpath("//meta[@name='language' or @itemprop='inLanguage']/@content"),
        *_json_ld_languages(root),
    ):  # fmt: skip
        if value and value.strip():
            return str(value).strip()
    return None


_IN_LANGUAGE = re.compile(r'"inLanguage"\s*:\s*"([^"]{2,35})"')


def _json_ld_languages(root: lxml.html.HtmlElement) -> list[str]:
    """``inLanguage`` of the page's schema.org metadata (read as text: a page's JSON-LD is
    often not valid JSON, and only this one string is needed)."""
    found: list[str] = []
    for script in root.xpath("//script[@type='application/ld+json']"):
        found += _IN_LANGUAGE.findall(script.text or "")
    return found


def blocks_from_trafilatura(body: etree._Element) -> list[TextBlock]:
    """Walk trafilatura's XML body (p, head, list/item, quote, table/row/cell) into blocks."""
    blocks: list[TextBlock] = []
    for element in body:
        _collect(element, blocks)
    return blocks


def _collect(element: etree._Element, blocks: list[TextBlock]) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in ("list", "table", "div"):
        for child in element:
            _collect(child, blocks)
        return
    if tag == "graphic":
        return
    if tag == "row":
        # A table row reads as one line: "DL Larry Ogunjobi 63 85% 1 tackle".
        text = " ".join(t for cell in element if (t := normalize_space("".join(cell.itertext()))))
    else:
        text = normalize_space("".join(element.itertext()))
    if not text:
        return
    linked = sum(len(normalize_space("".join(ref.itertext()))) for ref in element.iter("ref"))
    density = min(1.0, linked / len(text))
    role: BlockRole = "heading" if tag == "head" else "paragraph"
    kind = {"item": "li", "head": "head"}.get(tag, tag or "p")
    blocks.append(TextBlock(text, role=role, tag=kind, link_density=density))


def fragment_blocks(html: str) -> list[TextBlock]:
    """Blocks of an HTML body from a CMS: the story only, so no main-text extraction."""
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError) as exc:
        raise UnreadableArticle("the article body is not readable HTML", field="body") from exc
    for bad in root.xpath("|".join(f"//{t}" for t in _FRAGMENT_DROP)):
        bad.drop_tree()
    for br in root.iter("br"):
        br.tail = _BREAK + (br.tail or "")
    blocks: list[TextBlock] = []
    _fragment_walk(root, blocks)
    return blocks


def _fragment_walk(element: lxml.html.HtmlElement, blocks: list[TextBlock]) -> None:
    loose: list[str] = [element.text or ""]
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in _FRAGMENT_BLOCKS and not child.xpath(".//p|.//li|.//h2|.//h3"):
            _flush(loose, blocks)
            loose = []
            role = "heading" if re.fullmatch(r"h[1-6]", tag) else "paragraph"
            for part in child.text_content().split(_BREAK):
                text = normalize_space(part)
                if text:
                    blocks.append(TextBlock(text, role=role, tag=tag))  # type: ignore[arg-type]
        elif tag and child.xpath(".//p|.//li|.//h1|.//h2|.//h3|.//h4|.//blockquote|.//div"):
            _flush(loose, blocks)
            loose = []
            _fragment_walk(child, blocks)
        else:
            loose.append(child.text_content() if tag else "")
        loose.append(child.tail or "")
    _flush(loose, blocks)


def _flush(parts: list[str], blocks: list[TextBlock]) -> None:
    for line in "".join(parts).split(_BREAK):
        text = normalize_space(line)
        if text:
            blocks.append(TextBlock(text))


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    return normalize_space(value) or None


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None

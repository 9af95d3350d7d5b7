"""What main-text extraction left out of a page, each with the reason a reader would give.

trafilatura keeps the story and silently throws the rest away. For debugging a script, the
visible text blocks of the page that are not in the extracted body are listed too: the menu
("navigation"), photo captions, share bars, related boxes, the footer... A block's reason comes
from its text first (the cleanup rules: "cookie notice", "byline"), then from where it sits in
the page (a ``<nav>``, a ``<figcaption>``, an element whose class says ``share``), else it was
simply outside the main text.

The list is bounded (entries and characters), and neighbouring blocks of one box (the items of
a menu) are one entry, so a huge page never makes a huge script.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import lxml.html
from lxml import etree

from narration.script import Skipped
from narration.scripting import cleanup
from narration.scripting.blocks import TextBlock, normalize_space

MAX_ENTRIES = 60
MAX_TEXT = 300
TRUNCATED = "list truncated"
OUTSIDE = "page boilerplate (outside the main text)"
NAVIGATION = "navigation"
SIDEBAR = "sidebar"
FOOTER = "page footer"
HEADER = "page header"
FORM = "form or button"
AUTHOR_BOX = "author box"

# Elements that start a block of text on the page.
_BLOCK_TAGS = frozenset(
    {
        "p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption", "blockquote", "dt", "dd",
        "td", "th", "caption", "div", "section", "article", "aside", "nav", "header", "footer",
        "figure", "form", "pre", "address", "main", "ul", "ol", "dl", "table", "tr", "tbody",
        "thead", "tfoot", "details", "summary", "label", "button", "fieldset", "menu", "body",
    }
)  # fmt: skip
_NOT_SHOWN = (
    "script", "style", "noscript", "template", "svg", "head", "select", "iframe", "object",
)  # fmt: skip
_HIDDEN = (
    "//*[@hidden or @aria-hidden='true' or contains(@style,'none') or contains(@style,'hidden')]"
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_CAPTION_TAGS = {"figcaption": cleanup.CAPTION, "caption": cleanup.CAPTION}
_LANDMARK_TAGS = {
    "nav": NAVIGATION,
    "menu": NAVIGATION,
    "aside": SIDEBAR,
    "footer": FOOTER,
    "header": HEADER,
    "form": FORM,
    "button": FORM,
    "figure": cleanup.CAPTION,
}
_LANDMARK_ROLES = {
    "navigation": NAVIGATION,
    "menubar": NAVIGATION,
    "menu": NAVIGATION,
    "complementary": SIDEBAR,
    "contentinfo": FOOTER,
    "banner": HEADER,
    "search": FORM,
    "dialog": cleanup.UI_MESSAGE,
    "alertdialog": cleanup.UI_MESSAGE,
}
# Class and id words of page furniture, checked in this order (the first that matches wins).
_HINTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), reason)
    for pattern, reason in (
        (r"cookie|consent|gdpr|onetrust|cmp-", cleanup.COOKIE),
        (r"caption|credit", cleanup.CAPTION),
        (r"breadcrumb", cleanup.BREADCRUMB),
        (r"share|sharing|social", cleanup.SHARE),
        (r"newsletter|subscri|signup|sign-up|paywall|regwall|piano", cleanup.NEWSLETTER),
        (r"related|recommend|more-stories|morestories|read-more|readmore|outbrain|taboola"
         r"|most-popular|mostpopular|most-read|trending|teaser|promo-list", cleanup.RELATED),
        (r"comment|disqus|discussion|replies", cleanup.COMMENTS),
        (r"(?:^|[^a-z])(?:ad|ads|adslot|advert\w*|dfp|gpt|sponsor\w*)(?:$|[^a-z])"
         r"|advertis", cleanup.ADVERT),
        (r"byline|author-bio|author-info|authorbox|author-box|about-author", AUTHOR_BOX),
        (r"(?:^|[^a-z])(?:tags?|topics|keywords)(?:$|[^a-z])", cleanup.TAGS),
        (r"(?:^|[^a-z])(?:nav|navbar|navigation|menu|masthead|skip-?link)", NAVIGATION),
        (r"sidebar|(?:^|[^a-z])rail(?:$|[^a-z])|widget", SIDEBAR),
        (r"footer", FOOTER),
        (r"(?:^|[^a-z])(?:site-?)?header(?:$|[^a-z])", HEADER),
        (r"promo|banner|popup|modal|overlay", cleanup.PROMO),
    )
)  # fmt: skip
# Page furniture that confuses main-text extraction (a share bar under each post of a live blog
# makes the posts look like link lists) is marked by its class or id and pruned before it,
# when it is small enough to be only that. A social embed is pruned whatever its size: it
# reproduces a post with its handle, link and date, which read aloud as noise; a story that
# rests on a post quotes or reports it in its own sentences.
EMBED = "social media embed"
PRUNE_MARK = "data-narrator-furniture"
_FURNITURE = re.compile(
    r"(?P<embed>twitter-tweet|twitter-timeline|instagram-media|tiktok-embed|fb-post|fb-video"
    r"|bluesky-embed|threads-post|reddit-embed|embed-(?:twitter|instagram|facebook|tiktok|social)"
    r"|social-embed)"
    r"|(?P<share>(?:^|[^a-z])(?:share(?:bar|tools|buttons?|links|icons|this)?|sharing"
    r"|social-(?:share|links|icons|buttons|follow))(?:$|[^a-z]))"
    r"|(?P<cookie>cookie|consent|gdpr)"
    r"|(?P<newsletter>newsletter|signup|sign-up)"
    # A readers' comment thread, named as one whole class or id word: "comments-area",
    # "comment_body_6587", "commentlisting", "wp-block-post-comments", "disqus_thread". Not a
    # word that only mentions comments ("no-comments", "has-comments", "comment-count",
    # "commentonselection").
    r"|(?P<comments>(?:^|(?<=\s))"
    r"(?:(?!(?:no|has|with|show|hide|allow|enable|disable|open|closed|toggle|count)[-_])"
    r"[a-z0-9]+[-_]+)*[a-z0-9]*(?:comments?|disqus)"
    r"(?:[-_]*(?:list|listing|body|top|wrap|wrapper|area|thread|tree|content|section"
    r"|container|inner|holder|root|items?|form|respond|\d+|s))*(?=\s|$))"
)
# A thread is furniture whatever its size: readers' comments are never the story.
_FURNITURE_SIZE = {"embed": None, "share": 200, "cookie": 1000, "newsletter": 500, "comments": None}
# What holds a comment thread: a box or a list, never inline text.
_THREAD_TAGS = frozenset({"div", "section", "aside", "article", "footer", "ul", "ol", "li", "form"})
_TEXT_RULES = tuple(rule for rule in cleanup.BLOCK_RULES if rule is not cleanup.links)


def discarded_blocks(
    tree: lxml.html.HtmlElement,
    kept: Iterable[TextBlock],
    *,
    title: str | None = None,
    byline: str | None = None,
    dek: str | None = None,
) -> list[Skipped]:
    """The visible text blocks of ``tree`` that are not in ``kept`` (the extracted body), each
    with a reason. ``tree`` is changed: its invisible parts are removed first."""
    etree.strip_elements(tree, *_NOT_SHOWN, with_tail=False)
    for element in tree.xpath(_HIDDEN):
        if not _hidden(element):
            continue  # "border: none" hides nothing
        if element.getparent() is not None:
            element.drop_tree()
    body_keys = [key for block in kept if (key := cleanup.text_key(block.text))]
    joined = "\n" + "\n".join(f" {key} " for key in body_keys) + "\n"
    body_words = set(joined.split())
    body_set = set(body_keys)
    long_keys = [key for key in body_keys if len(key) >= 20]
    ctx = cleanup.Context(title=title, byline=byline, form="html")
    dek_key = cleanup.text_key(dek or "")

    entries: list[_Entry] = []
    seen: set[str] = set()
    places = _Places()
    for element, text in _visible_blocks(tree):
        key = cleanup.text_key(text)
        if not key or text in seen:
            continue
        words = key.split()
        if key in body_set:
            continue
        # Most furniture has a word the story never uses: a set lookup spares the search. A
        # menu item ("Live", "World") must be a whole block of the story, not just a word in
        # it; a table cell is always part of a row.
        if (
            (len(words) > 3 or element.tag in ("td", "th"))
            and body_words.issuperset(words)
            and f" {key} " in joined
        ):
            continue
        if len(key) >= 20 and any(part in key for part in long_keys):
            continue  # a box around story paragraphs, not furniture
        seen.add(text)
        where, box = places.of(element)
        last = entries[-1] if entries else None
        if last is not None and box is not None and last.box is box and last.reason == where:
            last.add(_shown(element, text))  # the next item of the same menu or box
            continue
        reason = (
            (cleanup.HEADLINE if dek_key and key == dek_key else None)
            or _text_reason(text, str(element.tag), ctx)
            or where
            or (cleanup.LINKS if _link_density(element, text) >= 0.8 else None)
            or OUTSIDE
        )
        if reason != where:
            box = element.getparent()
        if last is not None and last.box is box and last.reason == reason:
            last.add(_shown(element, text))
            continue
        if len(entries) == MAX_ENTRIES:
            return [*_skipped(entries), Skipped("more blocks not listed", TRUNCATED)]
        entries.append(_Entry(reason, [shown := _shown(element, text)], box, len(shown)))
    return list(_skipped(entries))


@dataclass
class _Entry:
    reason: str
    texts: list[str]
    box: object
    """The element the blocks share: blocks of one box in a row become one entry."""
    size: int = 0

    def add(self, text: str) -> None:
        if self.size <= MAX_TEXT:  # the rest would be cut anyway
            self.texts.append(text)
            self.size += len(text) + 3


def _skipped(entries: list[_Entry]) -> Iterator[Skipped]:
    for entry in entries:
        text = " | ".join(entry.texts)
        if len(text) > MAX_TEXT:
            text = text[: MAX_TEXT - 1].rstrip() + "\u2026"
        yield Skipped(text, entry.reason)


def _shown(element: lxml.html.HtmlElement, text: str) -> str:
    """A block as the list shows it: the words of neighbouring links and buttons apart
    ("Share Copy link", where the page's text runs them together as "ShareCopy link")."""
    if len(element) == 0 or any(child.tag in _BLOCK_TAGS for child in element):
        return text
    return normalize_space(" ".join(element.itertext())) or text


def _hidden(element: lxml.html.HtmlElement) -> bool:
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    return bool(_HIDDEN_STYLE.search(element.get("style") or ""))


def _visible_blocks(tree: lxml.html.HtmlElement) -> Iterator[tuple[lxml.html.HtmlElement, str]]:
    """Each block element's own text, in page order: all of it for an element with no block
    inside, else the loose text between its inner blocks ("Menu" in ``<div>Menu<ul>..``)."""
    containers: set[lxml.html.HtmlElement] = set()
    for element in tree.iter(*_BLOCK_TAGS):
        parent = element.getparent()
        while parent is not None and parent not in containers:
            containers.add(parent)
            parent = parent.getparent()
    for element in tree.iter(*_BLOCK_TAGS):
        if element in containers:
            parts = [element.text or ""]
            for child in element:
                tag = child.tag
                if isinstance(tag, str) and tag not in _BLOCK_TAGS and child not in containers:
                    parts.append(child.text_content())
                parts.append(child.tail or "")
            text = normalize_space(" ".join(parts))
        else:
            text = normalize_space(element.text_content())
        if text:
            yield element, text


def mark_furniture(tree: lxml.html.HtmlElement) -> str | None:
    """Mark the page's social embeds, share bars, cookie banners and newsletter boxes; return
    an XPath of the marked elements for extraction to prune, or None when there are none."""
    marked = False
    for element in tree.xpath("//body//*[@class or @id]"):
        match = _FURNITURE.search(f"{element.get('class') or ''} {element.get('id') or ''}".lower())
        if match is None or match.lastgroup is None:
            continue
        if match.lastgroup == "comments" and (
            element.tag not in _THREAD_TAGS
            or element.xpath("ancestor::pre or ancestor::code or .//h1")
        ):
            # A comment in a code listing ("hljs-comment"), a comment count, or a box that
            # holds the headline: the story's own wrapper, whatever its class says.
            continue
        limit = _FURNITURE_SIZE[match.lastgroup]
        if limit is not None and len(element.text_content()) > limit:
            continue  # a wrapper around more than the widget
        element.set(PRUNE_MARK, match.lastgroup)
        marked = True
    return f"//*[@{PRUNE_MARK}]" if marked else None


def _text_reason(text: str, tag: str, ctx: cleanup.Context) -> str | None:
    """What the block says it is ("Share", "© 2025 ...", the headline again), if anything."""
    probe = TextBlock(text, tag=tag)
    return next((reason for rule in _TEXT_RULES if (reason := rule(probe, ctx))), None)


class _Places:
    """Where a block sits: the nearest enclosing element that says what it holds (a ``<nav>``,
    a ``<figcaption>``, ``class="share-bar"``), remembered per element for the page."""

    def __init__(self) -> None:
        self._known: dict[etree._Element, tuple[str | None, etree._Element | None]] = {}

    def of(self, element: etree._Element) -> tuple[str | None, etree._Element | None]:
        chain: list[etree._Element] = []
        node: etree._Element | None = element
        found: tuple[str | None, etree._Element | None] = (None, None)
        while node is not None and node.tag not in ("body", "html"):
            if node in self._known:
                found = self._known[node]
                break
            chain.append(node)
            if reason := _where(node):
                found = (reason, node)
                break
            node = node.getparent()
        for visited in chain:
            self._known[visited] = found
        return found


def _where(element: lxml.html.HtmlElement) -> str | None:
    if element.get(PRUNE_MARK) == "embed":
        return EMBED
    tag = str(element.tag)
    if tag in _CAPTION_TAGS:
        return _CAPTION_TAGS[tag]
    role = (element.get("role") or "").strip().lower()
    if role in _LANDMARK_ROLES:
        return _LANDMARK_ROLES[role]
    names = f"{element.get('class') or ''} {element.get('id') or ''}".lower()
    if names.strip():
        for pattern, reason in _HINTS:
            if pattern.search(names):
                return reason
    return _LANDMARK_TAGS.get(tag)


def _link_density(element: lxml.html.HtmlElement, text: str) -> float:
    if any(child.tag in _BLOCK_TAGS for child in element):
        return 0.0  # ``text`` is only the loose text of a box: its links may be elsewhere
    linked = sum(len(normalize_space(a.text_content())) for a in element.iter("a"))
    return min(1.0, linked / max(len(text), 1))

"""Social posts a story quotes: read their words with a spoken attribution.

A story that embeds a post (a tweet, an Instagram or Bluesky post) quotes it: its words are part
of the story. The embed also carries what is noise when read aloud: the handle, links, the date
line. Each embed with a post text and an author becomes one paragraph of the page,
"Posted by NAME: TEXT", before extraction; an embed with neither stays page furniture.
"""

from __future__ import annotations

import re

import lxml.html

from narration.scripting.blocks import normalize_space

_POST_CLASS = re.compile(
    r"twitter-tweet|instagram-media|bluesky-embed|threads-post|tiktok-embed|embed-(?:twitter"
    r"|instagram|social)|social-embed"
)
# "— Joe Whitlock (@joewhitlock4) November 12, 2023", "A post shared by Name (@handle)"
_AUTHOR = re.compile(
    r"(?:^|[\u2014\u2013-]|posted by|shared by)\s*(?P<name>[^\W\d_][^()@\n]{0,60}?)\s*"
    r"\(@[\w.]+\)",
    re.I,
)
_URLISH = re.compile(r"^(?:https?://|www\.|pic\.twitter\.com|t\.co/)\S*$", re.I)
_STRAY_URL = re.compile(r"(?:https?://|pic\.twitter\.com/|www\.)\S+", re.I)
ATTRIBUTION = "Posted by {name}:"


def quote_posts(tree: lxml.html.HtmlElement) -> None:
    """Rewrite each social post embed in ``tree`` as a ``<p>`` of its attributed words."""
    for element in tree.xpath("//body//blockquote[@class]"):
        if not _POST_CLASS.search(element.get("class", "").lower()):
            continue
        paragraphs = element.xpath(".//p")
        if not paragraphs:
            continue
        post = paragraphs[0]
        for link in post.xpath(".//a"):
            if _URLISH.match(normalize_space(link.text_content())):
                link.drop_tree()
        words = normalize_space(_STRAY_URL.sub(" ", post.text_content()))
        rest = normalize_space(element.text_content().replace(post.text_content(), " ", 1))
        author = _AUTHOR.search(rest)
        if not words or author is None:
            continue
        name = normalize_space(author.group("name")).strip(" ,:")
        quoted = lxml.html.Element("p")
        quoted.text = f"{ATTRIBUTION.format(name=name)} {words}"
        quoted.tail = element.tail
        parent = element.getparent()
        if parent is not None:
            parent.replace(element, quoted)

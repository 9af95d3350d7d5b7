"""Which blocks of a whole HTML page are the story: a block classifier over the page's DOM.

trafilatura alone sometimes finds only part of a story (a page split into several containers)
or takes far too much (a page whose comments or teasers look like prose). Filtering its output
can only fix the second kind. This model looks at every block of the page instead (each element
with its own text: p, li, headings, quotes, table rows, divs with direct text, in document
order) and decides from what a page cannot fake: the block's shape (length, sentence endings,
function words, link text), where it sits in the markup (its tag, the landmarks and the
class/id words of its ancestors, mapped into a few groups as data), where it sits in the page
(position, inside the element that holds most of the page's long paragraphs, distance from the
headline), and the votes of two extractors (trafilatura as the script calls it, trafilatura's
readability port) and of the cleanup rules. Two stages of
gradient-boosted trees, as in the line model: the second smooths the first's scores along the
page; four such members (fitted on every dev page and on three overlapping two-thirds of them)
are averaged. Blocks in a readers' comment thread and figure captions are never kept. Fitted by
``train_blocks``; ships as JSON (``block_model.json``); runs with numpy alone.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, ClassVar

import lxml.html
import numpy as np
from lxml import etree

from narration.scripting import cleanup
from narration.scripting.blocks import BlockRole, TextBlock, normalize_space
from narration.scripting.line_model import FUNCTION_WORDS, TwoStageModel

MODEL_PATH = Path(__file__).with_name("block_model.json")

_NOT_SHOWN = (
    "script", "style", "noscript", "template", "svg", "head", "select", "iframe", "object",
    "embed", "canvas", "video", "audio", "button", "input", "textarea", "option",
)  # fmt: skip
# Elements that start a block of text; everything else is inline and joins its block.
_BLOCK_TAGS = frozenset(
    {
        "p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption", "blockquote", "dt", "dd",
        "caption", "div", "section", "article", "aside", "nav", "header", "footer", "figure",
        "form", "pre", "address", "main", "ul", "ol", "dl", "table", "tbody", "thead", "tfoot",
        "details", "summary", "fieldset", "menu", "body", "html", "center", "hgroup", "tr",
        "td", "th",
    }
)  # fmt: skip
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# The tag of a block, in groups.
_TAG_GROUPS: tuple[tuple[str, ...], ...] = (
    ("p",),
    ("li", "dd", "dt"),
    ("h1",),
    ("h2", "h3", "h4", "h5", "h6"),
    ("blockquote", "pre"),
    ("tr", "td", "th", "caption"),
    ("figcaption",),
    ("div", "section", "article", "main", "body", "center", "html"),
)
_TAG_GROUP = {tag: i for i, tags in enumerate(_TAG_GROUPS) for tag in tags}
# Landmark tags among a block's ancestors.
_PATH_TAGS = (
    "article", "main", "section", "aside", "nav", "header", "footer", "form", "figure", "li",
    "table", "blockquote", "a",
)  # fmt: skip
_PATH_BIT = {tag: 1 << i for i, tag in enumerate(_PATH_TAGS)}
# Class and id words of ancestors, in semantic groups (data, not per site).
_CLASS_GROUPS: tuple[tuple[str, str], ...] = (
    ("content", r"content|article|body|post|entry|story|text|main|prose|richtext|paragraph"),
    ("nav", r"nav|menu|breadcrumb|skip"),
    ("footer", r"footer|copyright|colophon"),
    ("header", r"header|masthead|topbar|banner"),
    ("sidebar", r"sidebar|widget|aside|rail"),
    ("related", r"related|recommend|popular|trending|teaser|readmore|^cards$|^feeds?$"),
    ("comment", r"comment|disqus|reply|replies|discussion"),
    ("share", r"share|social|follow|sharing"),
    ("ad", r"^ad$|^ads$|advert|sponsor|dfp|gpt|outbrain|taboola"),
    ("newsletter", r"newsletter|subscri|signup|paywall|promo|cta"),
    ("cookie", r"cookie|consent|gdpr"),
    ("caption", r"caption|credit|figure|media|image|photo|gallery|video"),
    ("byline", r"byline|author|meta|date|time|dateline|info"),
    ("tag", r"^tags?$|topic|categor|keyword"),
    ("modal", r"modal|popup|overlay|dialog|toast|alert"),
    ("title", r"title|headline|heading|hed"),
)
_CLASS_PATTERNS = tuple(re.compile(p) for _, p in _CLASS_GROUPS)
_CLASS_TOKEN = re.compile(r"[a-z]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_TOKEN = re.compile(r"\w+", re.UNICODE)
_ALPHA = re.compile(r"[^\W\d_]+", re.UNICODE)
_TERMINAL = tuple(".!?\u3002\uff01\uff1f\u2026\"'\u201d\u2019\u00bb)")
_FURNITURE_MARK = "data-narrator-furniture"
EXTRACTORS = ("trafilatura", "readability")
N_VOTES = len(EXTRACTORS)


@dataclass
class DomBlock:
    """A block of the page: its text and where it sits."""

    text: str
    tag: str
    link_chars: int
    depth: int
    ancestors: list[etree._Element] = field(repr=False)
    """The block's element first, then its ancestors up to the root."""

    @property
    def role(self) -> BlockRole:
        return "heading" if self.tag in _HEADINGS else "paragraph"

    def text_block(self) -> TextBlock:
        density = min(1.0, self.link_chars / max(len(self.text), 1))
        tag = {"tr": "row", "td": "row", "th": "row"}.get(self.tag, self.tag)
        return TextBlock(self.text, role=self.role, tag=tag, link_density=density)


def visible_copy(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """A copy of the page without what is never shown, each line break a space."""
    page = copy.deepcopy(tree)
    etree.strip_elements(page, *_NOT_SHOWN, etree.Comment, with_tail=False)
    for element in page.xpath("//*[@hidden or @aria-hidden='true']"):
        if element.getparent() is not None and element.tag not in ("html", "body"):
            element.drop_tree()
    # A line break parts words as a space does: "asked<br>7 On Your Side" is two words to a
    # listener, and an inline element's text_content() would join them.
    for br in page.iter("br"):
        br.tail = " " + (br.tail or "")
    return page


def dom_blocks(page: lxml.html.HtmlElement) -> list[DomBlock]:
    """Every element's own text, in document order (``page`` from ``visible_copy``)."""
    blocks: list[DomBlock] = []
    body = page.find(".//body")
    _walk(body if body is not None else page, [], blocks)
    return blocks


def _link_chars(element: etree._Element) -> int:
    """The characters of link text in ``element``."""
    return sum(len(normalize_space(a.text_content())) for a in element.iter("a"))


def _tag(element: etree._Element) -> str:
    return element.tag.lower() if isinstance(element.tag, str) else ""


def _walk(element: etree._Element, chain: list[etree._Element], out: list[DomBlock]) -> None:
    chain = [element, *chain]
    tag = _tag(element)
    if tag == "tr" and not element.xpath(".//table|.//p|.//div|.//li"):
        cells = [normalize_space(cell.text_content()) for cell in element]
        text = " ".join(c for c in cells if c)
        if text:
            linked = _link_chars(element)
            out.append(DomBlock(text, "tr", linked, len(chain), chain))
        return
    parts: list[str] = [element.text or ""]
    linked = 0

    def flush() -> None:
        nonlocal parts, linked
        text = normalize_space("".join(parts))
        if text:
            out.append(DomBlock(text, tag, linked, len(chain), chain))
        parts, linked = [], 0

    for child in element:
        ctag = _tag(child)
        if ctag in _BLOCK_TAGS or (ctag and child.find(".//p") is not None):
            flush()
            _walk(child, chain, out)
        elif ctag:
            text = child.text_content()
            parts.append(text)
            linked += _link_chars(child)
        parts.append(child.tail or "")
    flush()


# --- votes ---------------------------------------------------------------------------------


def _shingles(tokens: list[str]) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3)}


def coverage(texts: Sequence[str], output: str) -> np.ndarray:
    """For each block, the share of its 4-word shingles in an extractor's ``output`` (a block
    of fewer than four words: whether its words appear in that order)."""
    return votes_of(texts, [output])[:, 0]


def votes_of(texts: Sequence[str], outputs: Sequence[str]) -> np.ndarray:
    """``coverage`` of the blocks in each of ``outputs``: one column an output (each block's
    words are read once)."""
    out = np.zeros((len(texts), len(outputs)))
    found = []
    for output in outputs:
        tokens = [w.lower() for w in _TOKEN.findall(output)]
        found.append((_shingles(tokens), " " + " ".join(tokens) + " "))
    for i, text in enumerate(texts):
        ws = [w.lower() for w in _TOKEN.findall(text)]
        if len(ws) >= 4:
            own = _shingles(ws)
            for j, (shingles, _) in enumerate(found):
                out[i, j] = len(own & shingles) / len(own)
        elif ws:
            short = f" {' '.join(ws)} "
            for j, (_, joined) in enumerate(found):
                out[i, j] = float(short in joined)
    return out


def extractor_outputs(tree: lxml.html.HtmlElement, main_text: str) -> list[str]:
    """The text each extractor of ``EXTRACTORS`` takes from ``tree`` (the first is the
    script's own trafilatura call, passed in). A third vote, trafilatura favouring recall,
    cost a second trafilatura run a page and did not help on held-out pages."""
    from trafilatura.readability_lxml import Document as Readability

    try:
        summary = Readability(copy.deepcopy(tree)).summary()
        readable = lxml.html.fromstring(summary).text_content() if summary.strip() else ""
    except (etree.ParserError, ValueError, TypeError):
        readable = ""
    return [main_text, readable]


# --- features ------------------------------------------------------------------------------


class _AncestorMarks:
    """What a block's ancestors say (their class-word groups, their landmark tags, whether the
    page's main element is among them), worked out once an element for the whole page: the
    blocks of a page share most of their ancestors."""

    def __init__(self) -> None:
        self._own: dict[etree._Element, int] = {}
        self._groups: dict[etree._Element, int] = {}
        self._tags: dict[etree._Element, int] = {}
        self._inside: dict[etree._Element, bool] = {}

    def own_groups(self, element: etree._Element) -> int:
        """A bit mask of the class groups an element's class and id words fall in."""
        mask = self._own.get(element)
        if mask is None:
            words = f"{element.get('class') or ''} {element.get('id') or ''}"
            words += f" {element.get('role') or ''} {element.get('itemprop') or ''}"
            mask = _word_groups(words)
            if element.get(_FURNITURE_MARK):
                mask |= 1 << len(_CLASS_PATTERNS)
            self._own[element] = mask
        return mask

    def groups(self, chain: Sequence[etree._Element], k: int) -> int:
        """The class groups of ``chain[k]`` and everything above it."""
        if k >= len(chain):
            return 0
        element = chain[k]
        mask = self._groups.get(element)
        if mask is None:
            mask = self.own_groups(element) | self.groups(chain, k + 1)
            self._groups[element] = mask
        return mask

    def path_tags(self, chain: Sequence[etree._Element], k: int) -> int:
        """A bit mask of the landmark tags (``_PATH_TAGS``) of ``chain[k]`` and above it."""
        if k >= len(chain):
            return 0
        element = chain[k]
        mask = self._tags.get(element)
        if mask is None:
            mask = _PATH_BIT.get(_tag(element), 0) | self.path_tags(chain, k + 1)
            self._tags[element] = mask
        return mask

    def inside(self, chain: Sequence[etree._Element], k: int, main: etree._Element) -> bool:
        """Whether ``main`` is ``chain[k]`` or above it."""
        if k >= len(chain):
            return False
        element = chain[k]
        found = self._inside.get(element)
        if found is None:
            found = element is main or self.inside(chain, k + 1, main)
            self._inside[element] = found
        return found


class RepeatedUnits:
    """The nearest ancestor of a block that is one of several like siblings (the same tag and
    class): an item of a list of records. Teaser cards under a story and the items of a
    round-up are both such items; how much of an item is link text, and how long it is,
    tells them apart where the block alone does not (an excerpt under a linked headline)."""

    _LEVELS = 6
    _MIN_SIBLINGS = 3

    def __init__(self) -> None:
        self._counts: dict[etree._Element, dict[tuple[str, str], int]] = {}
        self._sizes: dict[etree._Element, tuple[int, int]] = {}

    def features(self, chain: Sequence[etree._Element]) -> list[float]:
        """Levels up to the unit, its like siblings (log), its link density, its size (log);
        -1 each for a block in no such unit."""
        for level, element in enumerate(chain[: self._LEVELS]):
            parent = element.getparent()
            if parent is None:
                break
            count = self._siblings(parent).get(_signature(element), 0)
            if count >= self._MIN_SIBLINGS:
                chars, linked = self._size(element)
                return [float(level), math.log(count), linked / max(chars, 1), math.log1p(chars)]
        return [-1.0, -1.0, -1.0, -1.0]

    def _siblings(self, parent: etree._Element) -> dict[tuple[str, str], int]:
        counts = self._counts.get(parent)
        if counts is None:
            counts = {}
            for child in parent:
                if isinstance(child.tag, str):
                    key = _signature(child)
                    counts[key] = counts.get(key, 0) + 1
            self._counts[parent] = counts
        return counts

    def _size(self, element: etree._Element) -> tuple[int, int]:
        size = self._sizes.get(element)
        if size is None:
            chars = len(normalize_space(element.text_content()))
            linked = _link_chars(element)
            size = self._sizes[element] = (chars, min(linked, chars))
        return size


def _signature(element: etree._Element) -> tuple[str, str]:
    return _tag(element), " ".join(sorted((element.get("class") or "").split()))


@lru_cache(maxsize=4096)
def _word_groups(words: str) -> int:
    mask = 0
    for token in _CLASS_TOKEN.findall(_CAMEL.sub(" ", words).lower()):
        mask |= _token_groups(token)
    return mask


@lru_cache(maxsize=16384)
def _token_groups(token: str) -> int:
    """The class groups one class or id word falls in (pages share their words)."""
    return sum(1 << g for g, pattern in enumerate(_CLASS_PATTERNS) if pattern.search(token))


N_GROUPS = len(_CLASS_GROUPS) + 1
_OWN = 13
N_OWN = _OWN + len(_TAG_GROUPS) + len(_PATH_TAGS) + 2 * N_GROUPS + N_VOTES + 12
_NEIGHBOUR_COLUMNS = (0, 2, 3, 4, 5)  # log size, terminal, function words, links, rule
_OFFSETS = (-2, -1, 1, 2)
VOTE_COLUMN = _OWN + len(_TAG_GROUPS) + len(_PATH_TAGS) + 2 * N_GROUPS
"""The column of the first extractor vote (trafilatura as the script calls it)."""
N_FEATURES = N_OWN + len(_OFFSETS) * (len(_NEIGHBOUR_COLUMNS) + N_VOTES) + 6


def _is_long(text: str) -> bool:
    return len(text) >= 150 and text.rstrip().endswith(_TERMINAL)


def block_features(
    blocks: Sequence[DomBlock], votes: np.ndarray, title: str | None = None
) -> np.ndarray:
    """One row of ``N_FEATURES`` per block; ``votes`` is (blocks, N_VOTES) coverage."""
    n = len(blocks)
    if n == 0:
        return np.zeros((0, N_FEATURES))
    texts = [b.text for b in blocks]
    sizes = np.array([len(t) for t in texts], dtype=float)
    total = max(sizes.sum(), 1.0)
    before = (np.cumsum(sizes) - sizes) / total
    # The element that holds most of the page's long paragraphs: the deepest ancestor with at
    # least half of their text.
    long_text: dict[etree._Element, float] = {}
    long_total = 0.0
    for b in blocks:
        if _is_long(b.text):
            long_total += len(b.text)
            for a in b.ancestors[1:]:
                long_text[a] = long_text.get(a, 0.0) + len(b.text)
    main: etree._Element | None = None
    if long_total:
        best_depth = -1
        for element, size in long_text.items():
            if size >= 0.5 * long_total:
                depth = len(list(element.iterancestors()))
                if depth > best_depth:
                    main, best_depth = element, depth
    main_depth = len(list(main.iterancestors())) if main is not None else 0
    # The headline: the first h1, else the first heading like the title.
    title_words = set(_TOKEN.findall((title or "").lower()))
    anchor = next((i for i, b in enumerate(blocks) if b.tag == "h1"), -1)
    if anchor < 0 and title_words:
        for i, b in enumerate(blocks[:400]):
            seen = set(_TOKEN.findall(b.text.lower()))
            if len(b.text) < 300 and seen and len(seen & title_words) >= 0.7 * len(seen):
                anchor = i
                break
    probe = cleanup.Context(title=title or None, form="html")
    marks = _AncestorMarks()
    units = RepeatedUnits()
    rule_hits: dict[tuple[str, str, str, float], bool] = {}
    own = np.zeros((n, N_OWN))
    for i, b in enumerate(blocks):
        ws = _TOKEN.findall(b.text)
        words = _ALPHA.findall(b.text)
        nw = max(len(ws), 1)
        block = b.text_block()
        # A page repeats its furniture: each distinct block is checked by the rules once.
        key = (block.text, block.tag, block.role, block.link_density)
        rule_hit = rule_hits.get(key)
        if rule_hit is None:
            rule_hit = rule_hits[key] = any(rule(block, probe) for rule in cleanup.BLOCK_RULES)
            probe.found_byline = None
        row = [
            math.log1p(sizes[i]),
            math.log1p(len(ws)),
            float(b.text.rstrip().endswith(_TERMINAL)),
            sum(1 for w in ws if w.lower() in FUNCTION_WORDS) / nw,
            block.link_density,
            float(rule_hit),
            sum(b.text.count(c) for c in ".!?\u3002") / nw,
            sum(1 for w in words if w[0].isupper()) / max(len(words), 1),
            sum(c.isdigit() for c in b.text) / max(len(b.text), 1),
            i / n,
            before[i],
            float(b.depth),
            math.log(n),
        ]
        group = _TAG_GROUP.get(b.tag, -1)
        row += [float(group == g) for g in range(len(_TAG_GROUPS))]
        tags = marks.path_tags(b.ancestors, 1)
        row += [float(tags >> t & 1) for t in range(len(_PATH_TAGS))]
        anywhere = marks.groups(b.ancestors, 0)
        near = 0
        for a in b.ancestors[:3]:
            near |= marks.own_groups(a)
        row += [float(anywhere >> g & 1) for g in range(N_GROUPS)]
        row += [float(near >> g & 1) for g in range(N_GROUPS)]
        row += list(votes[i])
        inside = main is not None and marks.inside(b.ancestors, 0, main)
        row += [
            float(inside),
            float(b.depth - (main_depth + 1)) if inside else -10.0,
            (i - anchor) / n if anchor >= 0 else 2.0,
            float(max(-60, min(60, i - anchor))) if anchor >= 0 else 80.0,
            float(anchor >= 0 and i < anchor),
            float(_is_long(b.text)),
            long_text.get(b.ancestors[1], 0.0) / long_total if long_total and b.depth > 1 else 0,
            float(votes[i].mean() > 0.5),
        ]
        row += units.features(b.ancestors)
        own[i] = row
    neighbour = np.column_stack([own[:, list(_NEIGHBOUR_COLUMNS)], votes])
    pad = np.vstack(
        [np.full((2, neighbour.shape[1]), -1.0), neighbour, np.full((2, neighbour.shape[1]), -1.0)]
    )
    shifted = [pad[2 + k : 2 + k + n] for k in _OFFSETS]
    story_votes = votes.mean(axis=1) * sizes
    vote_total = max(story_votes.sum(), 1.0)
    vote_before = (np.cumsum(story_votes) - story_votes) / vote_total
    longs = np.array([_is_long(t) for t in texts], dtype=float) * sizes
    long_before = (np.cumsum(longs) - longs) / max(longs.sum(), 1.0)
    page = np.column_stack(
        [
            vote_before,
            1.0 - vote_before - story_votes / vote_total,
            long_before,
            1.0 - long_before - longs / max(longs.sum(), 1.0),
            np.full(n, votes[:, 0].dot(sizes) / total),
            np.full(n, float(long_total) / total),
        ]
    )
    return np.column_stack([own, *shifted, page])


_SMOOTH_OFFSETS = (-3, -2, -1, 1, 2, 3)


def smoothing_features(x: np.ndarray, first: np.ndarray) -> np.ndarray:
    """The second stage sees each block's first-stage score with its neighbours' and how much
    of the page's likely story lies before and after it."""
    n = len(first)
    p = _sigmoid(first)
    pad = np.concatenate([np.full(3, -8.0), first, np.full(3, -8.0)])
    shifted = [pad[3 + k : 3 + k + n] for k in _SMOOTH_OFFSETS]
    csum = np.concatenate([[0.0], np.cumsum(p)])

    def window(r: int) -> np.ndarray:
        lo = np.clip(np.arange(n) - r, 0, n)
        hi = np.clip(np.arange(n) + r + 1, 0, n)
        return np.asarray((csum[hi] - csum[lo]) / (hi - lo))

    story = p * np.expm1(x[:, 0])
    total = max(story.sum(), 1.0)
    story_before = (np.cumsum(story) - story) / total
    return np.column_stack(
        [
            first,
            *shifted,
            window(5),
            window(10),
            story_before,
            1.0 - story_before - story / total,
            x[:, :6],
        ]
    )


def _sigmoid(raw: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(raw, -30, 30))))


# --- the model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockTrees(TwoStageModel):
    """One member of the block model: two stages of trees."""

    FEATURES: ClassVar[int] = N_FEATURES
    TRAINER: ClassVar[str] = "train_blocks"

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        first = self.first.raw(x)
        return _sigmoid(self.second.raw(smoothing_features(x, first)))


@dataclass(frozen=True)
class BlockModel:
    """Members fitted on the whole training set and on overlapping parts of it; a block's
    probability is their mean. One model's verdict on a kind of block it saw on few pages (the
    items of a round-up, a teaser under the story) flips as pages are added or taken away;
    the mean of models that saw different pages is steadier on pages none of them saw."""

    members: tuple[BlockTrees, ...]
    threshold: float = 0.5
    bridge: float = 0.5
    """A block between two story blocks is story from this lower probability on: a paragraph
    of the story that reads like furniture (a price list, a line of links) is rarely set
    between two paragraphs of it, and furniture seldom is (jusText's "near-good" blocks)."""

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        return np.asarray(np.mean([m.probabilities(x) for m in self.members], axis=0))

    def story(self, x: np.ndarray) -> np.ndarray:
        """Which blocks are the story: over the threshold, or over the bridge between two."""
        p = self.probabilities(x)
        keep = p >= self.threshold
        between = np.zeros_like(keep)
        between[1:-1] = keep[:-2] & keep[2:]
        return keep | (between & (p >= self.bridge))

    def to_json(self) -> dict[str, Any]:
        return {
            "features": N_FEATURES,
            "threshold": self.threshold,
            "bridge": self.bridge,
            "members": [m.to_json() for m in self.members],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BlockModel:
        if data.get("features") != N_FEATURES or "members" not in data:
            raise ValueError("the model was fitted on other features: run train_blocks")
        members = tuple(BlockTrees.from_json(m) for m in data["members"])
        return cls(members, float(data["threshold"]), float(data["bridge"]))


@cache
def shipped_model() -> BlockModel | None:
    if not MODEL_PATH.exists():
        return None
    return BlockModel.from_json(json.loads(MODEL_PATH.read_text()))


_override: list[BlockModel | None] = []


@contextmanager
def using(model: BlockModel | None) -> Iterator[None]:
    """Score with ``model`` instead of the shipped one (None: rules alone)."""
    _override.append(model)
    try:
        yield
    finally:
        _override.pop()


def current_model() -> BlockModel | None:
    return _override[-1] if _override else shipped_model()


@dataclass
class PageBlocks:
    blocks: list[DomBlock]
    x: np.ndarray
    main_text: str

    def in_comment_thread(self) -> np.ndarray:
        """Which blocks sit in a readers' comment thread (marked by
        ``discarded.mark_furniture``). They are never the story, however much they read like
        it; the model still sees them, as the prose-like text that is not the story."""
        return np.array([any(_in_thread(e) for e in b.ancestors) for b in self.blocks], bool)

    def in_caption(self) -> np.ndarray:
        """Which blocks are a figure's caption. A caption tells what a picture shows, and the
        listener sees no picture; the script's other ways into a page never read one either (a
        CMS body drops ``<figcaption>``, trafilatura leaves figures out)."""
        captions = [any(_tag(e) == "figcaption" for e in b.ancestors) for b in self.blocks]
        return np.array(captions, bool)


def _in_thread(element: etree._Element) -> bool:
    return element.get(_FURNITURE_MARK) == "comments"


# A page of fewer blocks than this is left to trafilatura and the rules: the model was fitted on
# whole pages of news and blog sites (a tenth of them have fewer than 60 blocks), and a snippet
# or a bare page is unlike them.
MIN_BLOCKS = 50


def page_blocks(
    tree: lxml.html.HtmlElement, main_text: str, title: str | None = None, min_blocks: int = 0
) -> PageBlocks | None:
    """The DOM blocks of ``tree`` and their features (``main_text``: what the script's own
    trafilatura call took from the page); None for a page of fewer than ``min_blocks``."""
    blocks = dom_blocks(visible_copy(tree))
    if len(blocks) < min_blocks:
        return None
    votes = votes_of([b.text for b in blocks], extractor_outputs(tree, main_text))
    return PageBlocks(blocks, block_features(blocks, votes, title), main_text)

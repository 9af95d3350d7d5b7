"""Which lines of a page copied from a browser are the story: a small line classifier.

Text selected and copied from a browser has one block a line: the menu, the headline, the
byline, the story, related links, the footer. Rules recognise furniture by its words; this model
recognises the story by its shape, which no page can fake: how long a line is, whether it ends
like a sentence, its share of function words and of capitalised words, its neighbours, how
often it repeats, and where it sits relative to the headline (the line that repeats the page
title at the top of the copy) and to the first byline or date line under it.

Two stages of gradient-boosted trees: the first scores each line from its own features, the
second smooths the scores along the page (a line between story lines is story; a run of short
lines after the story is the footer). The trees are fitted by ``train_lines`` on the dev corpus
and ship as JSON (``line_model.json``); they run here with numpy alone.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from narration.scripting import cleanup
from narration.scripting.blocks import TextBlock

MODEL_PATH = Path(__file__).with_name("line_model.json")

_TOKEN = re.compile(r"\w+", re.UNICODE)
_ALPHA = re.compile(r"[^\W\d_]+", re.UNICODE)
_WIDE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_TERMINAL = tuple(".!?\u3002\uff01\uff1f\u2026\"'\u201d\u2019\u00bb)")
_LIST_MARK = re.compile(r"^(?:[-\u2022\u00b7*\u2013\u2014]\s|\d{1,2}[.)]\s|[a-z][.)]\s)")
_LINKISH = re.compile(r"https?://|www\.|@\w|#\w", re.I)
_DATE = re.compile(
    r"\b(?:19|20)\d\d\b|\b\d{1,2}[:.]\d\d\b|\b(?:" + cleanup.MONTHS + r")\b\.?", re.I
)

# Function words of the languages the service reads most: their share tells running prose
# ("the", "of", "und", "de") from menus, tags and headings.
FUNCTION_WORDS = frozenset(
    word
    for line in Path(__file__).with_name("function_words.txt").read_text().splitlines()
    if not line.startswith("#")
    for word in line.split()
)

N_FEATURES = 34
_STAGE2_OFFSETS = (-3, -2, -1, 1, 2, 3)


@dataclass(frozen=True)
class Trees:
    """A gradient-boosted ensemble: ``raw = bias + rate * sum(leaf values)``."""

    bias: float
    rate: float
    feature: np.ndarray  # (trees, nodes) int; -1 at a leaf
    threshold: np.ndarray  # (trees, nodes) float
    left: np.ndarray  # (trees, nodes) int
    right: np.ndarray  # (trees, nodes) int
    value: np.ndarray  # (trees, nodes) float
    depth: int

    def raw(self, x: np.ndarray) -> np.ndarray:
        # The trees were fitted on float32 features: compare as they were compared then.
        x = x.astype(np.float32).astype(np.float64)
        feature, threshold, left, right, value, start = self._flat
        # All trees walk all rows at once, a level a step; a leaf leads to itself.
        node = np.repeat(start[:, None], x.shape[0], axis=1)
        rows = np.arange(x.shape[0])[None, :]
        for _ in range(self.depth):
            go_left = x[rows, feature[node]] <= threshold[node]
            node = np.where(go_left, left[node], right[node])
        leaves = value[node]
        total = np.zeros(x.shape[0])
        for t in range(leaves.shape[0]):  # summed tree by tree
            total += leaves[t]
        return self.bias + self.rate * total

    @cached_property
    def _flat(self) -> tuple[np.ndarray, ...]:
        """The trees' nodes in one table (tree t's node k at ``t * width + k``), each leaf a
        node whose both children are itself and whose test any number passes."""
        trees, width = self.feature.shape
        start = np.arange(trees, dtype=np.int64) * width
        leaf = (self.feature < 0).ravel()
        here = np.arange(trees * width, dtype=np.int64)
        feature = np.where(leaf, 0, self.feature.ravel())
        threshold = np.where(leaf, np.inf, self.threshold.ravel())
        left = np.where(leaf, here, (self.left + start[:, None]).ravel())
        right = np.where(leaf, here, (self.right + start[:, None]).ravel())
        return feature, threshold, left, right, self.value.ravel(), start

    def to_json(self) -> dict[str, Any]:
        return {
            "bias": self.bias,
            "rate": self.rate,
            "depth": self.depth,
            "trees": [
                {
                    "feature": self.feature[t].tolist(),
                    "threshold": self.threshold[t].tolist(),
                    "left": self.left[t].tolist(),
                    "right": self.right[t].tolist(),
                    "value": [round(v, 6) for v in self.value[t].tolist()],
                }
                for t in range(self.feature.shape[0])
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Trees:
        trees = data["trees"]
        width = max(len(t["feature"]) for t in trees)

        def table(key: str, fill: float, dtype: Any) -> np.ndarray:
            out = np.full((len(trees), width), fill, dtype=dtype)
            for i, tree in enumerate(trees):
                out[i, : len(tree[key])] = tree[key]
            return out

        return cls(
            bias=float(data["bias"]),
            rate=float(data["rate"]),
            feature=table("feature", -1, np.int64),
            threshold=table("threshold", 0.0, np.float64),
            left=table("left", 0, np.int64),
            right=table("right", 0, np.int64),
            value=table("value", 0.0, np.float64),
            depth=int(data["depth"]),
        )


@dataclass(frozen=True)
class TwoStageModel:
    """Trees that score each item, then trees that smooth the scores along the page; kept
    as JSON that names the feature count it was fitted on, and the script that refits it."""

    first: Trees
    second: Trees
    threshold: float = 0.5

    FEATURES: ClassVar[int] = N_FEATURES
    TRAINER: ClassVar[str] = "train_lines"

    def to_json(self) -> dict[str, Any]:
        return {
            "features": self.FEATURES,
            "threshold": self.threshold,
            "first": self.first.to_json(),
            "second": self.second.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        if data.get("features") != cls.FEATURES:
            raise ValueError(f"the model was fitted on other features: run {cls.TRAINER}")
        return cls(
            Trees.from_json(data["first"]),
            Trees.from_json(data["second"]),
            float(data["threshold"]),
        )


@dataclass(frozen=True)
class LineModel(TwoStageModel):
    pass


@cache
def shipped_model() -> LineModel:
    return LineModel.from_json(json.loads(MODEL_PATH.read_text()))


_override: list[LineModel] = []


@contextmanager
def using(model: LineModel) -> Iterator[None]:
    """Score with ``model`` instead of the shipped one (cross-validation refits it)."""
    _override.append(model)
    try:
        yield
    finally:
        _override.pop()


def current_model() -> LineModel:
    return _override[-1] if _override else shipped_model()


# Fewer lines than this are a story typed or pasted on its own, not a copy of a whole page.
MIN_PAGE_LINES = 8


def story_lines(blocks: Sequence[TextBlock], model: LineModel | None = None) -> list[bool]:
    """For each line, whether it belongs to the story. A short text, or one where the model
    finds no story at all, is left whole to the cleanup rules."""
    if len(blocks) < MIN_PAGE_LINES:
        return [True] * len(blocks)
    model = model or current_model()
    p = probabilities(line_features([b.text for b in blocks]), model)
    keep = [bool(v >= model.threshold) for v in p]
    return keep if any(keep) else [True] * len(blocks)


def probabilities(x: np.ndarray, model: LineModel) -> np.ndarray:
    first = model.first.raw(x)
    return _sigmoid(model.second.raw(smoothing_features(x, first)))


def _sigmoid(raw: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(raw, -30, 30)))


# --- features ------------------------------------------------------------------------------


def _similarity(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _is_prose(text: str, tokens: int) -> bool:
    wide = len(_WIDE.findall(text))
    return (tokens >= 12 or wide >= 40) and text.rstrip().endswith(_TERMINAL)


def line_features(lines: Sequence[str]) -> np.ndarray:
    """One row of ``N_FEATURES`` per line (see the module docstring for what they measure)."""
    n = len(lines)
    tokens = [_TOKEN.findall(t) for t in lines]
    lowered = [[w.lower() for w in ws] for ws in tokens]
    keys = [" ".join(ws) for ws in lowered]
    counts = Counter(keys)
    sizes = np.array([len(t) for t in lines], dtype=float)
    prose = np.array([_is_prose(t, len(ws)) for t, ws in zip(lines, tokens, strict=True)], float)
    total = max(sizes.sum(), 1.0)
    before = np.concatenate([[0.0], np.cumsum(sizes)[:-1]]) / total
    prose_chars = prose * sizes
    prose_total = max(prose_chars.sum(), 1.0)
    prose_before = (np.cumsum(prose_chars) - prose_chars) / prose_total

    # The headline: the line after the first that most resembles the first (a copy starts with
    # the document title, and the page repeats it as its headline), else the first line.
    sets = [set(ws) for ws in lowered]
    anchor, anchor_sim = 0, 0.0
    for i in range(1, min(n, 200)):
        if sizes[i] <= 250:
            s = _similarity(sets[0], sets[i])
            if s > anchor_sim + 1e-9 and s >= 0.5:
                anchor, anchor_sim = i, s
    # The first byline or date line within a few lines of the headline.
    probe = cleanup.Context(form="text")
    byline = -1
    for i in range(anchor, min(n, anchor + 12)):
        if sizes[i] < 120 and (cleanup.byline_name(lines[i]) or cleanup.DATE_LINE.match(lines[i])):
            byline = i
            break
    rows = np.zeros((n, N_FEATURES))
    logsize = np.log1p(sizes)
    for i, text in enumerate(lines):
        ws = tokens[i]
        words = _ALPHA.findall(text)
        nw = max(len(ws), 1)
        lo, hi = max(0, i - 2), min(n, i + 3)
        lo5, hi5 = max(0, i - 5), min(n, i + 6)
        stripped = text.rstrip()
        rule_hit = any(rule(TextBlock(text, tag="line"), probe) for rule in cleanup.BLOCK_RULES)
        probe.found_byline = None
        rows[i] = (
            logsize[i],
            math.log1p(len(ws)),
            float(stripped.endswith(_TERMINAL)),
            float(stripped.endswith(":")),
            sum(1 for w in lowered[i] if w in FUNCTION_WORDS) / nw,
            sum(1 for w in words if w[0].islower()) / max(len(words), 1),
            sum(c.isdigit() for c in text) / max(len(text), 1),
            sum(text.count(c) for c in ",;:") / nw,
            sum(1 for w in words if w[0].isupper()) / max(len(words), 1),
            i / n,
            before[i],
            math.log(counts[keys[i]]) if keys[i] else 0.0,
            float(bool(rule_hit)),
            logsize[i - 1] if i > 0 else 0.0,
            logsize[i + 1] if i + 1 < n else 0.0,
            prose[lo:hi].mean(),
            prose[lo5:hi5].mean(),
            logsize[lo5:hi5].mean(),
            (i - anchor) / n,
            max(-50, min(50, i - anchor)),
            float(i < anchor),
            _similarity(sets[0], sets[i]) if i else 1.0,
            max(-50, min(50, i - byline)) if byline >= 0 else 60.0,
            prose_before[i],
            float(bool(_LIST_MARK.match(text))),
            float(bool(_LINKISH.search(text))),
            float(bool(words) and all(w[0].isupper() for w in words)),
            float(i == 0),
            math.log(n),
            sum(len(w) for w in ws) / nw,
            len(_WIDE.findall(text)) / max(len(text), 1),
            float((i > 0 and keys[i - 1] == keys[i]) or (i + 1 < n and keys[i + 1] == keys[i])),
            anchor_sim,
            float(bool(_DATE.search(text))) if len(text) < 80 else 0.0,
        )
    return rows


def smoothing_features(x: np.ndarray, first: np.ndarray) -> np.ndarray:
    """The second stage sees each line's first-stage score with its neighbours' and how much
    of the page's likely story lies before and after it."""
    n = len(first)
    p = _sigmoid(first)
    pad = np.concatenate([np.full(3, -8.0), first, np.full(3, -8.0)])
    shifted = [pad[3 + k : 3 + k + n] for k in _STAGE2_OFFSETS]
    cum = np.cumsum(p)
    csum = np.concatenate([[0.0], cum])

    def window(r: int) -> np.ndarray:
        lo = np.clip(np.arange(n) - r, 0, n)
        hi = np.clip(np.arange(n) + r + 1, 0, n)
        return (csum[hi] - csum[lo]) / (hi - lo)

    story = p * np.exp(x[:, 0])  # likely story characters
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
            x[:, 0],
            x[:, 2],
            x[:, 4],
            x[:, 11],
            x[:, 12],
            x[:, 18],
            x[:, 22],
        ]
    )

"""Fit the line model (``line_model.json``) on the plain-text dev corpus and the seed.

    .venv/bin/python -m narration.scripting.train_lines [--check]

Needs scikit-learn (the ``test`` extra) and the corpus beside the repository
(``../shared/corpus``). A line is labelled story when most of its 4-word shingles are in the
page's ground-truth body (a short line: the shingles that join it to its neighbours). Lines are
weighted by their words, each page alike, as the shingle metric weighs them. The second stage is
fitted on first-stage scores of pages the first stage did not see (grouped folds), so that it
learns from scores like those of an unseen page. ``--check`` refits and fails if the shipped
model differs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from narration.scripting.blocks import text_blocks
from narration.scripting.line_model import (
    MODEL_PATH,
    LineModel,
    Trees,
    line_features,
    smoothing_features,
)

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
_TOKEN = re.compile(r"\w+", re.UNICODE)
INNER_FOLDS = 3
PARAMS: dict[str, Any] = {
    # Chosen by cross-validation (bench/script_extraction.py): as good held out as 150 trees of
    # 12 leaves (F1 0.914 both), and smaller.
    "max_iter": 100,
    "max_depth": 4,
    "max_leaf_nodes": 8,
    "learning_rate": 0.1,
    "min_samples_leaf": 100,
    "early_stopping": False,
    "random_state": 0,
}


@dataclass
class Page:
    page_id: str
    x: np.ndarray
    y: np.ndarray
    weight: np.ndarray


def _shingles(tokens: list[str]) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3)]


def labels(lines: list[str], body: str) -> tuple[np.ndarray, np.ndarray]:
    """Story (1) or not (0) for each line, and each line's weight (its words)."""
    truth = set(_shingles(_TOKEN.findall(body)))
    tokens = [_TOKEN.findall(t) for t in lines]
    y = np.zeros(len(lines))
    for i, ws in enumerate(tokens):
        if not ws:
            continue
        if len(ws) >= 4:
            own = _shingles(ws)
        else:
            before = tokens[i - 1][-3:] if i > 0 else []
            after = tokens[i + 1][:3] if i + 1 < len(tokens) else []
            joined = before + ws + after
            own = [
                s
                for k, s in enumerate(_shingles(joined))
                if k + 4 > len(before) and k < len(before) + len(ws)
            ] or [tuple(ws)]
        y[i] = float(sum(s in truth for s in own) >= 0.5 * len(own))
    size = np.array([len(ws) + 1 for ws in tokens], dtype=float)
    return y, size / size.sum() * 1000.0


def training_pages(exclude: Iterable[str] = ()) -> list[Page]:
    """Every page of ``dev-text`` (and the seed) not in ``exclude``, as features and labels."""
    excluded = set(exclude)
    return [p for p in _all_pages() if p.page_id not in excluded]


@cache
def _all_pages() -> list[Page]:
    truth = json.loads((CORPUS / "dev-text" / "ground-truth.json").read_text())
    sources = [
        (page_id, (CORPUS / "dev-text" / f"{page_id}.txt").read_text(), entry["articleBody"])
        for page_id, entry in sorted(truth.items())
    ]
    seed = CORPUS / "seed" / "joongang-lee-ishiba.txt"
    expected = json.loads(seed.with_suffix(".expected.json").read_text())
    sources.append(("seed", seed.read_text(), "\n\n".join(expected["paragraphs"])))
    pages = []
    for page_id, text, body in sources:
        lines = [b.text for b in text_blocks(text)]
        if not lines:
            continue
        y, weight = labels(lines, body)
        pages.append(Page(page_id, line_features(lines), y, weight))
    return pages


def _fold(page_id: str, folds: int) -> int:
    return zlib.crc32(page_id.encode()) % folds


def _gbm(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(**PARAMS)
    model.fit(x.astype(np.float32), y, sample_weight=weight)
    return model


def export(model: Any) -> Trees:
    """A fitted scikit-learn HistGradientBoostingClassifier as plain arrays (its leaf values
    carry the learning rate already)."""
    trees = [predictors[0].nodes for predictors in model._predictors]
    width = max(len(t) for t in trees)

    def table(get: Any, fill: float, dtype: Any) -> np.ndarray:
        out = np.full((len(trees), width), fill, dtype=dtype)
        for i, nodes in enumerate(trees):
            out[i, : len(nodes)] = get(nodes)
        return out

    return Trees(
        bias=float(np.ravel(model._baseline_prediction)[0]),
        rate=1.0,
        feature=table(lambda t: np.where(t["is_leaf"], -1, t["feature_idx"]), -1, np.int64),
        threshold=table(lambda t: t["num_threshold"], 0.0, np.float64),
        left=table(lambda t: t["left"], 0, np.int64),
        right=table(lambda t: t["right"], 0, np.int64),
        value=table(lambda t: t["value"], 0.0, np.float64),
        depth=int(max(t["depth"].max() for t in trees)),
    )


def _stack(pages: list[Page]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.vstack([p.x for p in pages]),
        np.concatenate([p.y for p in pages]),
        np.concatenate([p.weight for p in pages]),
    )


def fit(pages: list[Page]) -> LineModel:
    """Both stages on ``pages``; the second on out-of-fold first-stage scores."""
    x, y, w = _stack(pages)
    first = export(_gbm(x, y, w))
    held_scores: dict[str, np.ndarray] = {}
    for fold in range(INNER_FOLDS):
        inside = [p for p in pages if _fold(p.page_id, INNER_FOLDS) != fold]
        outside = [p for p in pages if _fold(p.page_id, INNER_FOLDS) == fold]
        if not outside or not inside:
            continue
        trees = export(_gbm(*_stack(inside)))
        for page in outside:
            held_scores[page.page_id] = trees.raw(page.x)
    x2 = np.vstack([smoothing_features(p.x, held_scores[p.page_id]) for p in pages])
    second = export(_gbm(x2, y, w))
    return LineModel(first, second)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the shipped model differs")
    args = parser.parse_args(argv)
    return write_or_check(fit(training_pages()), MODEL_PATH, "line", check=args.check)


class _Saved(Protocol):
    def to_json(self) -> dict[str, Any]: ...


def write_or_check(model: _Saved, path: Path, name: str, *, check: bool) -> int:
    """Write ``model`` to ``path``; with ``check``, only say (and exit 1) when the shipped
    file differs from it."""
    text = json.dumps(model.to_json(), separators=(",", ":")) + "\n"
    if check:
        same = path.exists() and path.read_text() == text
        print(f"the shipped {name} model is up to date" if same else f"the {name} model is stale")
        return 0 if same else 1
    path.write_text(text)
    print(f"wrote {path} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

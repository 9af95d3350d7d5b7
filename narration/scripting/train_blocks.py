"""Fit the block model (``block_model.json``) on the HTML dev corpora (dev and dev-modern).

    .venv/bin/python -m narration.scripting.train_blocks [--check [--first-member]] [--cv]

Needs scikit-learn (the ``test`` extra) and the corpus beside the repository
(``../shared/corpus``). Every block of a page's DOM is labelled as the line model's lines are
(``train_lines.labels``: story when most of its 4-word shingles are in the page's ground-truth
body), weighted by its words, each page alike. The second stage is fitted on first-stage scores
of pages the first stage did not see (grouped folds). The model is four such two-stage members,
averaged: one fitted on every page, three on the pages minus a third of them. ``--check``
refits and fails if the shipped model differs (``--first-member``: only the member fitted on
every page is refitted, the shipped file's others kept, in under half the time; the tests run
this); ``--cv`` prints the 5-fold grouped cross-validated score of the model's
blocks alone (no cleanup rules) per corpus, beside trafilatura's blocks as the script gets
them.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import zlib
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from narration.scripting import extract
from narration.scripting.block_model import (
    MODEL_PATH,
    BlockModel,
    BlockTrees,
    smoothing_features,
)
from narration.scripting.forms import decode_page
from narration.scripting.line_model import Trees
from narration.scripting.train_lines import export, labels, write_or_check

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
CORPORA = ("dev", "dev-modern")
INNER_FOLDS = 3
# Members of the model besides the one fitted on every page: each leaves out a third of them.
BAG = 3
# The members' mean probability above which a block is story. Members fitted on two thirds of
# the pages are less sure of the story than one fitted on all, so their mean is a little lower:
# at 0.5, held out, the mean kept teasers on dev pages (precision 0.974, against 0.981 at 0.55).
THRESHOLD = 0.55
# A block between two story blocks needs only this (`BlockModel.bridge`); chosen held out.
BRIDGE = 0.4
PARAMS: dict[str, Any] = {
    "max_iter": 80,
    "max_depth": 4,
    "max_leaf_nodes": 8,
    "learning_rate": 0.1,
    "min_samples_leaf": 200,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}


@dataclass
class Page:
    page_id: str
    corpus: str
    x: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    texts: list[str]
    main_text: str


def training_pages(exclude: Iterable[str] = ()) -> list[Page]:
    """Every HTML dev page not in ``exclude`` (ids), as features and labels."""
    excluded = set(exclude)
    return [p for p in all_pages() if p.page_id not in excluded]


@cache
def all_pages() -> list[Page]:
    """Every HTML dev page, read a process a core: a page's features are CPU work of its own
    (trafilatura, the readability port, the DOM walk), most of the time of a fit."""
    jobs = []
    for corpus in CORPORA:
        truth = json.loads((CORPUS / corpus / "ground-truth.json").read_text())
        jobs += [(corpus, page_id, truth[page_id]["articleBody"]) for page_id in sorted(truth)]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        pages = list(pool.map(_page, jobs, chunksize=4))
    return [p for p in pages if p is not None]


def _page(job: tuple[str, str, str]) -> Page | None:
    corpus, page_id, body = job
    # The page is only decoded, not scripted: a shipped model fitted on other features must not
    # run (and fail) in the refit that replaces it, and the features extract the page anyway.
    found = extract.model_input(decode_page((CORPUS / corpus / f"{page_id}.html").read_bytes()))
    if found is None or not found.blocks:
        return None
    texts = [b.text for b in found.blocks]
    y, weight = labels(texts, body)
    return Page(page_id, corpus, found.x, y, weight, texts, found.main_text)


def _fold(page_id: str, folds: int) -> int:
    return zlib.crc32(page_id.encode()) % folds


def _gbm(x: np.ndarray, y: np.ndarray, weight: np.ndarray, params: dict[str, Any]) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(**params)
    model.fit(x.astype(np.float32), y, sample_weight=weight)
    return model


def _stack(pages: list[Page]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.vstack([p.x for p in pages]),
        np.concatenate([p.y for p in pages]),
        np.concatenate([p.weight for p in pages]),
    )


def fit(pages: list[Page], params: dict[str, Any] | None = None) -> BlockModel:
    """The block model's members: one on all of ``pages``, and one on each ``BAG``-th part
    of them left out (pages grouped by id)."""
    members = [_fit_trees(pages, params)]
    for part in range(BAG):
        members.append(
            _fit_trees([p for p in pages if _fold(f"bag{p.page_id}", BAG) != part], params)
        )
    return BlockModel(tuple(members), THRESHOLD, BRIDGE)


def _fit_trees(pages: list[Page], params: dict[str, Any] | None = None) -> BlockTrees:
    """Both stages on ``pages``; the second on out-of-fold first-stage scores."""
    params = params or PARAMS
    first: Trees = export(_gbm(*_stack(pages), params))
    held: dict[str, np.ndarray] = {}
    for fold in range(INNER_FOLDS):
        inside = [p for p in pages if _fold(p.page_id, INNER_FOLDS) != fold]
        outside = [p for p in pages if _fold(p.page_id, INNER_FOLDS) == fold]
        if not inside or not outside:
            continue
        trees = export(_gbm(*_stack(inside), params))
        for page in outside:
            held[page.page_id] = trees.raw(page.x)
    x2 = np.vstack([smoothing_features(p.x, held[p.page_id]) for p in pages])
    _, y, w = _stack(pages)
    return BlockTrees(first, export(_gbm(x2, y, w, params)))


def _metric() -> Any:
    path = CORPUS.parent / "tools" / "shingle_f1.py"
    spec = importlib.util.spec_from_file_location("shingle_f1", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.score


def cross_validate(folds: int = 5, params: dict[str, Any] | None = None) -> None:
    """Blocks alone (no cleanup rules): in-sample and held-out, per corpus."""
    score = _metric()
    pages = all_pages()
    whole = fit(pages, params)
    held: dict[str, str] = {}
    for fold in range(folds):
        out = [p for p in pages if _fold(p.page_id, folds) == fold]
        model = fit([p for p in pages if _fold(p.page_id, folds) != fold], params)
        for page in out:
            held[page.page_id] = _body(page, model)
    for corpus in CORPORA:
        truth = json.loads((CORPUS / corpus / "ground-truth.json").read_text())
        mine = [p for p in pages if p.corpus == corpus]
        rows = {
            "trafilatura blocks": {p.page_id: p.main_text for p in mine},
            "model in-sample": {p.page_id: _body(p, whole) for p in mine},
            "model cross-val": {p.page_id: held[p.page_id] for p in mine},
        }
        for name, bodies in rows.items():
            s = score(truth, {k: {"articleBody": v} for k, v in bodies.items()})
            print(
                f"{corpus:10} {name:20} P={s['precision']:.4f} R={s['recall']:.4f} F1={s['f1']:.4f}"
            )


def check_first_member() -> int:
    """``--check`` with only the member fitted on every page refitted: the other members are
    the same code run on parts of the same pages, and refitting them more than doubles the
    time of a check that the tests run on every change. The file is compared whole, with the
    shipped file's other members in their places."""
    try:
        shipped = BlockModel.from_json(json.loads(MODEL_PATH.read_text()))
    except (OSError, ValueError):
        shipped = None
    if shipped is None or len(shipped.members) != 1 + BAG:
        print("the block model is stale")
        return 1
    model = BlockModel((_fit_trees(training_pages()), *shipped.members[1:]), THRESHOLD, BRIDGE)
    return write_or_check(model, MODEL_PATH, "block", check=True)


def _body(page: Page, model: BlockModel) -> str:
    keep = model.story(page.x)
    return "\n\n".join(t for t, k in zip(page.texts, keep, strict=True) if k)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the shipped model differs")
    parser.add_argument(
        "--first-member",
        action="store_true",
        help="with --check: refit only the member fitted on every page",
    )
    parser.add_argument("--cv", action="store_true", help="print the cross-validated score")
    args = parser.parse_args(argv)
    if args.first_member and not args.check:
        parser.error("--first-member goes with --check")
    if args.first_member:
        return check_first_member()
    if args.cv:
        cross_validate()
        return 0
    return write_or_check(fit(training_pages()), MODEL_PATH, "block", check=args.check)


if __name__ == "__main__":
    sys.exit(main())

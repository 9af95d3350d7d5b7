"""Body extraction quality of ``narrator script`` on each dev corpus, against plain trafilatura
measured in the same run (shingle F1 of the public article-extraction benchmark).

    .venv/bin/python bench/script_extraction.py [--corpus dev|dev-modern|dev-text ...] [--folds 5]

For each corpus it prints precision/recall/F1 of the script and of trafilatura on all pages
(in-sample: the shipped models were fitted on these pages; for HTML also the rules alone, without
the block model, which need no fitting), then the cross-validated figure:
pages are split into ``--folds`` groups by page id (a page's HTML and text forms always share a
group), the models are refitted on the other groups and the held-out group is scored; the
figure is the mean over held-out groups, micro-averaged over pages. That figure, not the
in-sample one, predicts pages nobody here has seen.

For ``dev-text`` the trafilatura column is trafilatura on the HTML of the same page (the best a
reader could do with the page itself), and "whole text" is every line of the copy.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import trafilatura

from narration.errors import NarrationError
from narration.scripting import build_script, load_article

REPO = Path(__file__).resolve().parent.parent
CORPORA = REPO.parent / "shared" / "corpus"
Score = Callable[[dict[str, Any], dict[str, Any]], dict[str, float]]


def metric() -> Score:
    path = CORPORA.parent / "tools" / "shingle_f1.py"
    spec = importlib.util.spec_from_file_location("shingle_f1", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    score: Score = module.score
    return score


def fold_of(page_id: str, folds: int) -> int:
    """A stable group for a page id: the same for its HTML and its text form."""
    return zlib.crc32(page_id.encode()) % folds


def page_file(corpus: Path, page_id: str) -> Path:
    html = corpus / f"{page_id}.html"
    return html if html.exists() else corpus / f"{page_id}.txt"


def html_of(page_id: str) -> Path | None:
    for name in ("dev", "dev-modern"):
        path = CORPORA / name / f"{page_id}.html"
        if path.exists():
            return path
    return None


def script_body(path: Path) -> str:
    try:
        return "\n\n".join(build_script(load_article(path), source=str(path)).paragraphs)
    except NarrationError:
        return ""


def predict(corpus: Path, ids: list[str]) -> dict[str, dict[str, str]]:
    return {i: {"articleBody": script_body(page_file(corpus, i))} for i in ids}


@contextmanager
def models_fitted_without(held_out: set[str], text: bool) -> Iterator[None]:
    """The models refitted on every dev page except ``held_out`` (ids): the line model for
    plain text, the block model for HTML pages."""
    if text:
        from narration.scripting import line_model, train_lines

        with line_model.using(train_lines.fit(train_lines.training_pages(exclude=held_out))):
            yield
        return
    from narration.scripting import block_model, train_blocks

    with block_model.using(train_blocks.fit(train_blocks.training_pages(exclude=held_out))):
        yield


def report(name: str, a: dict[str, float], b: dict[str, float], other: str) -> None:
    print(
        f"  {name:16} pages={a['pages']:3}  script P={a['precision']:.4f} R={a['recall']:.4f} "
        f"F1={a['f1']:.4f}   {other} P={b['precision']:.4f} R={b['recall']:.4f} F1={b['f1']:.4f}"
    )


def run(corpus_name: str, folds: int, score: Score) -> float:
    corpus = CORPORA / corpus_name
    truth = json.loads((corpus / "ground-truth.json").read_text())
    ids = sorted(truth)
    text = corpus_name == "dev-text"
    started = time.perf_counter()
    ours = predict(corpus, ids)
    seconds = time.perf_counter() - started
    plain: dict[str, dict[str, str]] = {}
    whole: dict[str, dict[str, str]] = {}
    for page_id in ids:
        html = html_of(page_id) if text else page_file(corpus, page_id)
        body = trafilatura.extract(html.read_bytes(), include_comments=False) if html else None
        plain[page_id] = {"articleBody": body or ""}
        if text:
            whole[page_id] = {"articleBody": page_file(corpus, page_id).read_text()}
    print(f"{corpus_name}: {len(ids)} pages, script {seconds:.1f} s")
    report("in-sample", score(truth, ours), score(truth, plain), "trafilatura")
    if not text:
        from narration.scripting import block_model, train_blocks

        with block_model.using(None):  # today's extraction: trafilatura's blocks and the rules
            rules = predict(corpus, ids)
        report("rules alone", score(truth, rules), score(truth, plain), "trafilatura")
        if block_model.shipped_model() is None:  # not shipped: fitted here on every dev page
            with block_model.using(train_blocks.fit(train_blocks.training_pages())):
                fitted = predict(corpus, ids)
            report("model in-sample", score(truth, fitted), score(truth, plain), "trafilatura")
    if text:
        report("  (whole text)", score(truth, ours), score(truth, whole), "whole text ")
    held: dict[str, dict[str, str]] = {}
    for fold in range(folds):
        out = [i for i in ids if fold_of(i, folds) == fold]
        guard = models_fitted_without(set(out), text) if folds > 1 else nullcontext()
        with guard:
            held.update(predict(corpus, out))
    cross = score(truth, held)
    report(f"cross-val {folds}-fold", cross, score(truth, plain), "trafilatura")
    return cross["f1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", nargs="*", default=["dev", "dev-modern", "dev-text"])
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    score = metric()
    for name in args.corpus:
        run(name, args.folds, score)


if __name__ == "__main__":
    main()

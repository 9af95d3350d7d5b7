"""Body extraction quality of ``narrator script`` on the dev corpus, against plain trafilatura
measured in the same run (shingle F1 of the public article-extraction benchmark).

    .venv/bin/python bench/script_extraction.py [CORPUS_DIR]

Prints precision/recall/F1 for both, on all pages and on two halves (alternate page ids), and
the ratio of the script's F1 to trafilatura's.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trafilatura

from narration.errors import NarrationError
from narration.scripting import build_script, load_article

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "dev"


def _metric(corpus: Path) -> Callable[[dict[str, Any], dict[str, Any]], dict[str, float]]:
    path = corpus.parent.parent / "tools" / "shingle_f1.py"
    spec = importlib.util.spec_from_file_location("shingle_f1", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    score: Callable[[dict[str, Any], dict[str, Any]], dict[str, float]] = module.score
    return score


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CORPUS
    truth = json.loads((corpus / "ground-truth.json").read_text())
    score = _metric(corpus)
    ours: dict[str, dict[str, str]] = {}
    plain: dict[str, dict[str, str]] = {}
    started = time.perf_counter()
    for page_id in truth:
        path = corpus / f"{page_id}.html"
        try:
            body = build_script(load_article(path), source=str(path)).paragraphs
        except NarrationError:
            body = []
        ours[page_id] = {"articleBody": "\n\n".join(body)}
    ours_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for page_id in truth:
        html = (corpus / f"{page_id}.html").read_bytes()
        plain[page_id] = {"articleBody": trafilatura.extract(html, include_comments=False) or ""}
    plain_seconds = time.perf_counter() - started

    ids = sorted(truth)
    splits = {"all": ids, "half A": ids[0::2], "half B": ids[1::2]}
    for name, subset in splits.items():
        part = {k: truth[k] for k in subset}
        a, b = score(part, ours), score(part, plain)
        print(
            f"{name:7} pages={a['pages']:3}  script P={a['precision']:.4f} R={a['recall']:.4f} "
            f"F1={a['f1']:.4f}   trafilatura P={b['precision']:.4f} R={b['recall']:.4f} "
            f"F1={b['f1']:.4f}   F1 ratio={a['f1'] / b['f1']:.4f}"
        )
    print(f"time: script {ours_seconds:.2f} s, trafilatura {plain_seconds:.2f} s")


if __name__ == "__main__":
    main()

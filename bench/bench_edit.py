"""Characters re-synthesized after a one-sentence edit of the seed article.

For every sentence of the seed's body in turn, the article is edited in that one sentence (a
few words added, as a correction would) and planned again with the default engine (gTTS); the
characters of every chunk whose cache key the original plan did not have are what would be
sent to the provider again. Reported: the largest and the median over all sentences, as a
share of everything spoken, against the whole article (what re-narrating from scratch
costs). No audio is made: chunk keys say what a cache would miss.

Run: ``.venv/bin/python bench/bench_edit.py``; writes ``bench/results/edit.json``.
"""

from __future__ import annotations

import copy
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import Figure, write_result  # noqa: E402

SEED = Path(os.environ.get("NARRATOR_SEED", "/work/shared/corpus/seed/joongang-lee-ishiba.txt"))


CLOSERS = ".!?\"'\u201d\u2019"
"""Sentence-final punctuation and closing quotes: the added words go before them."""


def _edited(sentence: str) -> str:
    body = sentence.rstrip()
    end = body[-1] if body and body[-1] in CLOSERS else ""
    return f"{body[: len(body) - len(end)]}, according to officials{end}"


def main() -> None:
    from narration.plan import plan_narration
    from narration.script import Sentence
    from narration.scripting import build_script, load_article
    from narration.settings import Settings

    settings = Settings(engine="gtts", audio_cache_dir=Path(tempfile.mkdtemp()))
    script = build_script(load_article(SEED), source=str(SEED), settings=settings)
    plan = plan_narration(script, settings)
    keys = {c.key for c in plan.chunks}
    spoken = sum(len(c.spoken) for c in plan.chunks)
    costs: list[int] = []
    where: list[tuple[int, int, int]] = []
    for s_index, section in enumerate(script.sections):
        for p_index, paragraph in enumerate(section.paragraphs):
            for n, sentence in enumerate(paragraph.sentences):
                edited = copy.deepcopy(script)
                target = edited.sections[s_index].paragraphs[p_index]
                target.sentences[n] = Sentence(_edited(sentence.text), _edited(sentence.spoken))
                again = plan_narration(edited, settings)
                costs.append(sum(len(c.spoken) for c in again.chunks if c.key not in keys))
                where.append((s_index, p_index, n))
    worst = max(costs)
    median = statistics.median(costs)
    print(
        f"{len(costs)} one-sentence edits of {spoken} spoken characters in {len(plan.chunks)} "
        f"chunks: re-synthesized at most {worst} ({worst / spoken:.1%}), median {median:.0f} "
        f"({median / spoken:.1%}); the worst edit is sentence {where[costs.index(worst)]}"
    )
    figures = [
        Figure("characters re-synthesized, worst one-sentence edit", worst, "chars",
               spoken, "the whole article", "<= 340 of 4,621"),
        Figure("characters re-synthesized, median one-sentence edit", median, "chars",
               spoken, "the whole article", "<= 340 of 4,621"),
    ]  # fmt: skip
    path = write_result(
        "edit",
        ".venv/bin/python bench/bench_edit.py",
        figures,
        notes=f"{len(costs)} edits, one per body sentence; {len(plan.chunks)} chunks.",
    )
    print(path)


if __name__ == "__main__":
    main()

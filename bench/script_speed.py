"""How long every dev page (dev, dev-modern, dev-text: 275 pages) takes through the script stage
in one process, with the shipped block model and without it (trafilatura and the rules alone),
measured in the same run so that the ratio holds on a loaded machine, then the plain-text forms
(the line model; the block model plays no part in them).

    .venv/bin/python bench/script_speed.py [--profile N]

Each pass loads and scripts every page as ``narrator script`` does (one page is scripted first
under each setting, so imports and caches are warm). It prints wall-clock and CPU seconds per
pass and the ratio. ``--profile N`` prints the N most expensive functions (cumulative time) of
the model pass. The budget: all 275 pages in one process in under a minute on two cores.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import pstats
import time
from pathlib import Path

from narration.errors import NarrationError
from narration.scripting import block_model, build_script, extract, load_article

REPO = Path(__file__).resolve().parent.parent
CORPORA = REPO.parent / "shared" / "corpus"


def dev_pages() -> list[Path]:
    pages = sorted((CORPORA / "dev").glob("*.html")) + sorted(
        (CORPORA / "dev-modern").glob("*.html")
    )
    return pages + sorted((CORPORA / "dev-text").glob("*.txt"))


def script_all(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(NarrationError):  # as the CLI does: say so, go on
            build_script(load_article(path), source=str(path))


def timed(paths: list[Path]) -> tuple[float, float]:
    extract._RECENT.clear()  # every page is extracted again
    wall, cpu = time.perf_counter(), time.process_time()
    script_all(paths)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", type=int, default=0, help="functions to list (model pass)")
    args = parser.parse_args()
    paths = dev_pages()
    model = block_model.shipped_model()
    if model is None:
        raise SystemExit("no block model is shipped (narration/scripting/block_model.json)")
    html = [p for p in paths if p.suffix == ".html"]
    for setting in (None, model):
        with block_model.using(setting):
            script_all(html[:1])
    text = [p for p in paths if p.suffix != ".html"]
    with block_model.using(None):
        rules_wall, rules_cpu = timed(html)
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
    model_wall, model_cpu = timed(html)
    if args.profile:
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
    text_wall, text_cpu = timed(text)
    print(f"{len(html)} HTML pages (dev, dev-modern), then their {len(text)} plain-text forms")
    print(f"  HTML without the block model: {rules_wall:6.1f} s wall, {rules_cpu:6.1f} s CPU")
    print(f"  HTML with the block model:    {model_wall:6.1f} s wall, {model_cpu:6.1f} s CPU")
    print(f"  plain text (line model):      {text_wall:6.1f} s wall, {text_cpu:6.1f} s CPU")
    extra = (model_cpu - rules_cpu) / max(len(html), 1) * 1000
    print(f"  HTML ratio (CPU) {model_cpu / rules_cpu:.2f}: the model adds {extra:.0f} ms a page")


if __name__ == "__main__":
    main()

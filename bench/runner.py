"""Run every benchmark that records its result, then write ``BENCHMARKS.md`` from all of them.

    bench/run                    every bench/bench_*.py (and bench/script_extraction.py)
    bench/run serving stitch     only bench_serving.py and bench_stitch.py
    bench/run --render           only rewrite BENCHMARKS.md from bench/results/*.json

A benchmark is a script in ``bench/`` with a ``main()`` that writes ``bench/results/<name>.json``
through :func:`bench.report.write_result`; each runs in its own process with its default
arguments, one after another (they measure time: never two at once). A script that does not
call ``write_result`` is listed as skipped. A benchmark that fails does not stop the others;
the run then exits non-zero, and its previous result, if any, stays in the summary with its date.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
SUMMARY = REPO / "BENCHMARKS.md"
EXTRA = ["script_extraction.py"]
"""Benchmarks not named bench_*.py, run when they write a result file."""


def discover() -> list[Path]:
    return sorted(BENCH.glob("bench_*.py")) + [BENCH / n for n in EXTRA if (BENCH / n).exists()]


def records_result(script: Path) -> bool:
    return "write_result(" in script.read_text()


def short(script: Path) -> str:
    return script.stem.removeprefix("bench_")


def run(scripts: list[Path]) -> list[str]:
    """Run ``scripts``; return the names of those that failed."""
    failed: list[str] = []
    for script in scripts:
        if not records_result(script):
            print(f"== {script.name}: skipped (writes no result file)", flush=True)
            continue
        print(f"== {script.name}", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, str(script)], cwd=REPO)
        took = time.monotonic() - started
        print(f"== {script.name}: {'ok' if code == 0 else f'FAILED ({code})'} in {took:.0f} s")
        if code != 0:
            failed.append(script.name)
    return failed


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.1f}"
    return f"{value:,.0f}" if isinstance(value, int | float) else str(value)


def render(results: list[dict[str, Any]]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Every figure sits next to its baseline, measured in the same run on the same machine,",
        "so the ratio holds even where the absolute numbers do not travel. Run them all and",
        "rewrite this page with `bench/run` (one benchmark: `bench/run serving`); each table",
        "says the command that measured it. Written from `bench/results/*.json`.",
        "",
    ]
    for doc in results:
        machine = doc.get("machine") or {}
        lines += [
            f"## {doc['benchmark']}",
            "",
            f"`{doc['command']}` — measured {doc['measured_at']} on {machine.get('cores')} "
            f"cores, Python {machine.get('python')}.",
            "",
            "| figure | value | baseline | ratio | target |",
            "| --- | --- | --- | --- | --- |",
        ]
        for f in doc["figures"]:
            unit = f" {f['unit']}" if f.get("unit") else ""
            baseline = (
                f"{_number(f['baseline'])}{unit} ({f['baseline_name']})"
                if f.get("baseline") is not None
                else "-"
            )
            ratio = f"{f['ratio']:.2f}x" if f.get("ratio") is not None else "-"
            lines.append(
                f"| {f['name']} | {_number(f['value'])}{unit} | {baseline} | {ratio} | "
                f"{f.get('target') or '-'} |"
            )
        if doc.get("notes"):
            lines += ["", str(doc["notes"])]
        lines.append("")
    return "\n".join(lines)


def load_results() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(RESULTS.glob("*.json")):
        try:
            docs.append(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            print(f"ignoring {path.name}: {exc}", file=sys.stderr)
    return docs


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    failed: list[str] = []
    if args != ["--render"]:
        scripts = discover()
        if args:
            wanted = set(args)
            scripts = [s for s in scripts if short(s) in wanted or s.stem in wanted]
            unknown = wanted - {short(s) for s in scripts} - {s.stem for s in scripts}
            if unknown:
                known = ", ".join(short(s) for s in discover())
                print(f"bench/run: no benchmark {', '.join(sorted(unknown))} (known: {known})")
                return 2
        failed = run(scripts)
    tmp = SUMMARY.with_suffix(".md.tmp")
    tmp.write_text(render(load_results()))
    tmp.replace(SUMMARY)
    print(f"wrote {SUMMARY.relative_to(REPO)}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""bench/run: which benchmarks it runs, and the summary it writes from their results."""

from __future__ import annotations

from pathlib import Path

from bench.report import Figure
from bench.runner import discover, records_result, render, short


def test_it_runs_every_benchmark_that_records_a_result() -> None:
    scripts = discover()
    names = {short(s) for s in scripts}
    assert {"serving", "throughput", "first_audio"} <= names
    assert all(s.name.startswith("bench_") or s.name == "script_extraction.py" for s in scripts)
    assert records_result(next(s for s in scripts if short(s) == "serving"))


def test_a_script_without_write_result_is_not_run(tmp_path: Path) -> None:
    script = tmp_path / "bench_printing.py"
    script.write_text("print('numbers nobody keeps')\n")
    assert not records_result(script)


def test_the_summary_has_a_table_per_benchmark_with_baselines_ratios_and_the_command() -> None:
    figures = [
        Figure("audio through nginx", 15775, "requests/s", 15039, "static nginx", ">= 0.8x"),
        Figure("first audio", 0.943, "s", None),
    ]
    doc = {
        "benchmark": "serving",
        "command": ".venv/bin/python bench/bench_serving.py --seconds 3",
        "measured_at": "2026-11-29T22:47:55Z",
        "machine": {"cores": 2, "python": "3.11.7"},
        "figures": [{**f.__dict__, "ratio": f.ratio} for f in figures],
        "notes": "load: wrk",
    }
    text = render([doc])
    assert "## serving" in text
    assert "`.venv/bin/python bench/bench_serving.py --seconds 3`" in text
    assert (
        "| audio through nginx | 15,775 requests/s | 15,039 requests/s (static nginx) | 1.05x"
        in text
    )
    assert "| first audio | 0.943 s | - | - | - |" in text
    assert text.rstrip().endswith("load: wrk")

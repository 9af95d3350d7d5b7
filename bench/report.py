"""One format for every benchmark's result: ``bench/results/<name>.json``.

Each figure sits next to the baseline it was measured against in the same run, so a reader
never compares numbers taken on different days or machines. ``bench/run`` collects the files
into ``BENCHMARKS.md``.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    """The same quantity for the baseline, measured in the same run."""
    baseline_name: str | None = None
    target: str | None = None
    """What the product promises, e.g. ``"<= 1.3x baseline"``; informational."""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline  # type: ignore[operator]


def write_result(name: str, command: str, figures: list[Figure], notes: str = "") -> Path:
    """Write ``bench/results/<name>.json`` atomically and return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    doc = {
        "benchmark": name,
        "command": command,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "figures": [{**asdict(f), "ratio": f.ratio} for f in figures],
        "notes": notes,
    }
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path

"""Scratch folders belong to a process and go when it is gone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from narration import scratch
from narration.settings import Settings


def test_a_gone_process_loses_its_scratch_folder_and_a_live_one_keeps_it(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"scratch_dir": tmp_path / "scratch"})
    mine = scratch.own_dir(settings)
    (mine / "stitch-1.raw").write_bytes(b"\0" * 10)
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "from pathlib import Path; from narration import scratch; "
            "from narration.settings import Settings; "
            f"d = scratch.own_dir(Settings(scratch_dir=Path({str(tmp_path / 'scratch')!r}))); "
            "(d / 'stitch-2.raw').write_bytes(b'x'); print(d)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    orphan = Path(child.stdout.strip())
    assert orphan.is_dir() and orphan != mine
    assert scratch.remove_orphans(settings) == 1
    assert not orphan.exists()
    assert (mine / "stitch-1.raw").exists()

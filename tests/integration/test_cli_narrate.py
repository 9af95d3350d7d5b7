"""``narrator narrate`` run as a user runs it: a separate process, configured by environment."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from narration.loudness import measure
from narration.transcript import parse_vtt
from tests.fakes.gtts_server import GttsStandIn

pytestmark = pytest.mark.integration

NARRATOR = Path(sys.executable).parent / "narrator"


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "NARRATOR_AUDIO_CACHE_DIR": str(tmp_path / "cache"), **env}
    return subprocess.run(
        [str(NARRATOR), "narrate", *args], capture_output=True, text=True, env=environ, timeout=240
    )


def _check_outputs(out: Path, engine: str) -> None:
    manifest = json.loads(out.with_suffix(".json").read_text())
    assert manifest["engines"] == [engine]
    loudness = measure("ffmpeg", out)
    assert -17.0 <= loudness.integrated_lufs <= -15.0 and loudness.true_peak_dbtp <= -1.0
    cues = parse_vtt(out.with_suffix(".vtt").read_text())
    assert [c[2] for c in cues] == [s["text"] for s in manifest["sentences"]]
    assert len(cues) > 20


def test_narrates_the_seed_offline(seed_article: Path, tmp_path: Path) -> None:
    out = tmp_path / "seed.mp3"
    proc = run([str(seed_article), "-o", str(out), "--engine", "espeak"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no progress bar when the output is not a terminal
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"{out}  (") and lines[1:] == [
        str(out.with_suffix(".json")),
        str(out.with_suffix(".vtt")),
    ]
    _check_outputs(out, "espeak")


def test_narrates_the_seed_with_gtts(
    seed_article: Path, tmp_path: Path, gtts_server: GttsStandIn
) -> None:
    out = tmp_path / "seed.mp3"
    proc = run(
        [str(seed_article), "-o", str(out), "--engine", "gtts"],
        tmp_path,
        NARRATOR_GTTS_ENDPOINT=gtts_server.url,
    )
    assert proc.returncode == 0, proc.stderr
    assert gtts_server.requests > 20
    _check_outputs(out, "gtts")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.txt", "-o", "x.mp3"], "missing.txt"),
        (["{seed}", "-o", "x.wav"], "must end in .mp3"),
        (["{seed}", "-o", "x.mp3", "--engine", "espeak", "--voice", "no-such-voice"], "voice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    seed_article: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    args = [a.replace("{seed}", str(seed_article)) for a in args]
    proc = run(args, tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_draws_progress_on_a_terminal(seed_article: Path, tmp_path: Path) -> None:
    out = tmp_path / "seed.mp3"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    environ = {**os.environ, "NARRATOR_AUDIO_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [str(NARRATOR), "narrate", str(seed_article), "-o", str(out), "--engine", "espeak"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=environ,
    )
    os.close(slave)
    screen = b""
    while True:  # read until the child closes the terminal
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: no writer left
            break
        if not data:
            break
        screen += data
    os.close(master)
    assert proc.wait(timeout=240) == 0, screen.decode()
    text = screen.decode()
    counts = [(int(d), int(t)) for d, t in re.findall(r"synthesizing:.*?\| *(\d+)/(\d+) ", text)]
    total = counts[-1][1]
    assert total > 1 and counts[0][0] < total and all(t == total for _, t in counts)
    assert f"stitching {total} chunks: 00:0" in text
    # The bar is cleared, then the three file lines are all that stays on screen.
    last = [line.rsplit("\r", 1)[-1] for line in text.split("\r\n") if line.strip()]
    assert last[-3].startswith(f"{out}  (") and last[-3].endswith(" bytes)")
    assert last[-2:] == [str(out.with_suffix(".json")), str(out.with_suffix(".vtt"))]
    assert "synthesizing: 0chunk" not in text  # no bar before the first count


@pytest.mark.parametrize(
    ("env", "output", "message"),
    [
        ({"NARRATOR_SPEED": "fast"}, "x.mp3", "bad setting: NARRATOR_SPEED: Input should be"),
        ({"NARRATOR_AUDIO_CACHE_DIR": "/proc/cache"}, "x.mp3", "/proc/cache: No such file"),
        ({}, "/proc/x.mp3", "/proc/x.mp3: No such file or directory"),
        ({"NARRATOR_SPEED": "0"}, "x.mp3", "speed must be between 0.25 and 4.0, not 0.0"),
        (
            {"NARRATOR_TTS_CONCURRENCY_MAX": "0", "NARRATOR_ENGINE": "gtts"},
            "x.mp3",
            "bad setting: NARRATOR_TTS_CONCURRENCY_MAX: Input should be greater than or equal to 1",
        ),
        # Refused whatever the engine: the same settings also start the workers that need it.
        (
            {"NARRATOR_TTS_CONCURRENCY_MIN": "-1"},
            "x.mp3",
            "bad setting: NARRATOR_TTS_CONCURRENCY_MIN: Input should be greater than or equal to 1",
        ),
    ],
)
def test_bad_settings_and_unwritable_paths_are_one_line_and_exit_2(
    tmp_path: Path, env: dict[str, str], output: str, message: str
) -> None:
    article = tmp_path / "a.txt"
    article.write_text("A short article. It has two sentences.\n")
    out = output if output.startswith("/") else str(tmp_path / output)
    engine = env.get("NARRATOR_ENGINE", "espeak")
    proc = run([str(article), "-o", out, "--engine", engine], tmp_path, **env)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1

"""``narrator script``: one JSON line per file, one-line errors, exit status 2 on any failure."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from narration.cli import cli


def test_json_lines_and_errors(tmp_path: Path, seed_article: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    cms = tmp_path / "a.json"
    cms.write_text(json.dumps({"title": "T", "byline": "Jo", "body": "One sentence here."}))
    # click < 8.2 (pinned for gTTS) mixes stderr into stdout unless told not to.
    result = CliRunner(mix_stderr=False).invoke(
        cli, ["script", str(seed_article), str(empty), str(cms), "--format", "json"]
    )
    assert result.exit_code == 2
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["source"] for line in lines] == [str(seed_article), str(cms)]
    assert lines[0]["byline"] == "Sarah Kim" and len(lines[0]["paragraphs"]) == 19
    assert {"source", "title", "byline", "lang", "paragraphs", "skipped"} <= set(lines[1])
    assert result.stderr == f"narrator: {empty}: the article is empty\n"


def test_text_format(seed_article: Path) -> None:
    result = CliRunner().invoke(cli, ["script", str(seed_article)])
    assert result.exit_code == 0
    assert result.stdout.startswith("# Lee Jae Myung calls Korea-Japan")
    assert (
        "By Sarah Kim" in result.stdout
        and "[breadcrumb] Home > National > Diplomacy" in result.stdout
    )

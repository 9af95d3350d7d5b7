"""``narrator script``: one JSON line per file, one-line errors, exit status 2 on any failure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from narration.cli import cli
from narration.settings import get_settings


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


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


BAD_FILES = {
    "empty.txt": (b"", "the article is empty"),
    "zero.json": (b"", "the article is empty"),
    "noise.bin": (bytes(range(256)) * 8, "binary data, not an article"),
    "photo.png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "this is a PNG image, not an article"),
    "number.json": (b'{"title": "T", "body": 5}', "'body' must be a string"),
    "script.json": (b'{"body_html": "<script>x()</script>"}', "no readable text in the article"),
    "cut.json": (b'{"title": ', "invalid JSON: Expecting value at line 1"),
    "cookies.html": (
        b"<html><body><div class='cookie-banner'>We use cookies to improve your experience. "
        b"By continuing you accept our cookie policy.</div><button>Accept</button></body></html>",
        "no readable text in the article",
    ),
    "long.json": (
        json.dumps({"title": "T", "body": "A sentence of the story. " * 80}).encode(),
        "the body is 1999 characters, over the limit of 1000",
    ),
}


def test_each_bad_file_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.setenv("NARRATOR_MAX_BODY_CHARS", "1000")
    (tmp_path / "a-directory").mkdir()
    paths = []
    for name, (data, _) in BAD_FILES.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    paths += [str(tmp_path / "missing.html"), str(tmp_path / "a-directory")]
    result = CliRunner(mix_stderr=False).invoke(cli, ["script", *paths, "--format", "json"])
    assert result.exit_code == 2 and result.stdout == ""
    expected = [f"narrator: {tmp_path / n}: {message}" for n, (_, message) in BAD_FILES.items()]
    expected += [
        f"narrator: {tmp_path / 'missing.html'}: cannot read the file: No such file or directory",
        f"narrator: {tmp_path / 'a-directory'}: cannot read the file: Is a directory",
    ]
    assert result.stderr.splitlines() == expected


def test_a_bad_setting_is_one_line_and_exit_2(
    seed_article: Path, monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.setenv("NARRATOR_MAX_BODY_CHARS", "lots")
    result = CliRunner(mix_stderr=False).invoke(cli, ["script", str(seed_article)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("narrator: bad setting: NARRATOR_MAX_BODY_CHARS: ")
    assert len(result.stderr.splitlines()) == 1

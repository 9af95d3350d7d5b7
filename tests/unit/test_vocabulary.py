"""Every shared list and pattern is written once, in ``narration.vocabulary``, and imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from narration import vocabulary as v

REPO = Path(__file__).resolve().parents[2]
SOURCES = [
    path
    for package in ("narration", "service", "workers")
    for path in sorted((REPO / package).rglob("*.py"))
    if path != REPO / "narration" / "vocabulary.py"
]


@pytest.mark.parametrize(
    "written",
    [
        v.ARTICLE_ID_PATTERN,
        v.AUDIO_KEY_PATTERN,
        v.NARRATION_ID_PATTERN,
        v.STREAM_SEGMENT_PATTERN,
        v.FEED_NAME_PATTERN,
        v.LANG_PATTERN,
        '"gtts", "espeak"',
        '"high", "normal", "low"',
    ],
)
def test_defined_only_in_the_vocabulary(written: str) -> None:
    again = [str(p.relative_to(REPO)) for p in SOURCES if written in p.read_text(encoding="utf-8")]
    assert again == []


def test_nginx_serves_exactly_the_audio_keys_the_app_does() -> None:
    # nginx cannot import the pattern; its audio location must spell the same one
    conf = (REPO / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert f"(?<audio_file>{v.AUDIO_KEY_PATTERN}\\." in conf


def test_the_tuples_are_the_literal_types_values() -> None:
    assert "auto" in v.ENGINES and v.PRIORITIES[0] == "high"
    assert v.ARTICLE_ID.fullmatch("2025-06-17_lee.ishiba") and not v.ARTICLE_ID.fullmatch("-x")

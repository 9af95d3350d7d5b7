"""Pronunciation lexicon: whole words, case-aware, per language."""

from __future__ import annotations

from pathlib import Path

import pytest

from narration.errors import NarrationError
from narration.scripting.lexicon import load_lexicon, parse_lexicon

LEXICON = parse_lexicon(
    "# comment\n"
    "en\tIshiba\tIshee-bah\n"
    "en\tsake\tsah-keh\n"
    "*\tNATO\tnay-toe\n"
    "ko\t이시바\t이시바아\n"
    "ja\t石破\tいしば\n"
)


def test_whole_word_only() -> None:
    assert LEXICON.apply("Ishiba met Ishibashi.", "en") == "Ishee-bah met Ishibashi."


def test_capitalised_entry_is_exact() -> None:
    assert LEXICON.apply("ishiba", "en") == "ishiba"


def test_lowercase_entry_matches_any_case_and_keeps_the_capital() -> None:
    assert LEXICON.apply("Sake and sake", "en") == "Sah-keh and sah-keh"


def test_star_applies_to_every_language_and_others_only_to_theirs() -> None:
    assert LEXICON.apply("NATO Ishiba", "de") == "nay-toe Ishiba"
    assert LEXICON.apply("이시바 총리", "ko") == "이시바아 총리"


def test_languages_without_spaces_match_inside_text() -> None:
    assert LEXICON.apply("石破首相が", "ja") == "いしば首相が"


def test_built_in_lexicon_respells_the_seed_name() -> None:
    assert "Ishee-bah" in load_lexicon(None).apply("Prime Minister Shigeru Ishiba", "en")


def test_bad_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.tsv"
    path.write_text("en\tonly-two-columns\n")
    with pytest.raises(NarrationError, match=r"lexicon.tsv:1"):
        load_lexicon(path)

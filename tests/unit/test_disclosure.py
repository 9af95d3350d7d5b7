from __future__ import annotations

import pytest

from narration.disclosure import comment, disclosure_line, outro_text
from narration.settings import Settings

ENGLISH = "This article was written by reporters and read by an AI voice."
REQUIRED = [
    "en",
    "ko",
    "ja",
    "zh",
    "de",
    "fr",
    "es",
    "pt",
    "it",
    "nl",
    "ru",
    "pl",
    "tr",
    "ar",
    "hi",
    "id",
    "vi",
    "sv",
]


def test_every_required_language_has_its_own_line() -> None:
    lines = {lang: disclosure_line(lang) for lang in REQUIRED}
    # English narrations keep their keys: the line is the setting's default, word for word.
    assert lines["en"] == ENGLISH == Settings.model_fields["outro_text"].default
    # Each is a distinct translation, none is the English fallback.
    assert len(set(lines.values())) == len(REQUIRED)
    assert "記者" in lines["ja"] and "기자" in lines["ko"] and "KI-Stimme" in lines["de"]


@pytest.mark.parametrize(
    ("tag", "base"), [("pt-BR", "pt"), ("ES_mx", "es"), ("de-AT", "de"), ("zh-CN", "zh")]
)
def test_a_regional_tag_falls_back_to_its_language(tag: str, base: str) -> None:
    assert disclosure_line(tag) == disclosure_line(base)


def test_traditional_chinese_and_unknown_languages() -> None:
    traditional = disclosure_line("zh-TW")
    assert "記者" in traditional and "记者" in disclosure_line("zh")
    assert disclosure_line("zh-Hant") == disclosure_line("zh-HK") == traditional
    assert disclosure_line("xx") == disclosure_line("") == ENGLISH


def test_default_outro_and_comment_follow_the_language(settings: Settings) -> None:
    assert outro_text(settings, "ja") == disclosure_line("ja")
    assert outro_text(settings, "en") == ENGLISH
    assert comment(settings, "fr") == disclosure_line("fr")
    assert comment(settings, "en-GB") == settings.disclosure


def test_explicit_settings_are_used_as_they_are(settings: Settings) -> None:
    mine = settings.model_copy(update={"outro_text": "Read by a robot.", "disclosure": "AI."})
    assert outro_text(mine, "ja") == "Read by a robot."
    assert comment(mine, "ja") == "AI."
    assert outro_text(settings.model_copy(update={"outro_text": ""}), "ja") is None
    assert outro_text(settings.model_copy(update={"outro_text": None}), "de") is None
    # The default passed on explicitly (e.g. through NARRATOR_OUTRO_TEXT) still localizes.
    relayed = Settings(audio_cache_dir=settings.audio_cache_dir, outro_text=ENGLISH)
    assert outro_text(relayed, "ko") == disclosure_line("ko")

"""Language tags: one normal form (langcodes), ISO 639-2 for ID3, and gTTS's own old codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from gtts.lang import tts_langs
from mutagen.id3 import ID3

from narration import languages
from narration.engines.gtts import GttsEngine
from narration.tags import write_tags


@pytest.mark.parametrize(
    ("tag", "normal", "iso639_2"),
    [
        ("he", "he", "heb"),
        ("iw", "he", "heb"),
        ("jw", "jv", "jav"),
        ("jv", "jv", "jav"),
        ("fil", "fil", "fil"),
        ("tl", "fil", "fil"),
        ("af", "af", "afr"),
        ("is", "is", "isl"),
        ("gu", "gu", "guj"),
        ("mr", "mr", "mar"),
        ("ne", "ne", "nep"),
        ("ka", "ka", "kat"),
        ("en-US", "en", "eng"),
        ("zh_Hant", "zh-TW", "zho"),
        ("zh-HK", "zh-TW", "zho"),
        ("cmn", "zh-CN", "zho"),
        ("in", "id", "ind"),
    ],
)
def test_tags_are_normalized_once_and_id3_gets_iso_639_2(
    tag: str, normal: str, iso639_2: str
) -> None:
    assert languages.normalize(tag) == normal
    assert languages.iso639_2(tag) == iso639_2


@pytest.mark.parametrize("tag", ["xx", "not a code!", "und", "", None])
def test_junk_and_unknown_languages_are_none_and_und(tag: str | None) -> None:
    assert languages.normalize(tag) is None
    assert languages.iso639_2(tag) == "und"


@pytest.mark.parametrize(
    ("lang", "gtts"),
    [("he", "iw"), ("jv", "jw"), ("fil", "tl"), ("en-GB", "en"), ("zh-TW", "zh-TW")],
)
def test_gtts_gets_its_own_codes_at_its_boundary(lang: str, gtts: str) -> None:
    assert gtts in tts_langs()
    assert GttsEngine.resolve_lang(lang) == gtts


def test_id3_language_frame_of_a_hebrew_narration(tmp_path: Path) -> None:
    mp3 = tmp_path / "a.mp3"
    mp3.write_bytes(b"")
    write_tags(mp3, {"title": "T", "language": "iw", "comment": "AI voice"}, [])
    tags = ID3(str(mp3))
    assert tags["TLAN"].text == ["heb"]
    assert tags.getall("COMM")[0].lang == "heb"

# ruff: noqa: RUF001  (fixtures in many scripts use their own punctuation)
"""Sentence segmentation: abbreviations and quotes never split wrongly, any language."""

from __future__ import annotations

import pytest

from narration.scripting.sentences import split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "He met U.S. President Donald Trump. Then he left.",
            ["He met U.S. President Donald Trump.", "Then he left."],
        ),
        (
            "Dr. Kim lives at No. 3 Main St. in Seoul. She said so.",
            ["Dr. Kim lives at No. 3 Main St. in Seoul.", "She said so."],
        ),
        (
            '"It is fine," Lee said. "Really."',
            ['"It is fine," Lee said.', '"Really."'],
        ),
        ('He said "Go now. Please." Then he left.', ['He said "Go now. Please."', "Then he left."]),
        ("It cost $3.5 million.", ["It cost $3.5 million."]),
    ],
)
def test_english(text: str, expected: list[str]) -> None:
    assert split_sentences(text, "en") == expected


def test_a_stray_closing_quote_stays_with_its_sentence() -> None:
    text = 'He hopes "they will help each other."" Then it ended.'
    assert split_sentences(text, "en") == [
        'He hopes "they will help each other.""',
        "Then it ended.",
    ]


def test_korean() -> None:
    text = "이재명 대통령은 17일 이시바 총리와 만났다. 두 정상은 협력을 강조했다."
    assert split_sentences(text, "ko") == [
        "이재명 대통령은 17일 이시바 총리와 만났다.",
        "두 정상은 협력을 강조했다.",
    ]


def test_japanese() -> None:
    text = "先日、男性が逮捕された。報道によると「iPhone」です。本当？"
    assert split_sentences(text, "ja") == [
        "先日、男性が逮捕された。",
        "報道によると「iPhone」です。",
        "本当？",
    ]


def test_chinese_region_code() -> None:
    assert split_sentences("你好。我很好！", "zh-TW") == ["你好。", "我很好！"]

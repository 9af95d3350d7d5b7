"""The AI-voice disclosure in the listener's language: the spoken outro and the ID3 comment.

A Japanese article must not end on an English sentence read by a Japanese voice, so the default
outro is looked up by language in ``disclosures.tsv`` (English when the language is not
listed). An outro, intro or comment set explicitly in settings is used as it is, for every
language.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from narration.settings import Settings

_TABLE = Path(__file__).with_name("disclosures.tsv")


@cache
def _lines() -> dict[str, str]:
    lines: dict[str, str] = {}
    for raw in _TABLE.read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith("#"):
            lang, text = raw.split("\t", 1)
            lines[lang.strip().lower()] = text.strip()
    return lines


def disclosure_line(lang: str) -> str:
    """ "This article was written by reporters and read by an AI voice." in ``lang`` (a BCP 47
    tag such as ``ja``, ``pt-BR`` or ``zh-TW``): the regional line if there is one, else the
    base language's, else English."""
    lines = _lines()
    tag = lang.strip().lower().replace("_", "-")
    while tag:
        if tag in lines:
            return lines[tag]
        tag = tag.rpartition("-")[0]
    return lines["en"]


def _explicit(settings: Settings, name: str) -> bool:
    # The English default of a field counts as unset: a settings copy passed on through the
    # environment (NARRATOR_OUTRO_TEXT=<the default>) must not pin every language to English.
    default = Settings.model_fields[name].default
    return name in settings.model_fields_set and getattr(settings, name) != default


def outro_text(settings: Settings, lang: str) -> str | None:
    """The spoken outro: ``settings.outro_text`` when set (``""`` or ``None``: no outro), else
    the disclosure line in ``lang``."""
    if _explicit(settings, "outro_text") or not settings.outro_text:
        return settings.outro_text or None
    return disclosure_line(lang)


def intro_text(settings: Settings) -> str | None:
    """The spoken intro: ``settings.intro_text`` as it is (there is none by default)."""
    return settings.intro_text or None


def comment(settings: Settings, lang: str) -> str:
    """The disclosure for the ID3 comment: ``settings.disclosure`` when set or when ``lang`` is
    English, else the disclosure line in ``lang``."""
    if _explicit(settings, "disclosure") or disclosure_line(lang) == disclosure_line("en"):
        return settings.disclosure
    return disclosure_line(lang)

"""Language tags, normalized once with ``langcodes`` (the IANA registry's data).

A narration's language is the current BCP 47 code of its primary language — ``en-US`` is
``en``, the deprecated ``iw``/``jw``/``in``/``tl`` are ``he``/``jv``/``id``/``fil`` — except
Chinese, whose script a voice needs: ``zh-CN`` (Simplified) or ``zh-TW`` (Traditional). Feeds,
the catalog, ``<html lang>`` and chunk keys all carry this form; formats that want another code
ask here (:func:`iso639_2` for ID3) and engines map it at their own boundary
(:func:`closest_supported`).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import langcodes

from narration.vocabulary import LANG

UNDETERMINED = "und"


@lru_cache(maxsize=1024)
def _language(tag: str) -> langcodes.Language | None:
    """The parsed, normalized tag; ``None`` for junk or a language no registry knows."""
    if not LANG.fullmatch(tag):
        return None
    try:
        language = langcodes.Language.get(tag.replace("_", "-"), normalize=True)
        language.to_alpha3()  # unknown languages ("xx") have none
    except (LookupError, ValueError):
        return None
    if not language.language or language.language == UNDETERMINED:
        return None
    return language


def normalize(tag: str | None) -> str | None:
    """``en-US`` -> ``en``, ``zh_Hant`` -> ``zh-TW``, ``iw`` -> ``he``; junk or unknown -> None."""
    if not tag:
        return None
    language = _language(tag.strip().split(",")[0].strip())
    if language is None:
        return None
    primary = langcodes.standardize_tag(language.language or "", macro=True)
    if primary == "zh":
        return "zh-TW" if language.maximize().script == "Hant" else "zh-CN"
    return primary


def iso639_2(tag: str | None) -> str:
    """The ISO 639-2 (terminology) code ID3's TLAN and COMM frames want; ``und`` if unknown."""
    normal = normalize(tag)
    language = _language(normal) if normal else None
    if language is None:
        return UNDETERMINED
    return language.to_alpha3(variant="T")


def closest_supported(tag: str, supported: Iterable[str]) -> str | None:
    """The code in ``supported`` (an engine's own list, old codes and all) that best speaks
    ``tag``: ``he`` -> ``iw`` and ``fil`` -> ``tl`` for gTTS, ``en-US`` -> ``en``."""
    try:
        match: str | None = langcodes.closest_supported_match(tag, list(supported))
    except (LookupError, ValueError):
        return None
    return match

"""The language to speak: the article's explicit field, else the page's declaration, else
detection. Codes come out as ``narration.languages`` normalizes them: the current BCP 47 code of
the primary language (``en``, ``ko``, ``he``), except Chinese, whose script matters to a voice
(``zh-CN``, ``zh-TW``)."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

from narration.languages import normalize as normalize_lang

__all__ = ["choose_lang", "detect_lang", "normalize_lang"]


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_lang(text: str) -> tuple[str | None, float]:
    """The language of ``text`` and the detector's confidence (0..1)."""
    sample = text[:3000]
    if len(sample.strip()) < 4:
        return None, 0.0  # short text is left to the confidence threshold of the caller
    code, probability = _identifier().classify(sample)
    return normalize_lang(str(code)), float(probability)


def _script(text: str) -> str:
    """The dominant writing system of ``text``: Latin, Hangul, CJK, Cyrillic, Arabic..."""
    counts: dict[str, int] = {}
    for char in text[:3000]:
        if char.isalpha():
            name = unicodedata.name(char, "")
            script = name.split(" ")[0]
            if script in {"HIRAGANA", "KATAKANA"}:
                script = "CJK"
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else ""


def choose_lang(
    explicit: str | None, declared: str | None, text: str, default: str | None = None
) -> str:
    """Explicit wins; a declared language wins unless the text is plainly in another script
    (templates often declare ``en`` on every page); then detection; then ``default``/``en``."""
    if chosen := normalize_lang(explicit):
        return chosen
    detected, confidence = detect_lang(text)
    declared_code = normalize_lang(declared)
    if declared_code:
        if (
            detected
            and detected != declared_code
            and _declaration_is_wrong(declared_code, detected, text, confidence)
        ):
            return detected
        return declared_code
    if detected and confidence >= 0.5:
        return detected
    return normalize_lang(default) or detected or "en"


def _declaration_is_wrong(declared: str, detected: str, text: str, confidence: float) -> bool:
    """Templates declare one language on every page of a site. Overrule the declaration when
    the text is plainly in another script, or when a long text is, beyond doubt, another
    language (an English story on a page that says ``de``)."""
    sample = _SAMPLES.get(declared)
    if confidence > 0.9 and sample and _script(sample) != _script(text):
        return True
    if any({declared, detected} <= group for group in _CLOSE):
        return False  # the detector confuses these; the page knows better
    if confidence > 0.999 and len(text) >= 1000:
        return True
    # A template's "en" on a Spanish story: a few paragraphs that are almost surely not in the
    # declared language (the detector gives English 1e-14 on one Spanish paragraph).
    return confidence > 0.9 and len(text) >= 200 and _probability(declared, text) < 1e-6


def _probability(lang: str, text: str) -> float:
    """How likely the detector finds it that ``text`` is in ``lang`` (1 when it does not know
    the language: it cannot judge)."""
    primary = lang.split("-")[0]
    ranked = dict(_identifier().rank(text[:3000]))
    return float(ranked.get(primary, 1.0))


# Languages the detector mixes up even on long texts.
_CLOSE = (
    {"pt", "gl", "es", "ca"}, {"no", "da", "sv"}, {"id", "ms"}, {"hr", "sr", "bs", "sl"},
    {"cs", "sk"}, {"uk", "ru", "be"}, {"hi", "mr", "ne"}, {"af", "nl"},
)  # fmt: skip


_SAMPLES = {
    "en": "the", "de": "der", "fr": "le", "es": "el", "pt": "o", "it": "il", "nl": "de",
    "ru": "это", "uk": "це", "bg": "на", "sr": "на", "ko": "한국", "ja": "日本", "zh-CN": "中国",
    "zh-TW": "中國", "ar": "في", "he": "של", "el": "και", "th": "ที่", "hi": "है",
}  # fmt: skip

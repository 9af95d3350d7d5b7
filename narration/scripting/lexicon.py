"""Pronunciation lexicon: respellings that make a speech engine say a word right.

The file is tab-separated, one entry a line, ``#`` starts a comment::

    lang<TAB>word<TAB>spoken        e.g.   en	Ishiba	Ishee-bah

``lang`` is a language code or ``*`` for every language. Matching is whole-word. An entry with
a capital letter matches that exact spelling; an all-lowercase entry matches any case and keeps
the capital of a capitalised word ("sake" -> "sah-keh", "Sake" -> "Sah-keh"). In languages
written without spaces (Japanese, Chinese, Thai) the word matches wherever it stands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from narration.errors import NarrationError

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "lexicon" / "lexicon.tsv"
_NO_SPACES = {"ja", "zh", "th", "lo", "km", "my"}


@dataclass
class Lexicon:
    entries: dict[str, dict[str, str]] = field(default_factory=dict)
    """language (or ``*``) -> word -> respelling."""
    _patterns: dict[str, re.Pattern[str] | None] = field(default_factory=dict, repr=False)

    def apply(self, text: str, lang: str) -> str:
        primary = lang.split("-")[0]
        pattern = self._pattern(primary)
        if pattern is None:
            return text
        table = {**self.entries.get("*", {}), **self.entries.get(primary, {})}
        return pattern.sub(lambda m: _respell(m.group(0), table), text)

    def _pattern(self, primary: str) -> re.Pattern[str] | None:
        if primary not in self._patterns:
            self._patterns[primary] = _compile(self.entries, primary)
        return self._patterns[primary]


def _respell(found: str, table: dict[str, str]) -> str:
    if found in table:
        return table[found]
    spoken = table.get(found.lower(), found)
    if found[:1].isupper() and spoken[:1].islower():
        spoken = spoken[:1].upper() + spoken[1:]
    return spoken


def _compile(entries: dict[str, dict[str, str]], primary: str) -> re.Pattern[str] | None:
    words = {**entries.get("*", {}), **entries.get(primary, {})}
    if not words:
        return None
    exact = [re.escape(w) for w in words if w != w.lower()]
    folded = [re.escape(w) for w in words if w == w.lower()]
    alternatives = []
    # Longest first, so "New York Times" wins over "New York".
    if exact:
        alternatives.append("|".join(sorted(exact, key=len, reverse=True)))
    if folded:
        alternatives.append("(?i:" + "|".join(sorted(folded, key=len, reverse=True)) + ")")
    body = "|".join(f"(?:{a})" for a in alternatives)
    if primary in _NO_SPACES:
        return re.compile(body)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)")


def parse_lexicon(text: str, *, source: str = "lexicon") -> Lexicon:
    lexicon = Lexicon()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("\t")]
        if len(parts) != 3 or not all(parts):
            raise NarrationError(f"{source}:{number}: expected 'lang<TAB>word<TAB>spoken'")
        lang, word, spoken = parts
        key = "*" if lang == "*" else lang.lower().split("-")[0]
        lexicon.entries.setdefault(key, {})[word] = spoken
    return lexicon


@lru_cache(maxsize=4)
def load_lexicon(path: Path | None = None) -> Lexicon:
    """The lexicon at ``path`` (the built-in one when None), read once per process."""
    path = path or DEFAULT_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NarrationError(f"cannot read the lexicon {path}: {exc.strerror or exc}") from exc
    return parse_lexicon(text, source=str(path))

"""The words every part of the service shares, each defined once.

The HTTP contract (``narration.contract`` and the OpenAPI document generated from it), the
catalog, the CLI, the engines and the audio store import these names rather than repeat them, so
an engine added or a pattern widened here is widened everywhere at once.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

EngineName = Literal["gtts", "espeak", "piper", "auto"]
ENGINES: tuple[EngineName, ...] = get_args(EngineName)
"""Speech engines a narration may ask for; ``auto`` picks gTTS and falls back offline."""

Priority = Literal["high", "normal", "low"]
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
"""Queue priorities: breaking news first, archive backfills last."""

ArticleSource = Literal["pushed", "pulled"]
"""How an article reached the catalog: PUT by the CMS, or fetched from the article source."""

ARTICLE_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
ARTICLE_ID = re.compile(ARTICLE_ID_PATTERN)
"""A publisher's article ID: it names rows and URLs, never a path on disk."""

AUDIO_KEY_PATTERN = r"[0-9a-f]{16,64}"
AUDIO_KEY = re.compile(AUDIO_KEY_PATTERN)
"""A content key: the hash naming an audio file (and its chunks) in the store."""

STREAM_SEGMENT_PATTERN = r"[0-9]{1,6}-[0-9a-f]{32}"
STREAM_SEGMENT = re.compile(STREAM_SEGMENT_PATTERN)
"""A segment of a narration's HLS stream: its chunk's index and content hash."""

NARRATION_ID_PATTERN = r"[0-9a-f]{32}"
NARRATION_ID = re.compile(NARRATION_ID_PATTERN)

AudioExtension = Literal["mp3", "json", "vtt"]
AUDIO_EXTENSIONS: tuple[AudioExtension, ...] = get_args(AudioExtension)
"""The files of one narration: the audio, its sentence manifest, its WebVTT transcript."""

FEED_NAME_PATTERN = r"[a-z0-9][a-z0-9-]{0,127}"
FEED_NAME = re.compile(FEED_NAME_PATTERN)
"""``all`` or a section's slug."""

LANG_PATTERN = r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*"
LANG = re.compile(LANG_PATTERN)
"""The shape of a BCP 47 language tag (``en``, ``zh-TW``, ``sr-Latn-RS``); ``narration.languages``
decides whether the language exists."""
LANG_MAX_CHARS = 35

_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
_HOST = r"(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+)"
HTTP_URL_PATTERN = (
    rf"https?://(?:(?:{_PCHAR})*@)?{_HOST}(?::[0-9]*)?"
    rf"(?:/(?:{_PCHAR}|/)*)?(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
)
"""An absolute http(s) URL as RFC 3986 writes it (anything else percent-encoded)."""

TITLE_MAX_CHARS = 500
VOICE_MAX_CHARS = 64
URL_MAX_CHARS = 2048
MAX_BATCH = 1000
"""Article IDs in one batch request."""
MAX_WAIT_S = 30
"""Longest ``?wait=`` an on-demand request may hold its connection for."""


def anchored(pattern: str) -> str:
    """``pattern`` for JSON Schema, whose ``pattern`` matches anywhere unless anchored."""
    return f"^(?:{pattern})$"

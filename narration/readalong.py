"""What the player reads along with: the manifest's timed sentences, with paragraph breaks.

The manifest says when each sentence is spoken but not where its paragraph ends; the narration's
plan does (each block's pause: ``sentence``, ``paragraph`` or ``section``). Both are immutable
for a given key, so the result is too.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from narration.store import AudioStore

log = logging.getLogger(__name__)

FIELDS = ("index", "kind", "section", "text", "start_ms", "end_ms", "pause")


def read_along(store: AudioStore, audio_key: str) -> dict[str, Any]:
    """``{"audio_key", "duration_ms", "lang", "sentences": [...]}`` for ``audio_key``.

    Raises ``FileNotFoundError`` when there is no such narration. Without its plan (pruned from
    the store) the sentences simply carry no ``pause``.
    """
    manifest: dict[str, Any] = json.loads(store.audio_path(audio_key, "json").read_text("utf-8"))
    sentences = [{k: s[k] for k in FIELDS if k in s} for s in manifest.get("sentences", [])]
    pauses = _plan_pauses(store, manifest.get("narration_key"))
    for sentence in sentences:
        index = sentence.get("index")
        if "pause" not in sentence and isinstance(index, int) and 0 <= index < len(pauses):
            sentence["pause"] = pauses[index]
    return {
        "audio_key": audio_key,
        "duration_ms": manifest.get("duration_ms"),
        "lang": manifest.get("lang"),
        "sentences": sentences,
    }


def _plan_pauses(store: AudioStore, narration_key: object) -> list[str]:
    if not isinstance(narration_key, str):
        return []
    try:
        plan = store.load_plan(narration_key)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.info("no plan for %s, transcript without paragraph breaks: %s", narration_key, exc)
        return []
    return [str(block.pause) for block in plan.blocks]

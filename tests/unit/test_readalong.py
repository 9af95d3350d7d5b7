"""Read-along timings: the manifest's sentences, with the plan's paragraph breaks."""

from __future__ import annotations

import json

import pytest

from narration.plan import plan_narration
from narration.readalong import read_along
from narration.script import Paragraph, Script, Section, Sentence
from narration.settings import Settings
from narration.store import AudioStore

KEY = "ab" * 16


def script() -> Script:
    def said(*texts: str) -> Paragraph:
        return Paragraph([Sentence(t, t) for t in texts])

    return Script(
        source="test",
        title="Bridge reopens",
        byline=None,
        lang="en",
        sections=[Section(None, [said("One.", "Two."), said("Three.")])],
    )


def write_manifest(store: AudioStore, narration_key: str, count: int) -> None:
    sentences = [
        {"index": i, "kind": "sentence", "section": 0, "text": f"s{i}", "start_ms": i * 1000,
         "end_ms": i * 1000 + 800, "engine": "espeak"}
        for i in range(count)
    ]  # fmt: skip
    manifest = {"narration_key": narration_key, "duration_ms": 5000, "lang": "en"}
    manifest["sentences"] = sentences  # type: ignore[assignment]
    store.write_atomic(store.audio_path(KEY, "json"), json.dumps(manifest).encode())


def test_sentences_carry_the_pause_that_follows_them(settings: Settings) -> None:
    store = AudioStore(settings.audio_cache_dir)
    plan = plan_narration(script(), settings)
    store.save_plan(plan)
    write_manifest(store, plan.narration_key, len(plan.blocks))
    result = read_along(store, KEY)
    assert [s["pause"] for s in result["sentences"]] == [b.pause for b in plan.blocks]
    body = [b.pause for b in plan.blocks if b.kind == "sentence"]
    assert body == ["sentence", "paragraph", "section"]
    assert "engine" not in result["sentences"][0]
    assert result["duration_ms"] == 5000


def test_without_the_plan_there_are_no_pauses(settings: Settings) -> None:
    store = AudioStore(settings.audio_cache_dir)
    write_manifest(store, "cd" * 16, 2)
    result = read_along(store, KEY)
    assert [s["text"] for s in result["sentences"]] == ["s0", "s1"]
    assert all("pause" not in s for s in result["sentences"])


def test_unknown_key(settings: Settings) -> None:
    with pytest.raises(FileNotFoundError):
        read_along(AudioStore(settings.audio_cache_dir), "ef" * 16)

from __future__ import annotations

import json
from pathlib import Path

import pytest

from narration.chunks import Voice, chunk_key
from narration.disclosure import disclosure_line
from narration.engines import get_engine
from narration.errors import NarrationError, PermanentEngineError
from narration.plan import NarrationPlan, plan_narration
from narration.records import StaleRecord
from narration.settings import Settings
from narration.store import AudioStore
from tests.fakes.scripts import make_script, small_script


def test_plan_round_trips_through_json_and_the_store(settings: Settings) -> None:
    plan = plan_narration(small_script(), settings)
    assert NarrationPlan.from_json(plan.to_json()) == plan
    store = AudioStore(settings.audio_cache_dir)
    store.save_plan(plan)
    assert store.load_plan(plan.narration_key) == plan
    assert store.missing_chunks(plan) == list(range(len(plan.chunks)))


def test_a_plan_of_an_older_format_is_planned_again(settings: Settings) -> None:
    """Read back, a plan saved before versions (or of another version) is a miss, never half
    understood."""
    plan = plan_narration(small_script(), settings)
    store = AudioStore(settings.audio_cache_dir)
    store.save_plan(plan)
    old = plan.to_json()
    old.pop("version")
    old["format"] = 1
    store.plan_path(plan.narration_key).write_text(json.dumps(old))
    with pytest.raises(StaleRecord):
        store.load_plan(plan.narration_key)


def test_the_title_and_the_first_sentence_are_chunks_of_their_own(settings: Settings) -> None:
    """So the first audio is ready after one short request, whatever the first paragraph."""
    script = make_script([(None, [["First point made.", "Second point.", "Third point."]])])
    plan = plan_narration(script, settings)
    title, byline, first = plan.chunks[0], plan.chunks[1], plan.chunks[2]
    assert [plan.blocks[p.block].kind for p in title.parts] == ["title"]
    assert [plan.blocks[p.block].kind for p in byline.parts] == ["byline"]
    assert [p.spoken for p in first.parts] == ["First point made."]
    assert [p.spoken for p in plan.chunks[3].parts] == ["Second point.", "Third point."]


def test_plan_speaks_title_byline_body_and_disclosure(settings: Settings) -> None:
    plan = plan_narration(small_script(), settings)
    kinds = [b.kind for b in plan.blocks]
    assert kinds[:2] == ["title", "byline"] and kinds[-1] == "outro"
    assert plan.blocks[1].spoken == "By Sarah Kim"
    assert plan.blocks[-1].text == settings.outro_text
    assert [c["title"] for c in plan.chapters] == [plan.meta["title"], "What comes next"]
    spoken = [p.spoken for c in plan.chunks for p in c.parts]
    assert spoken == [b.spoken for b in plan.blocks]


def test_narration_key_follows_text_settings_and_tags(settings: Settings) -> None:
    base = plan_narration(small_script(), settings).narration_key
    assert plan_narration(small_script(), settings).narration_key == base
    louder = settings.model_copy(update={"target_lufs": -14.0})
    assert plan_narration(small_script(), louder).narration_key != base
    assert plan_narration(small_script(), settings, meta={"album": "Metro"}).narration_key != base
    other = make_script([(None, [["A different sentence."]])])
    assert plan_narration(other, settings).narration_key != base


def test_a_japanese_article_ends_on_a_japanese_disclosure(settings: Settings) -> None:
    plan = plan_narration(small_script(), settings, engine="gtts", lang="ja")
    assert plan.blocks[-1].kind == "outro"
    assert plan.blocks[-1].spoken == disclosure_line("ja") == plan.chunks[-1].spoken
    assert plan.meta["comment"] == disclosure_line("ja")
    english = settings.model_copy(update={"outro_text": disclosure_line("en") + " Thanks."})
    pinned = plan_narration(small_script(), english, engine="gtts", lang="ja")
    assert pinned.blocks[-1].spoken == disclosure_line("en") + " Thanks."
    # Spoken text changed: another narration, another last chunk.
    assert pinned.narration_key != plan.narration_key
    assert pinned.chunks[-1].key != plan.chunks[-1].key
    assert pinned.chunks[:-1] == plan.chunks[:-1]


def test_auto_plans_fallback_keys(settings: Settings) -> None:
    plan = plan_narration(small_script(), settings, engine="auto")
    assert plan.primary.engine == "gtts" and plan.fallback and plan.fallback.engine == "espeak"
    assert all(c.fallback_key and c.fallback_key != c.key for c in plan.chunks)


def test_unknown_engine_voice_or_language_is_refused(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(PermanentEngineError):
        plan_narration(small_script(), settings, engine="nope")
    with pytest.raises(PermanentEngineError):
        plan_narration(small_script(), settings, engine="gtts", lang="xx-notalang")
    with pytest.raises(PermanentEngineError):
        plan_narration(small_script(), settings, engine="espeak", voice="no-such-voice")


def test_narration_key_follows_intro_and_cover_content_not_their_paths(
    settings: Settings, tmp_path: Path
) -> None:
    def placed(folder: str, name: str, data: bytes) -> Path:
        path = tmp_path / folder / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return path

    def key(folder: str, intro: bytes = b"ID3 intro", cover: bytes = b"PNG cover") -> str:
        these = settings.model_copy(update={"intro_audio": placed(folder, "intro.mp3", intro)})
        meta = {"cover": str(placed(folder, "cover.png", cover))}
        return plan_narration(small_script(), these, meta=meta).narration_key

    base = key("checkout-a")
    assert key("checkout-b") == base
    assert key("checkout-c", intro=b"ID3 another intro") != base
    assert key("checkout-d", cover=b"PNG another cover") != base


def test_narration_key_ignores_where_the_script_came_from(settings: Settings) -> None:
    """``narrator narrate ./a.txt`` and ``narrator narrate /home/me/a.txt`` make one file."""
    from dataclasses import replace

    base = plan_narration(small_script(), settings)
    elsewhere = plan_narration(replace(small_script(), source="/home/me/a.txt"), settings)
    assert elsewhere.meta["source"] == "/home/me/a.txt"
    assert elsewhere.narration_key == base.narration_key


@pytest.mark.parametrize("speed", [0.0, -1.0, 10.0])
def test_a_speed_no_engine_can_honour_is_refused(settings: Settings, speed: float) -> None:
    slow = settings.model_copy(update={"speed": speed})
    with pytest.raises(NarrationError, match="speed must be between") as caught:
        plan_narration(small_script(), slow, engine="espeak")
    assert caught.value.field == "speed"


def test_chunk_keys_follow_the_language_gtts_speaks_not_the_one_asked(
    settings: Settings,
) -> None:
    """gTTS speaks ``en`` for ``en-US``: one audio, one key, whichever was asked."""
    en = plan_narration(small_script(), settings, engine="gtts", lang="en")
    # ``en`` keys are what they always were: the language as given, nothing renamed.
    spoken_as = Voice("gtts", get_engine("gtts", settings).version(), "com", "en", 1.0)
    assert [c.key for c in en.chunks] == [chunk_key(spoken_as, c.parts) for c in en.chunks]
    for asked in ("en-US", "EN", "en-us"):
        other = plan_narration(small_script(), settings, engine="gtts", lang=asked)
        assert [c.key for c in other.chunks] == [c.key for c in en.chunks]
        assert other.lang == asked  # the narration's language is still the one asked for
    assert plan_narration(small_script(), settings, engine="gtts", lang="fr-CA").primary.lang == (
        "fr-CA"
    )

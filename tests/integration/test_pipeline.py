"""The whole pipeline in one process, on the seed article, with the gTTS stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gtts import gTTS
from mutagen.id3 import ID3

from narration import pipeline
from narration.loudness import measure
from narration.pipeline import narrate
from narration.plan import plan_narration
from narration.script import Script
from narration.scripting import build_script, load_article
from narration.settings import Settings
from narration.transcript import parse_vtt
from tests.fakes.gtts_server import GttsStandIn
from tests.fakes.scripts import small_script

pytestmark = pytest.mark.integration

EDITED = "They further called on the two countries"


@pytest.fixture
def gtts_settings(settings: Settings, gtts_server: GttsStandIn) -> Settings:
    return settings.model_copy(update={"gtts_endpoint": gtts_server.url, "engine": "gtts"})


def _script(path: Path, settings: Settings) -> Script:
    return build_script(load_article(path), source=str(path), settings=settings)


def _requests_for(texts: list[str], lang: str) -> list[str]:
    """The pieces gTTS would send for ``texts`` (what the stand-in should have been asked)."""
    from urllib.parse import unquote

    pieces = []
    for text in texts:
        for body in gTTS(text, lang=lang, lang_check=False).get_bodies():
            rpc = json.loads(unquote(body.removeprefix("f.req=").rstrip("&")))
            pieces.append(json.loads(rpc[0][0][1])[0])
    return pieces


def test_seed_with_gtts(
    gtts_settings: Settings, gtts_server: GttsStandIn, seed_article: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "seed.mp3"
    seen: list[tuple[int, int]] = []
    script = _script(seed_article, gtts_settings)
    result = narrate(script, out, gtts_settings, progress=lambda d, t: seen.append((d, t)))
    assert result.paths == {
        "mp3": out,
        "json": out.with_suffix(".json"),
        "vtt": out.with_suffix(".vtt"),
    }
    manifest = json.loads(out.with_suffix(".json").read_text())
    assert manifest["engines"] == ["gtts"] and manifest["lang"] == "en"
    loudness = measure(str(gtts_settings.ffmpeg_binary or "ffmpeg"), out)
    assert -17.0 <= loudness.integrated_lufs <= -15.0 and loudness.true_peak_dbtp <= -1.0
    assert str(ID3(out)["TIT2"]) == script.title
    cues = parse_vtt(out.with_suffix(".vtt").read_text())
    spoken = [b.text for b in script.blocks()]
    assert [c[2] for c in cues][: len(spoken)] == spoken
    assert seen[-1] == (len(manifest["chunks"]), len(manifest["chunks"]))


def test_editing_one_sentence_resynthesizes_only_its_chunk(
    gtts_settings: Settings, gtts_server: GttsStandIn, seed_article: Path, tmp_path: Path
) -> None:
    narrate(_script(seed_article, gtts_settings), tmp_path / "v1.mp3", gtts_settings)
    first_requests = gtts_server.requests
    assert first_requests > 20

    original = seed_article.read_text()
    assert original.count(EDITED) == 1
    edited_path = tmp_path / "edited.txt"
    edited_path.write_text(original.replace(EDITED, "They also called on the two countries"))
    before = plan_narration(_script(seed_article, gtts_settings), gtts_settings)
    after_script = _script(edited_path, gtts_settings)
    after = plan_narration(after_script, gtts_settings)
    changed = [c for c in after.chunks if c.key not in {b.key for b in before.chunks}]
    assert len(changed) == 1
    assert any("They also called on" in p.spoken for p in changed[0].parts)

    gtts_server.reset_counts()
    narrate(after_script, tmp_path / "v2.mp3", gtts_settings)
    # The chunk's requests go out together, so they arrive in any order.
    expected = _requests_for([p.spoken for p in changed[0].parts], "en")
    assert sorted(gtts_server.texts) == sorted(expected)
    assert gtts_server.requests == len(gtts_server.texts) < first_requests / 5


def test_a_failed_copy_to_the_output_leaves_nothing_half_written(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Publishing to another disk copies; a copy cut short (disk full) leaves the previous
    output whole and no temporary file beside it."""
    out = tmp_path / "out" / "article.mp3"
    out.parent.mkdir()
    out.write_bytes(b"the previous narration")

    def cross_device(src: object, dst: object) -> None:
        raise OSError(18, "Invalid cross-device link")

    def disk_full(src: Path, dst: Path) -> None:
        Path(dst).write_bytes(Path(src).read_bytes()[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pipeline.os, "link", cross_device)
    monkeypatch.setattr(pipeline.shutil, "copyfile", disk_full)
    with pytest.raises(OSError, match="No space left"):
        narrate(small_script(), out, settings, engine="espeak")
    assert out.read_bytes() == b"the previous narration"
    assert [p.name for p in out.parent.iterdir()] == ["article.mp3"]

"""Stitching checked the way a listener's player and a podcast app see the result."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3

from narration import stitch
from narration.audio import decode, run_ffmpeg
from narration.loudness import measure, plan_gain
from narration.pipeline import synthesize_missing
from narration.plan import NarrationPlan, plan_narration
from narration.settings import Settings
from narration.stitch import stitch_narration
from narration.store import AudioStore
from narration.synthesis import synthesize_chunk
from narration.transcript import parse_vtt
from tests.fakes.gtts_server import GttsStandIn
from tests.fakes.scripts import small_script

pytestmark = pytest.mark.integration

BUNDLED = "imageio"
LOUD, QUIET = 2000, 400  # sample peaks: speech vs. the silence of a pause after MP3 coding


def _ffmpeg(which: str) -> str:
    if which == BUNDLED:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    system = shutil.which("ffmpeg")
    if not system:
        pytest.skip("no system ffmpeg")
    return system


@pytest.fixture(params=[BUNDLED, "system"])
def ffmpeg_settings(
    request: pytest.FixtureRequest,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    """Both ffmpeg set-ups; with the bundled one, nothing else (no ffprobe) is on PATH."""
    binary = _ffmpeg(request.param)
    if request.param == BUNDLED:
        empty = tmp_path / "empty-path"
        empty.mkdir()
        monkeypatch.setenv("PATH", str(empty))
    return settings.model_copy(update={"ffmpeg_binary": binary})


def _stitched(settings: Settings, **plan_args: Any) -> tuple[NarrationPlan, AudioStore, Any]:
    store = AudioStore(settings.audio_cache_dir)
    plan = plan_narration(small_script(), settings, **plan_args)
    synthesize_missing(plan, store, settings)
    return plan, store, stitch_narration(plan, store, settings)


def assert_heard_where_the_manifest_says(
    ffmpeg: str, mp3: Path, sentences: list[dict[str, Any]]
) -> None:
    """Speech within 50 ms of each sentence's start and end, silence just outside them."""
    pcm = np.abs(decode(ffmpeg, mp3, 24_000).astype(np.int32))

    def peak(a_ms: int, b_ms: int) -> int:
        segment = pcm[max(a_ms, 0) * 24 : max(b_ms, 0) * 24]
        return int(segment.max()) if segment.size else 0

    onset = 32768 * 10 ** (-30 / 20)
    for n, s in enumerate(sentences):
        start, end = s["start_ms"], s["end_ms"]
        # Speech begins within 40 ms of the start (engines' silence is trimmed to 30 ms) and
        # its last loud sample lies within 60 ms before the end. The manifest counts whole
        # milliseconds and a decoded MP3 rings a few samples past a cut, so the end may be
        # passed by under a millisecond.
        around_start = np.flatnonzero(pcm[max(start - 150, 0) * 24 : (start + 300) * 24] > onset)
        first_loud = around_start[0] / 24 + max(start - 150, 0)
        around_end = np.flatnonzero(pcm[(end - 300) * 24 : (end + 150) * 24] > onset)
        last_loud = around_end[-1] / 24 + end - 300
        assert start <= first_loud <= start + 40, (s, first_loud)
        assert end - 60 <= last_loud < end + 1, (s, last_loud)
        assert peak(start, start + 250) > LOUD, s
        assert peak(end - 250, end) > LOUD, s
        if n > 0:
            assert peak(start - 300, start - 50) < QUIET, s
        if n < len(sentences) - 1:
            assert peak(end + 50, end + 300) < QUIET, s


def test_stitched_narration_is_in_spec(ffmpeg_settings: Settings) -> None:
    ffmpeg = str(ffmpeg_settings.ffmpeg_binary)
    plan, store, result = _stitched(ffmpeg_settings)
    mp3, manifest_path, vtt = result.paths["mp3"], result.paths["json"], result.paths["vtt"]
    assert mp3 == store.audio_path(plan.narration_key, "mp3")
    manifest = json.loads(manifest_path.read_text())

    # Loudness and true peak, measured independently on the file.
    loudness = measure(ffmpeg, mp3)
    assert -17.0 <= loudness.integrated_lufs <= -15.0
    assert loudness.true_peak_dbtp <= -1.0

    # MP3: CBR 64 kbps mono at the speech's own 24 kHz; duration agrees with the manifest.
    info = MP3(mp3).info
    assert info is not None
    assert (info.sample_rate, info.channels, info.bitrate) == (24_000, 1, 64_000)
    decoded_ms = decode(ffmpeg, mp3, 24_000).size / 24
    assert abs(decoded_ms - manifest["duration_ms"]) <= 50
    assert abs(info.length * 1000 - manifest["duration_ms"]) <= 100

    # ID3v2.4 tags, disclosure and chapters.
    tags = ID3(mp3)
    assert tags.version[:2] == (2, 4)
    assert str(tags["TIT2"]) == plan.meta["title"]
    assert str(tags["TPE1"]) == "Sarah Kim"
    assert str(tags["TLAN"]) == "eng"
    assert tags.getall("COMM")[0].text[0] == ffmpeg_settings.disclosure
    chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert [str(c.sub_frames["TIT2"]) for c in chapters] == [c["title"] for c in plan.chapters]
    assert chapters[0].start_time == 0 and chapters[-1].end_time == manifest["duration_ms"]
    assert tags.getall("CTOC")[0].child_element_ids == [c.element_id for c in chapters]

    # Manifest and transcript: every block, in order, where it is heard.
    sentences = manifest["sentences"]
    assert [s["text"] for s in sentences] == [b.text for b in plan.blocks]
    assert manifest["engine"] == "espeak" and manifest["voice"] == plan.voice
    assert [c["key"] for c in manifest["chunks"]] == [c.key for c in plan.chunks]
    cues = parse_vtt(vtt.read_text())
    assert [(c[0], c[1]) for c in cues] == [(s["start_ms"], s["end_ms"]) for s in sentences]
    assert [c[2] for c in cues] == [s["text"] for s in sentences]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(cues))
    assert_heard_where_the_manifest_says(ffmpeg, mp3, sentences)


def test_stitching_again_is_a_no_op(settings: Settings) -> None:
    plan, store, first = _stitched(settings)
    stamp = os.stat(first.paths["mp3"]).st_mtime_ns
    again = stitch_narration(plan, store, settings)
    assert again.cached and again.audio_key == first.audio_key
    assert os.stat(first.paths["mp3"]).st_mtime_ns == stamp
    assert [p.name for p in store.root.iterdir() if p.name.startswith(".")] == []


def test_intro_audio_and_cover(settings: Settings, tmp_path: Path) -> None:
    ffmpeg = _ffmpeg("system") if shutil.which("ffmpeg") else _ffmpeg(BUNDLED)
    jingle, cover = tmp_path / "jingle.wav", tmp_path / "cover.png"
    run_ffmpeg(ffmpeg, ["-f", "lavfi", "-i", "sine=f=440:d=2", "-y", str(jingle)])
    run_ffmpeg(
        ffmpeg, ["-f", "lavfi", "-i", "color=red:s=16x16", "-frames:v", "1", "-y", str(cover)]
    )
    with_intro = settings.model_copy(update={"intro_audio": jingle})
    plan, _, result = _stitched(with_intro, meta={"cover": str(cover)})
    manifest = json.loads(result.paths["json"].read_text())
    assert manifest["sentences"][0]["start_ms"] == 2000 + plan.stitch.pauses_ms["section"]
    apic = ID3(result.paths["mp3"]).getall("APIC")[0]
    assert apic.mime == "image/png" and apic.data == cover.read_bytes()
    assert_heard_where_the_manifest_says(ffmpeg, result.paths["mp3"], manifest["sentences"])


def test_fallback_chunks_get_their_own_audio_key(settings: Settings) -> None:
    offline = settings.model_copy(update={"gtts_endpoint": "http://127.0.0.1:9"})
    plan, store, result = _stitched(offline, engine="auto")
    assert result.audio_key != plan.narration_key
    manifest = json.loads(result.paths["json"].read_text())
    assert {c["engine"] for c in manifest["chunks"]} == {"espeak"}
    assert [c["key"] for c in manifest["chunks"]] == [c.fallback_key for c in plan.chunks]
    assert not store.has_audio(plan.narration_key)


def test_manifest_records_the_engine_of_each_chunk(
    settings: Settings, gtts_server: GttsStandIn
) -> None:
    online = settings.model_copy(update={"gtts_endpoint": gtts_server.url})
    offline = settings.model_copy(update={"gtts_endpoint": "http://127.0.0.1:9"})
    store = AudioStore(settings.audio_cache_dir)
    plan = plan_narration(small_script(), online, engine="auto")
    assert synthesize_chunk(plan, 0, store, online).engine == "gtts"
    synthesize_missing(plan, store, offline)  # Google gone after the first chunk
    result = stitch_narration(plan, store, offline)
    manifest = json.loads(result.paths["json"].read_text())
    engines = [c["engine"] for c in manifest["chunks"]]
    assert engines == ["gtts"] + ["espeak"] * (len(plan.chunks) - 1)
    assert manifest["engines"] == ["espeak", "gtts"]
    assert manifest["chunks"][0]["key"] == plan.chunks[0].key
    assert manifest["chunks"][1]["key"] == plan.chunks[1].fallback_key


def test_the_outro_is_read_in_the_articles_voice(
    settings: Settings, gtts_server: GttsStandIn
) -> None:
    online = settings.model_copy(update={"gtts_endpoint": gtts_server.url, "tts_retries": 0})
    offline = settings.model_copy(update={"gtts_endpoint": "http://127.0.0.1:9"})
    store = AudioStore(settings.audio_cache_dir)
    plan = plan_narration(small_script(), online, engine="auto")
    outro = len(plan.chunks) - 1
    assert plan.blocks[plan.chunks[outro].parts[0].block].kind == "outro"
    # Google spoke the outro (for an earlier article); today it is unreachable.
    assert synthesize_chunk(plan, outro, store, online).engine == "gtts"
    synthesize_missing(plan, store, offline)
    result = stitch_narration(plan, store, offline)
    engines = [c["engine"] for c in json.loads(result.paths["json"].read_text())["chunks"]]
    assert engines == ["espeak"] * len(plan.chunks)

    # The other way round: the outro was cached in espeak's voice, Google read the article.
    store2 = AudioStore(settings.audio_cache_dir / "second")
    assert synthesize_chunk(plan, outro, store2, offline).engine == "espeak"
    synthesize_missing(plan, store2, online)
    result = stitch_narration(plan, store2, online)
    assert result.audio_key == plan.narration_key
    engines = [c["engine"] for c in json.loads(result.paths["json"].read_text())["chunks"]]
    assert engines == ["gtts"] * len(plan.chunks)


def _decoded(mp3: Path) -> np.ndarray:
    import soundfile

    samples, rate = soundfile.read(str(mp3), dtype="int16")
    assert rate == 24_000
    return np.asarray(samples, dtype=np.int32)


def test_sentence_timings_in_the_manifest_are_within_20_ms_of_the_audio(
    settings: Settings, gtts_server: GttsStandIn
) -> None:
    """Where each sentence's sound begins and ends in the decoded MP3 (its first and last
    sample above -50 dBFS around the manifest's times; pauses are digital silence) is within
    20 ms of the manifest, for the offline engine and for gTTS's MP3 answers alike."""
    online = settings.model_copy(update={"gtts_endpoint": gtts_server.url, "engine": "gtts"})
    for these in (settings, online):
        plan, _, result = _stitched(these)
        pcm = np.abs(_decoded(result.paths["mp3"]))
        sentences = json.loads(result.paths["json"].read_text())["sentences"]
        assert len(sentences) == len(plan.blocks) >= 6
        errors: list[float] = []
        for s in sentences:
            start, end = s["start_ms"] * 24, s["end_ms"] * 24
            window = pcm[max(start - 200 * 24, 0) : end + 200 * 24]
            sound = np.flatnonzero(window > 100) + max(start - 200 * 24, 0)
            errors.append((sound[0] - start) / 24)
            errors.append((sound[-1] - end) / 24)
        assert max(abs(e) for e in errors) <= 20


def test_no_clicks_or_gaps_at_chunk_joins(settings: Settings) -> None:
    """Every join between two parts -- inside a chunk and between chunks -- is the planned
    pause exactly: no sound missing or added (a gap), and the sound on either side fades to
    silence instead of jumping to it (a click): in the PCM fed to the encoder the first and
    last samples of each part are at the noise floor, and in the MP3 the pause side of every
    join is silent."""
    plan, store, result = _stitched(settings)
    manifest = json.loads(result.paths["json"].read_text())
    sentences = manifest["sentences"]
    pauses = plan.stitch.pauses_ms
    for before, after in itertools.pairwise(sentences):
        block = plan.blocks[before["index"]]
        assert after["start_ms"] - before["end_ms"] == pytest.approx(pauses[block.pause], abs=1)
    assert manifest["duration_ms"] == sentences[-1]["end_ms"]

    # The PCM the encoder is fed, part by part.
    keys = [c.key for c in plan.chunks]
    sidecars = [store.chunk_meta(k) for k in keys]
    timeline = stitch.Timeline.of(plan, sidecars, None, None)
    gain = plan_gain(
        timeline.measurements(),
        plan.stitch.target_lufs,
        plan.stitch.true_peak_dbtp,
        true_peak_dbfs=-3.0,
    )
    pieces = list(stitch._pcm(store, keys, sidecars, timeline, gain))
    parts = [
        np.frombuffer(piece, dtype="<i2")
        for piece, run in zip(pieces, timeline.runs, strict=True)
        if isinstance(run, stitch._Audio)
    ]
    assert len(parts) == sum(len(c.parts) for c in plan.chunks)
    for part in parts:
        assert abs(int(part[0])) <= 64 and abs(int(part[-1])) <= 64
        # The sound itself fades, not digital silence after it: an engine that stops mid-sound
        # and writes zeros (eSpeak's final "t") would pass the check above and still click.
        # The first and last millisecond of sound are a fraction of the level inside the fade.
        level = np.abs(part.astype(np.int32))
        audible = np.flatnonzero(level > 64)
        first, last, ms = int(audible[0]), int(audible[-1]), 24
        assert level[first : first + ms].max() <= max(
            QUIET, level[first + 5 * ms : first + 10 * ms].max() // 4
        )
        assert level[last - ms : last + 1].max() <= max(
            QUIET, level[last - 10 * ms : last - 5 * ms].max() // 4
        )

    # The MP3 a listener hears: no burst on the pause's side of a join, none inside it. The
    # codec smears a sentence's last sound a few milliseconds into the pause (more audibly
    # when a quiet voice is raised 15 dB to the loudness target): next to a join the pause may
    # carry that tail, never more than the sound it follows or precedes within one of the
    # codec's transform windows (576 samples, 24 ms), which is what spreads it.
    pcm = np.abs(_decoded(result.paths["mp3"]))
    window = 576
    for before, after in itertools.pairwise(sentences):
        end, start = before["end_ms"] * 24, after["start_ms"] * 24
        tail, lead_in = pcm[end - window : end].max(), pcm[start : start + window].max()
        assert pcm[end : end + 5 * 24].max() < max(QUIET, tail)
        assert pcm[start - 5 * 24 : start].max() < max(QUIET, lead_in)
        middle = pcm[(before["end_ms"] + 30) * 24 : (after["start_ms"] - 30) * 24]
        assert middle.max() < QUIET  # the pause is silence, all of it


def test_the_mp3_reaches_the_disk_before_it_takes_its_name(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = AudioStore(settings.audio_cache_dir)
    plan = plan_narration(small_script(), settings, engine="espeak")
    synthesize_missing(plan, store, settings)
    synced: list[tuple[str, int]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), os.fstat(fd).st_size))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    result = stitch_narration(plan, store, settings)
    # Written whole to a temporary name beside its final one, synced, then renamed.
    temporary = f".{result.audio_key}.mp3."
    mp3s = [(Path(p), size) for p, size in synced if Path(p).name.startswith(temporary)]
    assert [p.parent for p, _ in mp3s] == [store.root]
    assert mp3s[0][1] == result.bytes


def test_two_stitches_of_one_narration_at_once_agree(settings: Settings) -> None:
    """Two workers given the same narration (a redelivered task) both finish, and what is
    served is one whole narration with no temporary files left beside it."""
    from concurrent.futures import ThreadPoolExecutor

    store = AudioStore(settings.audio_cache_dir)
    plan = plan_narration(small_script(), settings, engine="espeak")
    synthesize_missing(plan, store, settings)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: stitch_narration(plan, store, settings), range(2)))
    assert {r.audio_key for r in results} == {plan.narration_key}
    assert results[0].bytes == results[1].bytes == results[0].paths["mp3"].stat().st_size
    manifest = json.loads(results[0].paths["json"].read_text())
    assert manifest["audio_key"] == plan.narration_key
    assert MP3(results[0].paths["mp3"]).info.length * 1000 == pytest.approx(
        manifest["duration_ms"], abs=100
    )
    assert [p.name for p in store.root.iterdir() if p.name.startswith(".")] == []


class CountingLimiter:
    """A request limiter that lets everything through and counts what it let through."""

    def __init__(self) -> None:
        self.acquired = 0

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        self.acquired += 1
        yield


def test_gtts_re_speaking_the_outro_at_stitch_goes_through_the_rate_limiter(
    settings: Settings, gtts_server: GttsStandIn
) -> None:
    online = settings.model_copy(update={"gtts_endpoint": gtts_server.url, "tts_retries": 0})
    offline = settings.model_copy(update={"gtts_endpoint": "http://127.0.0.1:9"})
    store = AudioStore(settings.audio_cache_dir)
    plan = plan_narration(small_script(), online, engine="auto")
    outro = len(plan.chunks) - 1
    # The outro was cached in espeak's voice; Google read the article, so it re-speaks the outro.
    assert synthesize_chunk(plan, outro, store, offline).engine == "espeak"
    synthesize_missing(plan, store, online)
    gtts_server.reset_counts()
    limiter = CountingLimiter()
    result = stitch_narration(plan, store, online, rate_limiter=limiter)
    engines = [c["engine"] for c in json.loads(result.paths["json"].read_text())["chunks"]]
    assert engines[outro] == "gtts"
    assert gtts_server.requests > 0
    assert limiter.acquired == gtts_server.requests


def test_a_narration_encoded_in_parts_at_once_is_the_narration_encoded_whole(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The encode split over cores (three parts here, cut in pauses) gives, decoded, the very
    samples of one encode of the whole; its Info frame describes the whole file: duration,
    gapless delay and padding, the music's CRC and the tag's own."""
    from narration import encoding, mp3frames

    store = AudioStore(settings.audio_cache_dir)
    plan = plan_narration(small_script(), settings)
    synthesize_missing(plan, store, settings)

    real = encoding.plan_cuts

    def stitched(parts: int, where: str) -> tuple[Path, list[int]]:
        cuts: list[int] = []

        def planned(total: int, pauses: list[tuple[int, int]], rate: int, _: int) -> list[int]:
            cuts.extend(real(total, pauses, rate, parts))
            return cuts

        monkeypatch.setattr(encoding, "plan_cuts", planned)
        result = stitch_narration(plan, store, settings)
        kept = Path(settings.audio_cache_dir).parent / f"{where}.mp3"
        shutil.copyfile(result.paths["mp3"], kept)
        for path in result.paths.values():
            path.unlink()
        return kept, cuts

    whole, no_cuts = stitched(1, "whole")
    parted, cuts = stitched(3, "parted")
    assert no_cuts == [] and len(cuts) == 2

    a, b = _decoded(whole).astype(np.int64), _decoded(parted).astype(np.int64)
    assert a.size == b.size

    def snr_db(ref: np.ndarray, got: np.ndarray) -> float:
        noise = np.sqrt(np.mean((ref - got) ** 2.0))
        return float(20 * np.log10(np.sqrt(np.mean(ref**2.0)) / max(noise, 1e-9)))

    # Up to the first cut, the one encoder and the first part's are the same encoder on the
    # same samples: every sample is the whole file's. After a cut a fresh encoder starts, its
    # bit reservoir and masking model not where the one encoder's were, until they happen to
    # meet again: there the coding noise differs, by as much as coding noise, nothing more.
    end_of_first = cuts[0] - encoding.PART_GAP - encoding.FRAME
    assert np.array_equal(a[:end_of_first], b[:end_of_first])
    for cut in cuts:
        assert np.all(b[cut - encoding.PART_GAP : cut + encoding.FRAME] == 0)  # in silence
        after = slice(cut, cut + 3 * 24_000)
        assert snr_db(a[after], b[after]) > 15
    assert snr_db(a, b) > 20
    assert MP3(parted).info.length == pytest.approx(MP3(whole).info.length, abs=1e-6)
    ffmpeg = stitch.find_ffmpeg(settings.ffmpeg_binary)
    pcm = decode(ffmpeg, parted, 24_000)
    assert pcm.size == a.size  # ffmpeg honours the joined Info frame's delay and padding too

    data = parted.read_bytes()
    index = mp3frames.index_frames(data)
    tag = mp3frames.lame_tag(data, index)
    assert tag.music_crc == mp3frames.crc16(data[int(index.offsets[1]) :])
    assert tag.music_length == int(index.offsets[-1] + index.sizes[-1] - index.offsets[0])
    info = bytearray(data[int(index.offsets[0]) : int(index.offsets[1])])
    at = 4 + 9 + 120 + 34  # header, side information, Xing header, LAME tag up to its CRC
    stored = int.from_bytes(info[at : at + 2], "big")
    info[at : at + 2] = b"\0\0"
    assert mp3frames.crc16(bytes(info[: mp3frames.TAG_CRC_SPAN])) == stored


def test_parts_are_cut_in_pauses_at_frame_boundaries() -> None:
    from narration import encoding

    pauses = [(48_000, 56_400), (1_200_000, 1_208_400), (2_400_000, 2_431_200)]
    cuts = encoding.plan_cuts(3_600_000, pauses, 24_000, 3)
    assert len(cuts) == 2
    for start, cut in zip([0, *cuts[:-1]], cuts, strict=True):
        assert (cut - start) % encoding.FRAME == 0
        assert any(a + encoding.PART_GAP <= cut <= b for a, b in pauses)
    # Encoded whole: one part wanted, another output rate, or no pause long enough.
    assert encoding.plan_cuts(3_600_000, pauses, 24_000, 1) == []
    assert encoding.plan_cuts(3_600_000, pauses, 44_100, 3) == []
    assert encoding.plan_cuts(3_600_000, [(1000, 1500)], 24_000, 2) == []

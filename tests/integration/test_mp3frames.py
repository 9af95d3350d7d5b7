"""Stretches cut out of a real MP3 (encoded here by ffmpeg's LAME) decode exactly as inside the
whole file, at the stitch's own settings and others a publisher may choose."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from narration import mp3frames
from narration.audio import find_ffmpeg, run_ffmpeg

pytestmark = pytest.mark.integration

ENCODER_DELAY = 1105  # LAME: 576 + 529 samples before the audio; a gapless decode drops them


def _speechlike(seconds: float, rate: int = 24000) -> np.ndarray:
    """Loud, changing tones with pauses: frames of every size of reservoir use."""
    t = np.arange(int(seconds * rate)) / rate
    tone = np.sin(2 * np.pi * (180 + 90 * np.sin(2 * np.pi * 0.7 * t)) * t)
    tone += 0.4 * np.sin(2 * np.pi * 2400 * t) * (np.sin(2 * np.pi * 3.1 * t) > 0)
    gate = (np.sin(2 * np.pi * 0.9 * t) > -0.6).astype(float)
    rng = np.random.default_rng(7)
    return (0.45 * tone * gate + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


def _encode(tmp_path: Path, rate: int, kbps: int) -> tuple[bytes, np.ndarray]:
    ffmpeg = find_ffmpeg(None)
    raw = tmp_path / "in.f32"
    _speechlike(20.0).tofile(raw)
    mp3 = tmp_path / f"{rate}-{kbps}.mp3"
    args = ["-f", "f32le", "-ar", "24000", "-ac", "1", "-i", str(raw), "-ar", str(rate)]
    args += ["-c:a", "libmp3lame", "-b:a", f"{kbps}k", "-id3v2_version", "0", "-y", str(mp3)]
    run_ffmpeg(ffmpeg, args)
    data = mp3.read_bytes()
    # The whole file through the same decoder (gapless: the encoder delay dropped). ffmpeg's
    # own decoder differs from libmpg123 on this signal by far more than rounding; on
    # speech the two agree to 1e-5.
    return data, mp3frames.decode_stretch(data)


@pytest.mark.parametrize(("rate", "kbps"), [(24000, 64), (44100, 64), (22050, 32), (16000, 8)])
def test_a_cut_out_stretch_decodes_as_in_the_whole_file(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], rate: int, kbps: int
) -> None:
    data, whole = _encode(tmp_path, rate, kbps)
    index = mp3frames.index_frames(data)
    assert index.sample_rate == rate
    assert index.has_info_frame
    per_frame = index.samples_per_frame
    assert abs(len(index) * per_frame - whole.size) < 4 * per_frame
    checked = 0
    for first in np.linspace(index.first_audio, len(index) - 8, 60).astype(int):
        stretch = mp3frames.standalone_stretch(data, index, int(first), 6)
        lead = mp3frames.lead_frames(index, int(first))
        got = mp3frames.decode_stretch(stretch)[lead * per_frame : (lead + 6) * per_frame]
        at = (int(first) - index.first_audio) * per_frame - ENCODER_DELAY
        if at < 0:
            continue  # the whole file's decode drops the encoder delay there
        expected = whole[at : at + got.size]
        assert got.size == 6 * per_frame
        assert np.max(np.abs(expected - got[: expected.size])) < 1e-4
        checked += 1
    assert checked >= 50
    # libmpg123 says nothing: no frame pointed back into frames that were not there.
    assert "error" not in capfd.readouterr().err


def test_without_the_silent_lead_a_stretch_decodes_wrongly(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """What the silent frames are for: the same frames, cut out bare, lose their reservoir."""
    data, whole = _encode(tmp_path, 24000, 64)
    index = mp3frames.index_frames(data)
    per_frame = index.samples_per_frame
    worst = 0.0
    for first in np.linspace(40, len(index) - 8, 30).astype(int):
        start, end = index.offsets[first], index.offsets[first + 6]
        got = mp3frames.decode_stretch(data[start:end])
        at = (int(first) - index.first_audio) * per_frame - ENCODER_DELAY
        # frames decoded at all start at the first with its reservoir in hand; compare the end
        tail = got[-2 * per_frame :]
        expected = whole[at + 6 * per_frame - tail.size : at + 6 * per_frame]
        worst = max(worst, float(np.max(np.abs(expected - tail))) if tail.size else 1.0)
    complaints = capfd.readouterr().err
    assert worst > 1e-3 or "error" in complaints


def test_anything_but_mono_layer_iii_is_refused() -> None:
    with pytest.raises(mp3frames.Mp3FrameError):
        mp3frames.index_frames(b"RIFF\x00\x00\x00\x00WAVEfmt ")
    stereo = bytes([0xFF, 0xF3, 0x84, 0x00]) + bytes(188)
    with pytest.raises(mp3frames.Mp3FrameError, match="mono"):
        mp3frames.index_frames(stereo)

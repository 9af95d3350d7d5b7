"""Trimming and fading a part's edges: what is kept ends where the sound does."""

from __future__ import annotations

import numpy as np

from narration.audio import FADE_MS, fade_edges, trim_silence

RATE = 24_000
MS = RATE // 1000


def _noise(ms: int, level: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(-level, level, ms * MS).astype(np.int16)


def test_a_sound_cut_off_mid_burst_is_faded_where_it_stops_not_in_the_zeros_after_it() -> None:
    # An engine that stops a final burst at full level, then writes 6 ms of zeros.
    burst = _noise(100, 8000)
    samples = np.concatenate([np.zeros(40 * MS, np.int16), burst, np.zeros(6 * MS, np.int16)])
    kept = trim_silence(samples, RATE)
    assert kept.size == burst.size
    faded = np.abs(fade_edges(kept, RATE).astype(np.int32))
    assert faded[-MS:].max() < 8000 // 8  # the last millisecond is well into the fade
    assert faded[:MS].max() < 8000 // 8
    assert faded[FADE_MS * MS : -FADE_MS * MS].max() > 7000  # the sound between is untouched


def test_soft_edges_below_the_threshold_are_kept_up_to_keep_ms() -> None:
    # Speech at -20 dBFS with 30 ms of a -60 dBFS tail and then true silence.
    speech, tail = _noise(200, 3277), _noise(30, 33, seed=2)
    samples = np.concatenate([speech, tail, np.zeros(50 * MS, np.int16)])
    kept = trim_silence(samples, RATE, keep_ms=15)
    assert kept.size == speech.size + 15 * MS


def test_silence_alone_is_trimmed_to_nothing() -> None:
    assert trim_silence(np.zeros(RATE, np.int16), RATE).size == 0
    assert trim_silence(np.zeros(0, np.int16), RATE).size == 0

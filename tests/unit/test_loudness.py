from __future__ import annotations

import pytest

from narration.loudness import Loudness, parse_ebur128, plan_normalization

LOG = """[Parsed_ebur128_0 @ 0x55] Summary:

  Integrated loudness:
    I:         -23.4 LUFS
    Threshold: -33.7 LUFS

  True peak:
    Peak:       -4.2 dBFS
"""


def test_parse_ebur128_summary() -> None:
    assert parse_ebur128(LOG) == Loudness(-23.4, -4.2)


def test_gain_brings_loudness_to_target() -> None:
    norm = plan_normalization(Loudness(-23.4, -4.2), -16.0, -1.0, margin_db=1.0)
    assert norm.gain_db == pytest.approx(7.4)
    assert norm.limit_dbfs == pytest.approx(-2.0)  # margin given explicitly
    assert "volume=7.40dB" in norm.filters()
    assert "alimiter=limit=0.7943" in norm.filters()
    assert "level=disabled" in norm.filters()


def test_silence_gets_no_gain() -> None:
    assert plan_normalization(Loudness(float("-inf"), float("-inf")), -16.0, -1.0).gain_db == 0.0

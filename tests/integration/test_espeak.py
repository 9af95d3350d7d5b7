from __future__ import annotations

import pytest

from narration.engines import get_engine
from narration.errors import PermanentEngineError
from narration.settings import Settings

pytestmark = pytest.mark.integration


def test_speaks_offline(settings: Settings) -> None:
    engine = get_engine("espeak", settings)
    assert engine.version().startswith("espeak-ng-1.")
    voice = engine.resolve_voice(None, "en")
    short = engine.synthesize("Hello.", voice=voice, lang="en", speed=1.0)
    long = engine.synthesize(
        "Hello there, this is a longer sentence.", voice=voice, lang="en", speed=1.0
    )
    slow = engine.synthesize(
        "Hello there, this is a longer sentence.", voice=voice, lang="en", speed=0.6
    )
    assert short.rate == 24_000
    assert 0 < short.duration_ms < long.duration_ms < slow.duration_ms
    assert int(abs(long.samples.astype("int32")).max()) > 1000


def test_voices_by_language(settings: Settings) -> None:
    engine = get_engine("espeak", settings)
    assert engine.resolve_voice(None, "en-US") == "en-us"
    assert engine.resolve_voice(None, "ko") == "ko"
    with pytest.raises(PermanentEngineError):
        engine.resolve_voice("no-such-voice", "en")

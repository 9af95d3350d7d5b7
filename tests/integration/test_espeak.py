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
    with pytest.raises(PermanentEngineError, match="no voice 'no-such-voice'") as caught:
        engine.resolve_voice("no-such-voice", "en")
    assert caught.value.field == "voice"
    with pytest.raises(PermanentEngineError, match="cannot speak language 'xx-YY'") as caught:
        engine.resolve_voice(None, "xx-YY")
    assert caught.value.field == "lang"


def test_falls_back_to_the_system_library() -> None:
    """Without the espeakng-loader wheel, the system's libespeak-ng is used."""
    import ctypes.util
    import subprocess
    import sys

    if not ctypes.util.find_library("espeak-ng"):
        pytest.skip("no system libespeak-ng")
    code = (
        "import sys; sys.modules['espeakng_loader'] = None\n"
        "from narration.engines.espeak import _load, EspeakEngine\n"
        "from narration.audio import find_ffmpeg\n"
        "e = EspeakEngine(ffmpeg=find_ffmpeg())\n"
        "pcm = e.synthesize('Hello.', voice=e.resolve_voice(None, 'en'), lang='en', speed=1.0)\n"
        "print(_load().origin, pcm.samples.size > 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["system", "True"]

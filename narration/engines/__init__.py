"""Speech engines behind one interface (:class:`~narration.engines.base.Engine`).

``get_engine(name, settings)`` is the only way the rest of the code obtains one.
"""

from __future__ import annotations

from functools import lru_cache

from narration.audio import find_ffmpeg
from narration.engines.auto import AutoEngine
from narration.engines.base import Engine, RateLimiter
from narration.errors import PermanentEngineError
from narration.settings import Settings
from narration.vocabulary import ENGINES

__all__ = ["ENGINES", "AutoEngine", "Engine", "RateLimiter", "get_engine"]


def get_engine(name: str, settings: Settings) -> Engine:
    """The engine called ``name`` (gtts, espeak, piper, auto), configured from ``settings``.
    Engines are cheap, stateless apart from caches, and shared per configuration."""
    if name not in ENGINES:
        raise PermanentEngineError(
            f"unknown engine {name!r} (choose from {', '.join(ENGINES)})", field="engine"
        )
    ffmpeg = find_ffmpeg(getattr(settings, "ffmpeg_binary", None))
    return _engine(
        name,
        ffmpeg,
        settings.gtts_endpoint,
        settings.gtts_tld,
        settings.gtts_timeout,
        settings.piper_model,
    )


@lru_cache(maxsize=32)
def _engine(
    name: str,
    ffmpeg: str,
    gtts_endpoint: str | None,
    gtts_tld: str,
    gtts_timeout: float,
    piper_model: object,
) -> Engine:
    if name == "gtts":
        from narration.engines.gtts import GttsEngine

        return GttsEngine(endpoint=gtts_endpoint, tld=gtts_tld, timeout=gtts_timeout, ffmpeg=ffmpeg)
    if name == "espeak":
        from narration.engines.espeak import EspeakEngine

        return EspeakEngine(ffmpeg=ffmpeg)
    if name == "piper":
        from pathlib import Path

        from narration.engines.piper import PiperEngine

        model = Path(str(piper_model)) if piper_model else None
        return PiperEngine(model=model, ffmpeg=ffmpeg)
    primary = _engine("gtts", ffmpeg, gtts_endpoint, gtts_tld, gtts_timeout, piper_model)
    fallback = _engine("espeak", ffmpeg, gtts_endpoint, gtts_tld, gtts_timeout, piper_model)
    return AutoEngine(primary, fallback)

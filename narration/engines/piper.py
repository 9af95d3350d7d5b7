"""Piper: neural offline voices (an optional extra: ``pip install narrator[piper]``).

The voice is a model file named in settings (``NARRATOR_PIPER_MODEL``); nothing is downloaded.
``piper`` is imported only when this engine is used, so the extra stays optional. The chunk
keys carry a hash of the model file, so swapping the model re-synthesizes everything.
"""

from __future__ import annotations

import hashlib
import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from narration.audio import CHUNK_RATE, Pcm, resample
from narration.engines.base import RateLimiter
from narration.errors import PermanentEngineError

_lock = threading.Lock()


@lru_cache(maxsize=4)
def _model_hash(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _model_language(model: Path) -> str | None:
    """The language family (``en``) in the model's config (``<model>.json``, beside it as
    Piper expects), or None when the config does not say."""
    try:
        config = json.loads(Path(f"{model}.json").read_text())
        family = config.get("language", {}).get("family") or config["espeak"]["voice"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return str(family).replace("_", "-").split("-")[0].lower() or None


@lru_cache(maxsize=2)
def _load_voice(path: Path) -> Any:
    try:
        from piper import PiperVoice
    except ImportError as exc:
        raise PermanentEngineError(
            "piper is not installed: pip install 'narrator[piper]'", field="engine"
        ) from exc
    return PiperVoice.load(path)


class PiperEngine:
    name = "piper"
    max_chars = 1000
    remote = False

    def __init__(self, *, model: Path | None, ffmpeg: str) -> None:
        self.model = model
        self.ffmpeg = ffmpeg

    def _model(self) -> Path:
        if self.model is None:
            raise PermanentEngineError(
                "piper needs a voice model: set NARRATOR_PIPER_MODEL to an .onnx file",
                field="piper_model",
            )
        if not self.model.is_file():
            raise PermanentEngineError(f"piper model not found: {self.model}", field="piper_model")
        return self.model.resolve()

    def version(self) -> str:
        model = self._model()
        stat = model.stat()
        return "piper-" + _model_hash(model, stat.st_size, stat.st_mtime_ns)

    def resolve_lang(self, lang: str) -> str:
        # A model speaks its one language (checked by resolve_voice); ``lang`` is kept as
        # given so existing chunk keys stay valid.
        return lang

    def resolve_voice(self, voice: str | None, lang: str) -> str:
        """A model speaks one language; ``voice`` picks a speaker of multi-speaker models.
        Raises PermanentEngineError when the model's config names another language."""
        spoken = _model_language(self._model())
        if spoken and spoken != lang.replace("_", "-").split("-")[0].lower():
            raise PermanentEngineError(
                f"piper: the voice model speaks {spoken!r}, not {lang!r}", field="lang"
            )
        if voice and not voice.isdigit():
            raise PermanentEngineError("piper voice must be a speaker number", field="voice")
        return voice or "0"

    def synthesize(
        self,
        text: str,
        *,
        voice: str,
        lang: str,
        speed: float,
        limiter: RateLimiter | None = None,
    ) -> Pcm:
        piper_voice = _load_voice(self._model())  # a readable error without the extra
        from piper import SynthesisConfig

        speaker = int(voice) if piper_voice.config.num_speakers > 1 else None
        config = SynthesisConfig(speaker_id=speaker, length_scale=1.0 / max(speed, 0.1))
        with _lock:  # onnxruntime already uses every core
            chunks = list(piper_voice.synthesize(text, syn_config=config))
        if not chunks:
            return Pcm(np.zeros(0, np.int16), CHUNK_RATE)
        rate = chunks[0].sample_rate
        samples = np.concatenate([c.audio_int16_array for c in chunks])
        return resample(self.ffmpeg, Pcm(samples, rate), CHUNK_RATE)

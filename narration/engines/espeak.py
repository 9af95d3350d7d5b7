"""The offline engine: eSpeak NG through its C API, with no network and no model download.

The library comes from the ``espeakng-loader`` wheel (library and voice data, so ``pip
install`` alone is enough), else from the system's ``libespeak-ng``. It is loaded with ctypes
and used in synchronous mode: audio arrives through a callback while ``espeak_Synth`` runs.
The library keeps global state, so every call holds one process-wide lock.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from dataclasses import dataclass

import numpy as np

from narration.audio import CHUNK_RATE, Pcm, resample
from narration.engines.base import RateLimiter
from narration.errors import PermanentEngineError

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_DEFAULT_WPM = 175

_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


@dataclass
class _Library:
    lib: ctypes.CDLL
    rate: int
    version: str
    origin: str


_lock = threading.RLock()
_library: _Library | None = None
_collected: list[np.ndarray] = []


@_SynthCallback
def _on_audio(wav: ctypes._Pointer, count: int, events: int | None) -> int:
    if wav and count > 0:
        _collected.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
    return 0


def _load() -> _Library:
    """Load and initialize libespeak-ng once per process."""
    global _library
    with _lock:
        if _library is not None:
            return _library
        candidates: list[tuple[str, bytes | None, str]] = []
        try:
            import espeakng_loader

            candidates.append(
                (
                    espeakng_loader.get_library_path(),
                    espeakng_loader.get_data_path().encode(),
                    "espeakng-loader",
                )
            )
        except (ImportError, RuntimeError):
            pass
        system = ctypes.util.find_library("espeak-ng")
        if system:
            candidates.append((system, None, "system"))
        errors = []
        for path, data, origin in candidates:
            try:
                lib = ctypes.CDLL(path)
            except OSError as exc:
                errors.append(f"{path}: {exc}")
                continue
            lib.espeak_Initialize.restype = ctypes.c_int
            lib.espeak_Initialize.argtypes = [
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_char_p,
                ctypes.c_int,
            ]
            rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0)
            if rate <= 0:
                errors.append(f"{path}: initialization failed")
                continue
            lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
            lib.espeak_SetSynthCallback(_on_audio)
            lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
            lib.espeak_SetVoiceByName.restype = ctypes.c_int
            lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
            lib.espeak_SetParameter.restype = ctypes.c_int
            lib.espeak_Synth.argtypes = [
                ctypes.c_void_p,
                ctypes.c_size_t,
                ctypes.c_uint,
                ctypes.c_int,
                ctypes.c_uint,
                ctypes.c_uint,
                ctypes.c_void_p,
                ctypes.c_void_p,
            ]
            lib.espeak_Synth.restype = ctypes.c_int
            lib.espeak_Info.argtypes = [ctypes.c_void_p]
            lib.espeak_Info.restype = ctypes.c_char_p
            version = (lib.espeak_Info(None) or b"unknown").decode()
            _library = _Library(lib, rate, version, origin)
            return _library
        detail = "; ".join(errors) or "install espeakng-loader or the espeak-ng package"
        raise PermanentEngineError(f"espeak: libespeak-ng not available ({detail})")


class EspeakEngine:
    name = "espeak"
    max_chars = 1000
    remote = False

    def __init__(self, *, ffmpeg: str) -> None:
        self.ffmpeg = ffmpeg

    def version(self) -> str:
        return "espeak-ng-" + _load().version

    def resolve_lang(self, lang: str) -> str:
        # The voice name (see resolve_voice) already carries the language eSpeak speaks;
        # ``lang`` is kept as given so existing chunk keys stay valid.
        return lang

    def resolve_voice(self, voice: str | None, lang: str) -> str:
        """eSpeak NG voice names (``en-us``, ``fr``, ``de+f3`` ...); default: the language."""
        name = (voice or lang).strip().lower()
        with _lock:
            lib = _load().lib
            if lib.espeak_SetVoiceByName(name.encode()) != 0:
                base = name.split("-")[0]
                if voice:
                    raise PermanentEngineError(f"espeak has no voice {name!r}", field="voice")
                if lib.espeak_SetVoiceByName(base.encode()) != 0:
                    raise PermanentEngineError(
                        f"espeak cannot speak language {lang!r}", field="lang"
                    )
                name = base
        return name

    def synthesize(
        self,
        text: str,
        *,
        voice: str,
        lang: str,
        speed: float,
        limiter: RateLimiter | None = None,
    ) -> Pcm:
        data = text.encode("utf-8") + b"\0"
        with _lock:
            library = _load()
            lib = library.lib
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise PermanentEngineError(f"espeak has no voice {voice!r}", field="voice")
            lib.espeak_SetParameter(_PARAM_RATE, round(_DEFAULT_WPM * speed), 0)
            _collected.clear()
            status = lib.espeak_Synth(
                data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
            )
            samples = np.concatenate(_collected) if _collected else np.zeros(0, np.int16)
            _collected.clear()
        if status != 0:
            raise PermanentEngineError(f"espeak: synthesis failed (status {status})")
        return resample(self.ffmpeg, Pcm(samples.astype(np.int16), library.rate), CHUNK_RATE)

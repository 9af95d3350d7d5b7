"""``auto``: gTTS, and the offline engine only when Google cannot be reached.

Only :class:`~narration.errors.EngineUnreachable` (no connection at all) falls back; a 429 or
a 5xx means Google is there and busy, so those are retried and never silently replaced by a
different voice. After a fall-back the primary is not tried again for ``cooldown`` seconds, so
an offline machine does not pay a connect time-out on every chunk.

Audio spoken by the fallback is stored under the fallback's own chunk key (never the
primary's: that would serve robot audio as if it were Google's forever); see
:func:`narration.synthesis.synthesize_chunk`.
"""

from __future__ import annotations

import threading
import time

from narration.audio import Pcm
from narration.engines.base import Engine, RateLimiter
from narration.errors import EngineUnreachable


class AutoEngine:
    name = "auto"
    remote = True

    def __init__(self, primary: Engine, fallback: Engine, *, cooldown: float = 60.0) -> None:
        self.primary = primary
        self.fallback = fallback
        self.cooldown = cooldown
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def max_chars(self) -> int:
        return min(self.primary.max_chars, self.fallback.max_chars)

    def version(self) -> str:
        return self.primary.version()

    def resolve_voice(self, voice: str | None, lang: str) -> str:
        return self.primary.resolve_voice(voice, lang)

    def resolve_lang(self, lang: str) -> str:
        return self.primary.resolve_lang(lang)

    def primary_down(self) -> bool:
        with self._lock:
            return time.monotonic() < self._down_until

    def mark_down(self) -> None:
        with self._lock:
            self._down_until = time.monotonic() + self.cooldown

    def synthesize(
        self,
        text: str,
        *,
        voice: str,
        lang: str,
        speed: float,
        limiter: RateLimiter | None = None,
    ) -> Pcm:
        """Speak with the primary; on EngineUnreachable, with the fallback's default voice."""
        if not self.primary_down():
            try:
                return self.primary.synthesize(
                    text, voice=voice, lang=lang, speed=speed, limiter=limiter
                )
            except EngineUnreachable:
                self.mark_down()
        fallback_voice = self.fallback.resolve_voice(None, lang)
        return self.fallback.synthesize(text, voice=fallback_voice, lang=lang, speed=speed)

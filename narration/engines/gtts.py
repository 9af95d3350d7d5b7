"""Google Translate's speech (gTTS): the production default.

gTTS does the text work (pre-processing, splitting into the API's 100-character requests,
packing each request body); the transport is ours, because gTTS sends with no time-out,
without TLS verification and with no way to tell a 429 from a dropped connection. Each request
answers a small MP3 of its own; each is decoded on its own (decoders stumble at the joins of
concatenated answers) and the PCM joined.
"""

from __future__ import annotations

import base64
import importlib.metadata
import re
import threading

import numpy as np
import requests
from gtts import gTTS
from gtts.lang import tts_langs

from narration.audio import CHUNK_RATE, AudioToolError, Pcm, decode
from narration.engines.base import RateLimiter, http_error, request_error
from narration.errors import PermanentEngineError, TransientEngineError
from narration.languages import closest_supported

BATCHEXECUTE_PATH = "/_/TranslateWebserverUi/data/batchexecute"
_AUDIO = re.compile(r'jQ1olc","\[\\"(.*?)\\"]')


class GttsEngine:
    name = "gtts"
    max_chars = 400
    remote = True

    def __init__(
        self,
        *,
        endpoint: str | None,
        tld: str = "com",
        timeout: float = 10.0,
        ffmpeg: str,
    ) -> None:
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        self.tld = tld
        self.timeout = timeout
        self.ffmpeg = ffmpeg
        self._local = threading.local()

    def version(self) -> str:
        return "gtts-" + importlib.metadata.version("gTTS")

    def url(self, voice: str) -> str:
        base = self.endpoint or f"https://translate.google.{voice}"
        return base + BATCHEXECUTE_PATH

    def resolve_voice(self, voice: str | None, lang: str) -> str:
        """gTTS's voices are Google hosts: the ``tld`` (``com``, ``co.uk``, ``com.au`` ...)."""
        self.resolve_lang(lang)
        tld = (voice or self.tld).strip().lstrip(".")
        if not re.fullmatch(r"[a-z]{2,3}(\.[a-z]{2,3})?", tld):
            raise PermanentEngineError(
                f"gtts: voice must be a Google domain such as 'co.uk', not {voice!r}", field="voice"
            )
        return tld

    @staticmethod
    def resolve_lang(lang: str) -> str:
        """gTTS's language code for ``lang``: ``en-US`` -> ``en``; region variants gTTS knows
        (``fr-CA``, ``zh-TW``) stay; gTTS still speaks ``he`` as ``iw`` and ``jv`` as ``jw``."""
        langs = tts_langs()
        if lang in langs:
            return lang
        if found := closest_supported(lang, langs):
            return found
        raise PermanentEngineError(f"gtts cannot speak language {lang!r}", field="lang")

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def synthesize(
        self,
        text: str,
        *,
        voice: str,
        lang: str,
        speed: float,
        limiter: RateLimiter | None = None,
    ) -> Pcm:
        tts = gTTS(
            text, tld=voice, lang=self.resolve_lang(lang), slow=speed < 0.8, lang_check=False
        )
        try:
            bodies = tts.get_bodies()
        except AssertionError as exc:  # gTTS asserts there is something left to say
            raise PermanentEngineError(f"gtts: nothing to say in {text[:40]!r}") from exc
        url = self.url(voice)
        pieces = []
        for body in bodies:
            if limiter is not None:
                limiter.acquire()
            mp3 = self._post(url, body)
            try:
                pieces.append(decode(self.ffmpeg, mp3, CHUNK_RATE, "mp3"))
            except AudioToolError as exc:
                raise TransientEngineError(f"gtts: undecodable audio from {url}") from exc
        return Pcm(np.concatenate(pieces) if pieces else np.zeros(0, np.int16), CHUNK_RATE)

    def _post(self, url: str, body: str | bytes | None) -> bytes:
        try:
            rsp = self._session().post(
                url,
                data=body,
                headers=gTTS.GOOGLE_TTS_HEADERS,
                timeout=(min(self.timeout, 5.0), self.timeout),
            )
        except requests.RequestException as exc:
            raise request_error("gtts", url, exc) from exc
        if rsp.status_code != 200:
            raise http_error(
                "gtts", rsp.status_code, rsp.reason or "", rsp.headers.get("Retry-After")
            )
        for line in rsp.text.splitlines():
            if "jQ1olc" in line:
                match = _AUDIO.search(line)
                if match:
                    try:
                        return base64.b64decode(match.group(1).encode("ascii"), validate=True)
                    except ValueError as exc:
                        raise TransientEngineError("gtts: garbled audio in answer") from exc
        raise PermanentEngineError("gtts: the answer carries no audio (unsupported language?)")

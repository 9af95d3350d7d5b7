"""Google Translate's speech (gTTS): the production default.

gTTS does the text work (pre-processing, splitting into the API's 100-character requests,
packing each request body); the transport is ours, because gTTS sends with no time-out,
without TLS verification, one request after another, and with no way to tell a 429 from a
dropped connection. The requests of one text go out together (each through the shared limiter);
each answers a small MP3 of its own, decoded on its own in-process (decoders stumble at the joins
of concatenated answers), and the PCM joined in order.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.metadata
import re
import threading

import numpy as np
import requests
import requests.adapters
from gtts import gTTS
from gtts.lang import tts_langs

from narration.audio import CHUNK_RATE, AudioToolError, Pcm, decode_mp3
from narration.engines.base import RateLimiter, http_error, request_error
from narration.errors import PermanentEngineError, TransientEngineError
from narration.languages import closest_supported
from narration.threads import map_together

BATCHEXECUTE_PATH = "/_/TranslateWebserverUi/data/batchexecute"
_AUDIO = re.compile(r'jQ1olc","\[\\"(.*?)\\"]')
POOL_SIZE = 128
"""Connections kept open to the provider: above the default limit ceiling."""


class GttsEngine:
    name = "gtts"
    max_chars = 300
    """A chunk's parts go out together, so its length costs no time; kept short so a paragraph
    over it is one chunk per sentence, and a one-sentence edit re-speaks at most about 300
    characters (bench/bench_edit.py)."""
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
        self._lock = threading.Lock()
        self._shared: requests.Session | None = None

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
        # One session (one connection pool) for every thread: requests' pool is thread-safe,
        # and kept-alive connections save a TLS handshake per request.
        with self._lock:
            if self._shared is None:
                session = requests.Session()
                adapter = requests.adapters.HTTPAdapter(
                    pool_connections=4, pool_maxsize=POOL_SIZE, pool_block=False
                )
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                self._shared = session
            return self._shared

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

        def fetch(body: str | bytes | None) -> np.ndarray:
            with limiter.slot() if limiter is not None else contextlib.nullcontext():
                mp3 = self._post(url, body)
            try:
                return decode_mp3(self.ffmpeg, mp3, CHUNK_RATE)
            except AudioToolError as exc:
                raise TransientEngineError(f"gtts: undecodable audio from {url}") from exc

        pieces = [fetch(bodies[0])] if len(bodies) == 1 else map_together("requests", fetch, bodies)
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

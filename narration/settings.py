"""One settings object, read from ``NARRATOR_*`` environment variables.

The Flask app, the Celery app and the CLI all build from :func:`get_settings`, so a value means
the same thing wherever it is read.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from narration.vocabulary import MAX_WAIT_S, EngineName

__all__ = ["EngineName", "Settings", "get_settings"]


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NARRATOR_", extra="ignore")

    # --- infrastructure -----------------------------------------------------------------------
    redis_url: str | None = None
    """Broker, result backend, locks and rate limit. ``None``: an embedded redis-server."""
    database_url: str | None = None
    """SQLAlchemy URL of the catalog. ``None``: SQLite in ``<audio_cache_dir>/catalog.sqlite3``."""
    audio_cache_dir: Path = Path("./audio_cache")

    # --- articles ---------------------------------------------------------------------------
    article_source: str | None = None
    """URL template with ``{id}`` to pull an article from the CMS (JSON or the HTML page)."""
    article_source_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    article_source_timeout: float = 10.0
    max_article_bytes: int = 5_000_000
    """Largest article (JSON or HTML page) accepted or fetched."""
    max_body_chars: int = 200_000
    """Longest spoken body; longer articles are refused rather than narrated for hours."""
    lexicon_path: Path | None = None
    """Pronunciation lexicon (respellings per language); ``None``: the built-in one."""

    # --- speech -------------------------------------------------------------------------------
    engine: EngineName = "auto"
    voice: str | None = None
    lang: str | None = None
    """Language when neither the article nor its page declares one and detection is unsure."""
    speed: float = 1.0
    gtts_endpoint: str | None = None
    """Replaces ``https://translate.google.<tld>`` (tests and proxies point it elsewhere)."""
    gtts_tld: str = "com"
    gtts_timeout: float = 10.0
    tts_retries: int = 5
    tts_concurrency_max: int = Field(default=96, ge=1)
    """Ceiling of engine requests in flight at once, shared by every worker through Redis. The
    limit starts here and halves whenever the provider answers 429, 5xx or not in time, then
    grows back while it answers (see :mod:`narration.ratelimit`). The default lets a long
    article's requests (about 75 for 5 minutes of speech) all go out together."""
    tts_concurrency_min: int = Field(default=2, ge=1)
    """Floor of that limit: however hard the provider pushes back, this many may be in flight
    (a ``Retry-After`` still stops them all until it has passed)."""
    piper_model: Path | None = None
    ffmpeg_binary: str | None = None
    """ffmpeg to use (path or name on PATH); ``None``: the system one, else imageio-ffmpeg's."""

    # --- stitching ----------------------------------------------------------------------------
    target_lufs: float = -16.0
    true_peak_dbtp: float = -1.0
    bitrate_kbps: int = 64
    sample_rate: int = 24_000
    """The speech's own rate (gTTS answers at 24 kHz): upsampling adds bytes, not sound."""
    intro_text: str | None = None
    outro_text: str | None = "This article was written by reporters and read by an AI voice."
    intro_audio: Path | None = None
    outro_audio: Path | None = None
    disclosure: str = "Written by reporters, read by AI."
    album: str = "Narrated articles"
    publisher: str = "Narrator"

    # --- service ------------------------------------------------------------------------------
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    public_url: str | None = None
    """Absolute base URL for links in feeds and webhooks, e.g. ``https://news.example``."""
    feed_image_url: str | None = None
    """Podcast artwork (square JPEG or PNG, 1400-3000 px) that podcast directories require;
    ``None``: a plain built-in square."""
    feed_owner_email: str | None = None
    """``itunes:owner`` address podcast directories write to; ``None``: ``podcasts@<host>``."""
    webhook_secret: str | None = None
    """HMAC-SHA256 key that signs webhook deliveries; ``None``: deliveries go unsigned."""
    webhook_timeout: float = 10.0
    webhook_retries: int = 8
    """Attempts after the first, with exponential backoff (at most about 8.5 minutes in all)."""
    webhook_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Comma-separated hosts callback URLs may name; empty: any host except link-local,
    multicast or unspecified addresses (e.g. cloud metadata at 169.254.169.254)."""
    audio_accel_prefix: str | None = None
    """Internal nginx location (e.g. ``/_audio/``): ``GET /audio/…`` checks access, then answers
    with ``X-Accel-Redirect`` and lets nginx send the file. ``None``: Flask sends the file."""
    audio_requires_key: bool = False
    """Audio only for holders of an API key (Bearer header or ``?key=``), e.g. subscriber-only."""
    max_wait_s: float = Field(default=MAX_WAIT_S, ge=0, le=MAX_WAIT_S)
    """Longest ``?wait=`` an on-demand narration request may hold its connection for."""
    min_free_mb: int = Field(default=200, ge=0)
    """Free space the audio store needs: below it ``/readyz`` reports the store as full."""
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    """A worker serves its own Prometheus metrics on this port (for workers on hosts where no
    API process adds their values up through ``PROMETHEUS_MULTIPROC_DIR``)."""
    proxy_hops: int = Field(default=0, ge=0)
    """Reverse proxies in front of the app (nginx: 1) whose ``X-Forwarded-*`` headers are
    trusted for the client's host, scheme and address; 0: none, the headers are ignored."""
    worker_concurrency: int = 32
    """Threads per worker process; synthesis calls are network-bound, so they overlap. Enough
    for every chunk of a long article to be spoken at once; each chunk sends its requests
    together, and the shared limit above decides how many go out."""
    serve_workers: int = Field(default=1, ge=1, le=64)
    """Celery worker processes ``narrator serve`` starts. One by default: two on two cores
    were not faster end to end (the seed in 3.7, 6.3 and 5.6 s against 4.2, 3.9 and 4.0 s
    with one, in runs of ``bench/bench_end_to_end.py``); each worker's first task pays its
    imports, and SQLite serializes every worker's writes."""

    # --- recovery -----------------------------------------------------------------------------
    stall_after_s: float = Field(default=90.0, gt=0)
    """A narration whose progress has not moved for this long (beyond the waits it announced,
    such as a rate-limit backoff) has lost work: the reconciler sends the missing part again."""
    reconcile_interval_s: float = Field(default=30.0, gt=0)
    """How often workers look for stalled narrations (one of them at a time, under a lock)."""
    tts_backoff_s: float = Field(default=60.0, gt=0)
    """First wait of a chunk the speech service rate-limited (HTTP 429); doubles each time."""
    tts_backoff_max_s: float = Field(default=900.0, gt=0)
    """Longest single wait of a rate-limited chunk."""
    tts_rate_limited_for_s: float = Field(default=3600.0, gt=0)
    """How long a chunk keeps waiting out rate limits before its narration fails with
    ``tts_rate_limited``."""
    scratch_dir: Path | None = None
    """Scratch space for stitching (raw PCM, decoded chunks), outside the served audio store;
    ``None``: ``narrator-scratch`` in the system's temporary directory. Each process works in a
    folder of its own, removed when the process is gone."""
    log_level: str = "INFO"

    @field_validator("api_keys", "article_source_hosts", "webhook_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_csv(value)

    @model_validator(mode="after")
    def _floor_below_ceiling(self) -> Settings:
        if self.tts_concurrency_min > self.tts_concurrency_max:
            raise ValueError(
                "tts_concurrency_min must not be above tts_concurrency_max "
                f"({self.tts_concurrency_min} > {self.tts_concurrency_max})"
            )
        return self

    @property
    def catalog_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.audio_cache_dir / 'catalog.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

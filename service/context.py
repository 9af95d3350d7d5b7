"""What a request needs from the app: its settings, catalog URL and audio store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

from narration.settings import Settings

if TYPE_CHECKING:
    from narration.store import AudioStore

SETTINGS_KEY = "narrator.settings"


def current_settings() -> Settings:
    settings: Settings = current_app.extensions[SETTINGS_KEY]
    return settings


def catalog_url() -> str:
    return current_settings().catalog_url


def audio_store() -> AudioStore:
    from narration.store import AudioStore

    return AudioStore(current_settings().audio_cache_dir)

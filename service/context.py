"""What a request needs from the app: its settings, catalog URL, audio store and job
queue, and how it answers with a body the contract declares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Response, current_app
from pydantic import BaseModel

from narration.settings import Settings

if TYPE_CHECKING:
    from narration.queue import JobQueue
    from narration.store import AudioStore

SETTINGS_KEY = "narrator.settings"
QUEUE_KEY = "narrator.queue"


def current_settings() -> Settings:
    settings: Settings = current_app.extensions[SETTINGS_KEY]
    return settings


def catalog_url() -> str:
    return current_settings().catalog_url


def audio_store() -> AudioStore:
    from narration.store import AudioStore

    return AudioStore(current_settings().audio_cache_dir)


def job_queue() -> JobQueue:
    """The app's job queue (Celery on the configured Redis), made on first use."""
    queue: JobQueue | None = current_app.extensions.get(QUEUE_KEY)
    if queue is None:
        from workers.celery_app import create_celery
        from workers.dispatch import CeleryJobQueue

        queue = CeleryJobQueue(create_celery(current_settings(), sender_only=True))
        current_app.extensions[QUEUE_KEY] = queue
    return queue


def answer(model: type[BaseModel], data: dict[str, Any], status: int = 200) -> Response:
    """``data`` as ``model`` (``narration.contract``) declares it: the answer cannot drift
    from the document."""
    body = model.model_validate(data).model_dump(mode="json")
    return Response(current_app.json.dumps(body), status=status, mimetype="application/json")

"""The worker's Celery app, built from the environment: ``celery -A workers.main worker``.

This is the only module that reads ``NARRATOR_*`` for the workers; everything else takes a
:class:`~narration.settings.Settings`.
"""

from __future__ import annotations

from narration.settings import Settings
from workers.celery_app import create_celery

app = create_celery(Settings())

"""A worker's life: logging, the catalog's schema at start, and the reconciler's sweeps.

Every worker runs a sweeper thread: every ``NARRATOR_RECONCILE_INTERVAL_S`` it removes the
scratch folders of processes on this machine that are gone, then -- if it takes the Redis lock,
so one worker of the fleet sweeps per interval -- sends the lost work of stalled narrations
again (:func:`narration.reconcile.sweep`). A sweep that meets Redis or the catalog down logs it
and tries again at the next interval; the worker itself never stops for it.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

from celery import Celery, bootsteps, current_app
from celery.signals import (
    setup_logging,
    worker_init,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)

from narration import scratch
from narration.logs import configure_logging
from narration.reconcile import sweep
from narration.store import AudioStore
from workers.celery_app import STITCH_HARD_LIMIT_S, settings_of

log = logging.getLogger(__name__)

LOCK_KEY = "narrator:reconcile-lock"


class Sweeper(threading.Thread):
    def __init__(self, celery: Celery) -> None:
        super().__init__(name="narrator-reconciler", daemon=True)
        self.celery = celery
        self.settings = settings_of(celery)
        self.stopping = threading.Event()
        self.token = uuid.uuid4().hex

    def run(self) -> None:
        interval = self.settings.reconcile_interval_s
        while True:
            self.once()
            if self.stopping.wait(interval):
                return

    def once(self) -> list[str]:
        """One sweep; the narrations whose work it sent again."""
        from workers.dispatch import CeleryJobQueue

        settings = self.settings
        try:
            removed = scratch.remove_orphans(settings)
            if removed:
                log.info("removed %d scratch folder(s) of processes that are gone", removed)
        except OSError as exc:
            log.warning("could not clean the scratch space: %s", exc)
        store = AudioStore(settings.audio_cache_dir)
        try:
            # Temporaries a killed writer left in the store: none lives longer than a stitch.
            store.remove_stale_temporaries(max_age_s=STITCH_HARD_LIMIT_S + 60)
        except OSError as exc:
            log.warning("could not clean the audio store's temporaries: %s", exc)
        queue = CeleryJobQueue(self.celery)
        try:
            lock_ms = max(1, int(settings.reconcile_interval_s * 900))
            if not queue.redis_client.set(LOCK_KEY, self.token, nx=True, px=lock_ms):
                return []  # another worker swept within this interval
            return sweep(settings, store, queue)
        except Exception as exc:  # Redis or the catalog away: try again next time
            log.warning("reconciler sweep failed: %r", exc)
            return []

    def stop(self) -> None:
        self.stopping.set()


FETCH_CHECK_S = 0.01
"""How often the worker's event loop looks whether it may take another message."""


class PromptFetch(bootsteps.StartStopStep):
    """Take the next message as soon as a thread is free, not up to a second later.

    With every thread busy the consumer stops reading from Redis; it reads again once its loop
    sees a task finished. Under the threads pool nothing wakes the loop when a thread finishes,
    so it noticed only at its next timer or socket event. Behind a 500-article backfill on two
    workers, a breaking story's first chunk started 0.24-0.43 s after its request; with a timer
    every :data:`FETCH_CHECK_S`, 0.07-0.15 s. An idle pass of the loop costs microseconds.
    """

    requires = ("celery.worker.components:Hub",)

    def start(self, worker: Any) -> None:
        if worker.hub is not None:
            worker.hub.call_repeatedly(FETCH_CHECK_S, _nothing)


def _nothing() -> None:
    return None


_sweepers: dict[int, Sweeper] = {}


def _setup_logging(**_: Any) -> None:
    configure_logging(settings_of(current_app).log_level)


def _migrate_catalog(sender: Any = None, **_: Any) -> None:
    from narration.catalog import upgrade_to_head

    upgrade_to_head(settings_of(sender.app).catalog_url)


def _load_task_modules(**_: Any) -> None:
    """Import what the tasks use before the worker takes its first one: otherwise the first
    task a worker runs after it starts pays 2 s of imports (numpy, SciPy, libsndfile, gTTS),
    and a narration whose chunks are shared by several workers waits for the slowest."""
    import soundfile  # noqa: F401 -- loaded on first use by decode_mp3

    from narration import progressive, stitch, synthesis  # noqa: F401
    from narration.engines import espeak, gtts  # noqa: F401
    from workers import webhooks  # noqa: F401


def _fresh_connections(**_: Any) -> None:
    # A forked pool process (``--pool prefork``) must not share the parent's database sockets.
    from narration.catalog.db import dispose_all

    dispose_all()


def _start_sweeper(sender: Any = None, **_: Any) -> None:
    celery = sender.app
    if id(celery) in _sweepers:
        return
    sweeper = Sweeper(celery)
    _sweepers[id(celery)] = sweeper
    sweeper.start()


def _stop_sweeper(sender: Any = None, **_: Any) -> None:
    for sweeper in _sweepers.values():
        sweeper.stop()


def connect() -> None:
    """Hook the worker signals (once per process; they look up the app they are sent for)."""
    setup_logging.connect(_setup_logging, weak=False, dispatch_uid="narrator.logging")
    worker_init.connect(_migrate_catalog, weak=False, dispatch_uid="narrator.migrate")
    worker_init.connect(_load_task_modules, weak=False, dispatch_uid="narrator.preload")
    worker_process_init.connect(_fresh_connections, weak=False, dispatch_uid="narrator.fork")
    worker_ready.connect(_start_sweeper, weak=False, dispatch_uid="narrator.sweeper")
    worker_shutdown.connect(_stop_sweeper, weak=False, dispatch_uid="narrator.sweeper-stop")

"""The job queue as the orchestration sees it: a small protocol that ``workers`` implements.

Queue messages are hints; the catalog is the truth. A job may be lost (a worker killed, Redis
restarted without its data, the API killed between writing the row and sending the job) or
delivered twice: the reconciler (:mod:`narration.reconcile`) re-sends what is missing, and every
task finds work already done and does nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from narration.errors import NarrationError


class QueueUnavailable(NarrationError):
    """The job queue cannot be reached; the narration stays recorded and is sent later."""


@dataclass(frozen=True)
class Sent:
    """What the queue knows of the last job it sent for a narration."""

    attempt: int
    waiting: int
    """Its messages not yet taken up by a worker (chunks; or the stitch of a stitch-only job).
    Above 0, the job is waiting its turn behind other work, not lost."""


class JobQueue(Protocol):
    def send(
        self,
        narration_id: str,
        narration_key: str,
        missing: Sequence[int],
        attempt: int,
        priority: str,
    ) -> None:
        """Send attempt ``attempt`` of the narration's job: synthesize the ``missing`` chunks,
        then stitch and publish. Raises QueueUnavailable when the queue cannot take it."""
        ...

    def sent(self, narration_ids: Sequence[str]) -> dict[str, Sent]:
        """The record of the last job sent, for each narration the queue holds one for. A
        narration missing here was never sent, or the queue lost it (and its messages)."""
        ...

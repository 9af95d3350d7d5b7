"""The job queue as the orchestration sees it: a small protocol that ``workers`` implements.

Queue messages are hints; the catalog is the truth. A job may be lost (a worker killed, Redis
restarted without its data, the API killed between writing the row and sending the job) or
delivered twice: the reconciler (:mod:`narration.reconcile`) re-sends what is missing, and every
task finds work already done and does nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from narration.errors import NarrationError


class QueueUnavailable(NarrationError):
    """The job queue cannot be reached; the narration stays recorded and is sent later."""


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

    def sent_attempts(self, narration_ids: Sequence[str]) -> dict[str, int]:
        """For each narration whose job the queue still holds a record of sending, the attempt
        sent last. A narration missing here was never sent, or the queue lost it."""
        ...

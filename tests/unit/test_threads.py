"""The process-wide pools: work sent to them keeps the caller's log context."""

from __future__ import annotations

from narration import logs
from narration.logs import current_context
from narration.threads import in_background, map_together


def test_work_on_the_pools_logs_with_the_callers_context() -> None:
    with logs.bind(narration_id="n1", chunk=3):
        seen = map_together("parts", lambda n: (n, current_context().get("chunk")), [1, 2, 3])
        background = in_background(lambda: current_context().get("narration_id"))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert background == "n1"
    assert in_background(lambda: current_context().get("narration_id")) is None

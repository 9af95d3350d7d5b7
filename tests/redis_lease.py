"""A Redis database of the machine's server that no other test or benchmark run uses meanwhile.

Test runs of several checkouts, and benchmarks, share the machine's Redis; two worker processes
on one database would take each other's tasks. A lease key in database 0 (``SET NX`` with an
expiry, so a crashed run frees it) gives each user its own database among 1-14, flushed before
and after use.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from narration.redisconn import client_for

LEASE_DBS = range(1, 15)


@contextmanager
def leased_database(base_url: str, seconds: int, wait_s: float = 120.0) -> Iterator[str]:
    """Lease a database of the server at ``base_url`` (no database number) for ``seconds``."""
    leases = client_for(f"{base_url}/0")
    token = uuid.uuid4().hex
    deadline = time.monotonic() + wait_s
    while True:
        db = next(
            (
                d
                for d in LEASE_DBS
                if leases.set(f"narrator-test-lease:{d}", token, nx=True, ex=seconds)
            ),
            None,
        )
        if db is not None:
            break
        if time.monotonic() > deadline:
            raise TimeoutError("no free Redis database: all are leased by other runs")
        time.sleep(0.5)
    url = f"{base_url}/{db}"
    client_for(url).flushdb()
    try:
        yield url
    finally:
        client_for(url).flushdb()
        if leases.get(f"narrator-test-lease:{db}") == token.encode():
            leases.delete(f"narrator-test-lease:{db}")

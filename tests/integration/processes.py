"""Processes of the production topology for integration tests: free ports, and a child
process with its log."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.integration.worker_process import REPO, last_lines


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(
    args: list[str], env: dict[str, str], log: Path, what: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` with output to ``log``; always stop it, and print the log's tail (pytest
    shows it when the test failed)."""
    with open(log, "wb") as out:
        process = subprocess.Popen(args, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        print(f"--- {what} ({log.name}), last lines ---\n{last_lines(log, 30)}")

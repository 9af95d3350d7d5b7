"""Scratch space for stitching, outside the served audio store, owned by one process.

A stitch writes a raw PCM file as long as the narration (about 5 MB a minute) and an MP3 before
it is published. Written in the store's root, a stitch killed mid-way left them where nginx
serves files. Here each process works in a folder of its own,
``<scratch>/<host>-<pid>-<process start time>``, and any process sweeping the scratch space
removes the folders of processes on its host that are gone (the start time tells a reused PID
from the owner).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from pathlib import Path

from narration.settings import Settings

_FOLDER = re.compile(r"(?P<host>.+)-(?P<pid>\d+)-(?P<start>\d+)")


def root(settings: Settings) -> Path:
    return settings.scratch_dir or Path(tempfile.gettempdir()) / "narrator-scratch"


def _host() -> str:
    return socket.gethostname().replace("/", "_") or "host"


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot; ``None`` when there is no such
    process. Without /proc, 0 for any live process (only the PID is checked)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return 0
        return 0
    # The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return int(stat.rsplit(")", 1)[1].split()[19])


def own_dir(settings: Settings) -> Path:
    """This process's scratch folder, created on first use."""
    pid = os.getpid()
    folder = root(settings) / f"{_host()}-{pid}-{_start_time(pid) or 0}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def remove_orphans(settings: Settings) -> int:
    """Remove the scratch folders of processes on this host that are gone; return how many."""
    base = root(settings)
    if not base.is_dir():
        return 0
    host, removed = _host(), 0
    for folder in base.iterdir():
        match = _FOLDER.fullmatch(folder.name)
        if match is None or match["host"] != host or not folder.is_dir():
            continue
        start = _start_time(int(match["pid"]))
        if start is not None and (start == 0 or start == int(match["start"])):
            continue  # its owner still runs
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed

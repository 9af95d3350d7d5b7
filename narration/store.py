"""The audio store: content-addressed files under one root (``audio_cache/`` by default).

Layout::

    <root>/<key>.mp3 .json .vtt    finished narrations (immutable, served as they are)
    <root>/chunks/<key>.wav         one synthesized chunk (24 kHz mono 16-bit PCM WAV)
    <root>/chunks/<key>.json        its sidecar (:class:`~narration.records.ChunkSidecar`): engine,
                                    sample length of each part, loudness
    <root>/plans/<key>.json         narration plans, for workers that get only a key

Every write is atomic (a temporary file in the same directory, then ``os.replace``), so a
reader sees a whole file or none. A chunk counts as stored once its audio exists beside a
sidecar of the current version; the sidecar is written first, so audio always has one. Chunks of
an older format (MP3, or an older sidecar) count as not stored and are synthesized again.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from narration.audio import CHUNK_SUFFIX
from narration.records import ChunkSidecar, StaleRecord, dump, load

if TYPE_CHECKING:
    from narration.plan import NarrationPlan

from narration.vocabulary import AUDIO_EXTENSIONS as AUDIO_EXTS
from narration.vocabulary import AUDIO_KEY as _KEY


def _checked(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a content key: {key!r}")
    return key


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that no reader ever sees part of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class AudioStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.chunks_dir = self.root / "chunks"
        self.plans_dir = self.root / "plans"

    # --- chunks -------------------------------------------------------------------------------
    def chunk_path(self, key: str) -> Path:
        """The chunk's audio: a WAV file any player or ffmpeg reads as it is."""
        return self.chunks_dir / f"{_checked(key)}.{CHUNK_SUFFIX}"

    def chunk_meta_path(self, key: str) -> Path:
        return self.chunks_dir / f"{_checked(key)}.json"

    def has_chunk(self, key: str) -> bool:
        if not self.chunk_path(key).is_file():
            return False
        try:
            self.chunk_meta(key)
        except (OSError, StaleRecord):
            return False
        return True

    def save_chunk(self, key: str, audio: bytes, meta: ChunkSidecar) -> None:
        if not audio:
            raise ValueError("refusing to store an empty chunk")
        self.write_atomic(self.chunk_meta_path(key), dump(meta))
        self.write_atomic(self.chunk_path(key), audio)

    def chunk_meta(self, key: str) -> ChunkSidecar:
        """The chunk's sidecar; StaleRecord when it is of an older format."""
        return load(ChunkSidecar, self.chunk_meta_path(key))

    def stored_key(self, plan: NarrationPlan, index: int) -> str | None:
        """The key under which chunk ``index`` is stored: the primary engine's if present,
        else the fallback's, else ``None``."""
        chunk = plan.chunks[index]
        if self.has_chunk(chunk.key):
            return chunk.key
        if chunk.fallback_key and self.has_chunk(chunk.fallback_key):
            return chunk.fallback_key
        return None

    def missing_chunks(self, plan: NarrationPlan) -> list[int]:
        """Indexes of the plan's chunks stored under neither the primary nor the fallback key."""
        return [i for i in range(len(plan.chunks)) if self.stored_key(plan, i) is None]

    # --- plans --------------------------------------------------------------------------------
    def plan_path(self, narration_key: str) -> Path:
        return self.plans_dir / f"{_checked(narration_key)}.json"

    def save_plan(self, plan: NarrationPlan) -> None:
        data = plan.model_dump_json(indent=1).encode()
        self.write_atomic(self.plan_path(plan.narration_key), data)

    def load_plan(self, narration_key: str) -> NarrationPlan:
        """The saved plan; StaleRecord when it is of an older format (plan it again)."""
        from narration.plan import NarrationPlan

        return load(NarrationPlan, self.plan_path(narration_key))

    # --- finished audio -----------------------------------------------------------------------
    def audio_path(self, key: str, ext: str) -> Path:
        if ext not in AUDIO_EXTS:
            raise ValueError(f"unknown audio file type {ext!r}")
        return self.root / f"{_checked(key)}.{ext}"

    def has_audio(self, key: str) -> bool:
        """A narration is complete when its MP3, manifest and transcript all exist (the MP3 is
        written last)."""
        return all(self.audio_path(key, ext).is_file() for ext in AUDIO_EXTS)

    def remove_stale_temporaries(self, max_age_s: float = 3600.0) -> int:
        """Delete temporary files and folders left by writers that died mid-write (a stitch's
        raw PCM can be hundreds of MB, its decode folder as much again); return how many.
        Writers rename or remove theirs within minutes."""
        cutoff = time.time() - max_age_s
        removed = 0
        for folder in (self.root, self.chunks_dir, self.plans_dir):
            for path in {*folder.glob(".stitch-*"), *folder.glob(".*.tmp")}:
                try:
                    if path.lstat().st_mtime >= cutoff:
                        continue
                    if path.is_dir() and not path.is_symlink():
                        shutil.rmtree(path)
                    else:
                        path.unlink()
                    removed += 1
                except FileNotFoundError:
                    continue
        return removed

    def temp_dir(self, folder: Path, prefix: str) -> tempfile.TemporaryDirectory[str]:
        """A scratch folder inside ``folder`` of the store (not /tmp): removed when the work
        ends, and by :meth:`remove_stale_temporaries` when the process was killed first."""
        folder.mkdir(parents=True, exist_ok=True)
        return tempfile.TemporaryDirectory(prefix=f".{prefix}-", suffix=".tmp", dir=folder)

    write_atomic = staticmethod(write_atomic)

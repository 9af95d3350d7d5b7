from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from narration.audio import wav_bytes
from narration.records import ChunkLoudness, ChunkSidecar, StaleRecord
from narration.store import AudioStore, write_atomic


def test_write_atomic_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.json"
    write_atomic(target, b"{}")
    write_atomic(target, b"[1]")
    assert target.read_bytes() == b"[1]"
    assert [p.name for p in target.parent.iterdir()] == ["b.json"]


def _sidecar(key: str, **changes: object) -> ChunkSidecar:
    fields: dict[str, object] = {
        "key": key,
        "engine": "espeak",
        "engine_version": "1",
        "voice": "en",
        "lang": "en",
        "speed": 1.0,
        "sample_rate": 24_000,
        "samples": 1,
        "parts": [1],
        "spoken": ["A."],
        "loudness": ChunkLoudness(energy=[[0.01]], peak=[[0.5]], true_peak=0.5),
    }
    return ChunkSidecar.model_validate({**fields, **changes})


def test_chunk_needs_audio_and_sidecar(tmp_path: Path) -> None:
    store = AudioStore(tmp_path)
    key = "ab" * 16
    assert not store.has_chunk(key)
    store.save_chunk(key, wav_bytes(np.ones(1, np.int16), 24_000), _sidecar(key))
    assert store.has_chunk(key)
    assert store.chunk_path(key) == tmp_path / "chunks" / f"{key}.wav"
    assert store.chunk_meta(key).parts == [1]
    with pytest.raises(ValueError):
        store.save_chunk("cd" * 16, b"", _sidecar("cd" * 16))
    assert not store.has_chunk("cd" * 16)


def test_a_chunk_of_an_older_format_is_not_stored(tmp_path: Path) -> None:
    """A sidecar from before the loudness measurement (or of another version) is a cache miss:
    the chunk is synthesized again rather than stitched half-described."""
    store = AudioStore(tmp_path)
    key = "ef" * 16
    store.save_chunk(key, wav_bytes(np.ones(1, np.int16), 24_000), _sidecar(key))
    store.chunk_meta_path(key).write_text('{"key": "x", "samples": 1, "parts": [1]}')
    assert not store.has_chunk(key)
    with pytest.raises(StaleRecord):
        store.chunk_meta(key)


@pytest.mark.parametrize("key", ["../etc/passwd", "ABC", "", "a" * 65])
def test_keys_are_never_paths(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        AudioStore(tmp_path).audio_path(key, "mp3")


def test_audio_is_complete_only_with_all_three_files(tmp_path: Path) -> None:
    store = AudioStore(tmp_path)
    key = "0f" * 16
    for ext in ("json", "vtt"):
        write_atomic(store.audio_path(key, ext), b"x")
    assert not store.has_audio(key)
    write_atomic(store.audio_path(key, "mp3"), b"x")
    assert store.has_audio(key)
    with pytest.raises(ValueError):
        store.audio_path(key, "wav")


def test_stale_temporaries_are_removed_fresh_ones_kept(tmp_path: Path) -> None:
    import os
    import time

    store = AudioStore(tmp_path)
    (tmp_path / "chunks").mkdir()
    old = [tmp_path / ".stitch-abc.raw", tmp_path / "chunks" / ".x.mp3.123.tmp"]
    fresh = tmp_path / ".stitch-def.mp3"
    kept = tmp_path / ("ab" * 16 + ".mp3")
    for path in [*old, fresh, kept]:
        path.write_bytes(b"x")
    for path in [*old, kept]:
        os.utime(path, (time.time() - 7200, time.time() - 7200))
    assert store.remove_stale_temporaries(3600) == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == sorted(
        [fresh.name, kept.name]
    )


def test_stale_temporary_folders_are_removed(tmp_path: Path) -> None:
    """A stitch killed mid-decode leaves its scratch folder in the store; the sweep takes it."""
    import os
    import time

    store = AudioStore(tmp_path)
    with store.temp_dir(tmp_path, "stitch-decode") as kept_name:
        left = Path(_leftover(tmp_path, "stitch-decode"))
        (left / "0.raw").write_bytes(b"\0" * 64)
        encode = Path(_leftover(store.chunks_dir, "encode"))
        for path in (left, encode):
            os.utime(path, (time.time() - 7200, time.time() - 7200))
        assert store.remove_stale_temporaries(3600) == 2
        assert not left.exists() and not encode.exists()
        assert Path(kept_name).is_dir()  # a running stitch's folder is fresh: kept
    assert not Path(kept_name).exists()


def _leftover(folder: Path, prefix: str) -> str:
    """A scratch folder as a killed writer leaves it."""
    import tempfile

    folder.mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(prefix=f".{prefix}-", suffix=".tmp", dir=folder)

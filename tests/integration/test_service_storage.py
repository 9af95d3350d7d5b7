"""A read-only or full audio store: writes answer 503 with Retry-After, /readyz says why.

The store is a small tmpfs mounted for the test (a chmod'ed folder would not stop root, who
runs the tests here and on CI); where mounting is not allowed the tests skip with the reason,
except on CI, where they must run.
"""

from __future__ import annotations

import contextlib
import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from narration.catalog.db import dispose_all
from narration.settings import Settings
from service.app import create_app
from tests.conftest import unavailable

pytestmark = pytest.mark.integration

AUTH = {"Authorization": "Bearer test-key"}
TEXT = {"text": "The harbour bridge reopened on Monday after eight months of repairs."}


@contextlib.contextmanager
def tmpfs(path: Path, *, size_kb: int) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        unavailable(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


def fill(path: Path) -> None:
    """Write until the file system refuses: ENOSPC."""
    with (path / "ballast").open("wb") as ballast:
        try:
            while True:
                ballast.write(b"\0" * 65536)
                ballast.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "store", size_kb=2048) as path:
        yield path
    dispose_all()


def app_for(store: Path, tmp_path: Path, **overrides: object) -> FlaskClient:
    settings = Settings(
        audio_cache_dir=store,
        database_url=f"sqlite:///{tmp_path / 'catalog.sqlite3'}",  # the catalog is elsewhere
        engine="espeak",
        api_keys=["test-key"],
    )
    return create_app(settings, **overrides).test_client()


def assert_503_with_retry_after(response: TestResponse) -> None:
    assert response.status_code == 503, response.data
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    assert "audio store" in response.json["detail"]


def test_a_read_only_store_answers_writes_503_and_is_not_ready(store: Path, tmp_path: Path) -> None:
    client = app_for(store, tmp_path)
    remount_read_only(store)
    assert_503_with_retry_after(client.post("/v1/narrations", json=TEXT, headers=AUTH))
    ready = client.get("/readyz")
    assert ready.status_code == 503 and int(ready.headers["Retry-After"]) > 0
    assert ready.json["checks"]["audio_store"] == "failed: OSError (Read-only file system)"


def test_a_full_store_answers_writes_503_and_reports_low_free_space(
    store: Path, tmp_path: Path
) -> None:
    client = app_for(store, tmp_path, min_free_mb=1)
    fill(store)
    assert_503_with_retry_after(client.post("/v1/narrations", json=TEXT, headers=AUTH))
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["audio_store"].startswith("failed: low free space")


def test_readyz_reports_free_space_below_the_setting(store: Path, tmp_path: Path) -> None:
    # 2 MB of tmpfs is writable but under a 3 MB minimum
    ready = app_for(store, tmp_path, min_free_mb=3).get("/readyz")
    assert ready.json["checks"]["audio_store"].startswith("failed: low free space")
    enough = app_for(store, tmp_path, min_free_mb=1).get("/readyz")
    assert enough.json["checks"]["audio_store"] == "ok"

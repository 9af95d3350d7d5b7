"""Schemathesis, with every check it has, finds no mismatch between the app and /openapi.json.

It runs the same command a person would (``schemathesis run --checks all`` with the
repository's ``schemathesis.toml``) against the app on a loopback port, with a real
Redis for the jobs it queues. The example count is small and the seed fixed, so the run is
bounded and repeatable; a failure prints schemathesis' own report with a curl line per case.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from narration.settings import Settings
from service.app import create_app
from tests.integration.worker_process import http_server

pytestmark = [pytest.mark.integration, pytest.mark.contract]

REPO = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = 20
SEED = 1


def test_schemathesis_finds_no_mismatch(tmp_path: Path, leased_redis_db: str) -> None:
    settings = Settings(
        redis_url=leased_redis_db,
        database_url=f"sqlite:///{tmp_path / 'catalog.sqlite3'}",
        audio_cache_dir=tmp_path / "audio",
        engine="espeak",
        api_keys=["test-key"],
        max_wait_s=1,  # ?wait= holds a request at most this long
        log_level="WARNING",
    )
    app = create_app(settings)
    client = app.test_client()
    # An article to find: generated IDs start at "0", so reads reach their 200 answers too.
    stored = client.put(
        "/v1/articles/0",
        json={"title": "Bridge reopens", "body": "The bridge reopened on Monday."},
        headers={"Authorization": "Bearer test-key"},
    )
    assert stored.status_code == 201, stored.data
    with http_server(app) as base:
        run = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "--no-color",
                "--config-file", str(REPO / "schemathesis.toml"),
                "run", f"{base}/openapi.json",
                "--checks", "all",
                "--header", "Authorization: Bearer test-key",
                "--max-examples", str(MAX_EXAMPLES),
                "--seed", str(SEED),
                "--workers", "1",
                "--phases", "examples,coverage,fuzzing",
            ],
            cwd=tmp_path,  # schemathesis keeps its cache of found crashes in the working folder
            capture_output=True,
            text=True,
            timeout=240,
        )  # fmt: skip
    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]
    assert "passed" in run.stdout

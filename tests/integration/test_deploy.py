"""The production files are valid: docker-compose.yml under `docker-compose config`, the
nginx template under `nginx -t`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.serve import worker_command
from tests.conftest import unavailable
from tests.integration.nginx_conf import REPO, write_nginx_conf

pytestmark = pytest.mark.integration


def compose_config() -> dict[str, Any]:
    binary = shutil.which("docker-compose")
    if binary is None:
        unavailable("docker-compose is not installed")
    assert binary is not None
    # docker-compose 1.x has no JSON output: read the resolved YAML it prints.
    result = subprocess.run(
        [binary, "--file", str(REPO / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "NARRATOR_API_KEYS": "k1"},
    )
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def test_compose_file_is_valid_and_has_the_production_services() -> None:
    config = compose_config()
    services = config["services"]
    assert set(services) == {"redis", "postgres", "api", "worker", "nginx"}
    assert "gunicorn" in services["api"]["command"]
    assert "service.wsgi:app" in services["api"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "--app", "workers.main", "worker"]
    # The heartbeat would block the worker's event loop for as long as Redis is away.
    assert "--without-heartbeat" in services["worker"]["command"]
    assert "--without-heartbeat" in worker_command(1)
    assert services["api"]["image"] == services["worker"]["image"]
    assert services["api"]["environment"]["NARRATOR_API_KEYS"] == "k1"


def test_worker_can_be_scaled() -> None:
    worker = compose_config()["services"]["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker


def test_nginx_serves_audio_from_the_store_the_workers_write() -> None:
    services = compose_config()["services"]
    store = services["worker"]["environment"]["NARRATOR_AUDIO_CACHE_DIR"]
    assert services["nginx"]["environment"]["NARRATOR_AUDIO_DIR"] == store
    mounts = {json.dumps(v, sort_keys=True) for v in services["nginx"]["volumes"]}
    assert any(store in m for m in mounts)


def test_nginx_template_passes_nginx_t(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        unavailable("nginx is not installed")
    assert nginx is not None
    (tmp_path / "audio").mkdir()
    conf = write_nginx_conf(
        tmp_path / "nginx", port=8080, upstream="127.0.0.1:8000", audio_dir=tmp_path / "audio"
    )
    result = subprocess.run(
        [nginx, "-t", "-e", "stderr", "-p", str(tmp_path / "nginx"), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr

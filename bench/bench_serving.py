"""Random 64 KB byte ranges of one MP3: nginx from the store vs Flask under gunicorn.

    .venv/bin/python bench/bench_serving.py [--seconds 5] [--connections 16]

Starts both on loopback against the same 1.1 MB file (gunicorn with 2 workers running
``service.wsgi:app``; nginx with deploy/nginx.conf), runs the same keep-alive client against each
for the same time, and prints requests/s and the ratio. The client is Python, so on a small
machine it caps nginx's figure: the ratio is a lower bound.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.integration.nginx_conf import write_nginx_conf  # noqa: E402

FILE_BYTES = 1_100_000
RANGE_BYTES = 64 * 1024


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args[0]} exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answered on port {port}")


def hammer(port: int, path: str, seconds: float, connections: int) -> float:
    """Requests/s of ``connections`` keep-alive clients asking for random 64 KB ranges."""
    counts = [0] * connections
    stop = time.monotonic() + seconds

    def client(slot: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        rng = random.Random(slot)
        while time.monotonic() < stop:
            start = rng.randrange(0, FILE_BYTES - RANGE_BYTES)
            conn.request("GET", path, headers={"Range": f"bytes={start}-{start + RANGE_BYTES - 1}"})
            response = conn.getresponse()
            body = response.read()
            if response.status != 206 or len(body) != RANGE_BYTES:
                raise SystemExit(f"unexpected answer {response.status} ({len(body)} bytes)")
            counts[slot] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"

    with tempfile.TemporaryDirectory(prefix="narrator-bench-") as tmp:
        root = Path(tmp)
        store = root / "audio_cache"
        store.mkdir()
        key = secrets.token_hex(16)
        (store / f"{key}.mp3").write_bytes(os.urandom(FILE_BYTES))
        env = {k: v for k, v in os.environ.items() if not k.startswith("NARRATOR_")}
        env.update(
            NARRATOR_AUDIO_CACHE_DIR=str(store),
            NARRATOR_DATABASE_URL=f"sqlite:///{root / 'catalog.sqlite3'}",
            NARRATOR_LOG_LEVEL="WARNING",
            NARRATOR_API_KEYS="bench",
        )
        api_port, nginx_port = free_port(), free_port()
        conf = write_nginx_conf(
            root / "nginx", port=nginx_port, upstream=f"127.0.0.1:{api_port}", audio_dir=store
        )
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{api_port}",
                 "--workers", "2", "--log-level", "warning", "service.wsgi:app"],
                env=env, cwd=REPO,
            ),
            subprocess.Popen(
                [nginx, "-e", "stderr", "-p", str(conf.parent), "-c", str(conf),
                 "-g", "daemon off;"],
                env=env,
            ),
        ]  # fmt: skip
        try:
            wait_port(api_port, processes[0])
            wait_port(nginx_port, processes[1])
            path = f"/audio/{key}.mp3"
            hammer(api_port, path, 0.5, 2)  # warm both up
            hammer(nginx_port, path, 0.5, 2)
            flask = hammer(api_port, path, args.seconds, args.connections)
            served = hammer(nginx_port, path, args.seconds, args.connections)
        finally:
            for process in processes:
                process.terminate()
                process.wait(15)
    print(f"random 64 KB ranges of a {FILE_BYTES / 1e6:.1f} MB MP3, {args.connections} connections")
    print(f"  Flask (gunicorn, 2 workers)  {flask:8.0f} requests/s")
    print(f"  nginx from the store         {served:8.0f} requests/s")
    print(f"  ratio nginx / Flask          {served / flask:8.1f}x")


if __name__ == "__main__":
    main()

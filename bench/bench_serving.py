"""Random 64 KB byte ranges of one narration MP3: the API's audio URL through nginx, against
nginx serving the same file as a plain static file.

    .venv/bin/python bench/bench_serving.py [--seconds 3] [--connections 16] [--rounds 3]

One nginx (deploy/nginx.conf as production renders it) in front of gunicorn (2 workers,
``service.wsgi:app``), one 1.1 MB file in the store, and the same load against:

- ``/audio/<key>.mp3`` through nginx as deployed: nginx answers from the store itself;
- the same URL with the key-checking deployment (``NARRATOR_AUDIO_ACCEL_PREFIX``, the
  ``/audio/`` location removed): every request goes to the API, which answers with
  ``X-Accel-Redirect`` and nginx sends the bytes;
- Flask alone (gunicorn, no nginx), for reference;
- baseline: nginx serving the file from a plain ``location`` on another port.

Each figure is the median of ``--rounds`` runs alternated with the baseline's.

The load is ``wrk`` (Debian's package) with a Lua script asking for random ranges, when
installed; else a Python keep-alive client, which caps nginx's figures on a small machine (the
ratios are then lower bounds). The product promises at least 0.8x static nginx.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.report import Figure, write_result  # noqa: E402
from bench.services import free_port, workdir  # noqa: E402
from tests.integration.nginx_conf import write_nginx_conf  # noqa: E402

FILE_BYTES = 1_100_000
RANGE_BYTES = 64 * 1024
COMMAND = ".venv/bin/python bench/bench_serving.py"
WRK_SCRIPT = """
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local start = math.random(0, %(last)d)
  local headers = {}
  headers["Range"] = "bytes=" .. start .. "-" .. (start + %(size)d - 1)
  return wrk.format("GET", wrk.path, headers)
end
response = function(status, headers, body)
  if status ~= 206 then error("unexpected status " .. status) end
end
"""


def wait_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args[0]} exited with {process.returncode}")  # type: ignore[index]
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answered on port {port}")


def python_load(port: int, path: str, seconds: float, connections: int) -> float:
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


def wrk_load(
    wrk: str, script: Path, port: int, path: str, seconds: float, connections: int
) -> float:
    out = subprocess.run(
        [wrk, "-t", "2", "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
         "-s", str(script),
         f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors or ("error" in out.lower() and "Socket errors" in out):
        raise SystemExit(f"wrk saw failures:\n{out}")
    found = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if not found:
        raise SystemExit(f"no Requests/sec in wrk's output:\n{out}")
    return float(found.group(1))


def without_audio_location(conf_dir: Path) -> None:
    """The key-checking deployment: delete the ``/audio/`` location, so the API answers every
    audio request (with X-Accel-Redirect)."""
    server = conf_dir / "narrator.conf"
    text = server.read_text()
    start = text.index('    location ~ "^/audio/')
    end = text.index("\n    }\n", start) + len("\n    }\n")
    server.write_text(text[:start] + text[end:])


def add_static_server(conf_dir: Path, port: int, store: Path) -> None:
    """The baseline: a plain static location on its own port, same nginx process."""
    server = conf_dir / "narrator.conf"
    server.write_text(
        server.read_text()
        + f"""
server {{
    listen 127.0.0.1:{port};
    sendfile on;
    location /healthz {{ return 200 "ok"; }}
    location /static/ {{
        alias {store}/;
        types {{ audio/mpeg mp3; }}
    }}
}}
"""
    )


@contextmanager
def started(args: list[str], env: dict[str, str], port: int) -> Iterator[None]:
    process = subprocess.Popen(args, env=env, cwd=REPO)
    try:
        wait_port(port, process)
        yield
    finally:
        process.terminate()
        process.wait(15)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise SystemExit("nginx is not installed (apt-get install nginx)")
    wrk = shutil.which("wrk")

    with workdir("narrator-bench-serving-") as root, ExitStack() as stack:
        store = root / "audio_cache"
        store.mkdir()
        key = secrets.token_hex(16)
        (store / f"{key}.mp3").write_bytes(os.urandom(FILE_BYTES))
        script = root / "ranges.lua"
        script.write_text(WRK_SCRIPT % {"last": FILE_BYTES - RANGE_BYTES, "size": RANGE_BYTES})

        def load(port: int, path: str, seconds: float = args.seconds) -> float:
            if wrk:
                return wrk_load(wrk, script, port, path, seconds, args.connections)
            return python_load(port, path, seconds, args.connections)

        base_env = {k: v for k, v in os.environ.items() if not k.startswith("NARRATOR_")}
        base_env.update(
            NARRATOR_AUDIO_CACHE_DIR=str(store),
            NARRATOR_DATABASE_URL=f"sqlite:///{root / 'catalog.sqlite3'}",
            NARRATOR_LOG_LEVEL="WARNING",
            NARRATOR_API_KEYS="bench",
        )
        figures_rps: dict[str, float] = {}
        for variant in ("deployed", "accel"):
            env = dict(base_env)
            if variant == "accel":
                env["NARRATOR_AUDIO_ACCEL_PREFIX"] = "/_audio_store"
            api_port, nginx_port, static_port = free_port(), free_port(), free_port()
            conf = write_nginx_conf(
                root / f"nginx-{variant}", port=nginx_port, upstream=f"127.0.0.1:{api_port}",
                audio_dir=store,
            )  # fmt: skip
            if variant == "accel":
                without_audio_location(conf.parent)
            add_static_server(conf.parent, static_port, store.resolve())
            with ExitStack() as running:
                running.enter_context(
                    started(
                        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{api_port}",
                         "--workers", "2", "--log-level", "warning", "service.wsgi:app"],
                        env, api_port,
                    )
                )  # fmt: skip
                running.enter_context(
                    started(
                        [nginx, "-e", "stderr", "-p", str(conf.parent), "-c", str(conf),
                         "-g", "daemon off;"],
                        env, nginx_port,
                    )
                )  # fmt: skip
                path = f"/audio/{key}.mp3"
                load(nginx_port, path, 0.5)  # warm up
                load(static_port, f"/static/{key}.mp3", 0.5)
                # Alternate the two, several rounds, and take medians: other work on a shared
                # machine then weighs on both alike.
                ours, static_rounds = [], []
                for _ in range(args.rounds):
                    ours.append(load(nginx_port, path))
                    static_rounds.append(load(static_port, f"/static/{key}.mp3"))
                figures_rps[variant] = statistics.median(ours)
                figures_rps[f"static-{variant}"] = statistics.median(static_rounds)
                if variant == "deployed":
                    load(api_port, path, 0.5)
                    figures_rps["flask"] = load(api_port, path)
        stack.close()

    static = (figures_rps["static-deployed"] + figures_rps["static-accel"]) / 2
    client = "wrk" if wrk else "Python client (caps nginx: ratios are lower bounds)"
    print(f"random 64 KB ranges of a {FILE_BYTES / 1e6:.1f} MB MP3, {args.connections} "
          f"connections, {client}")  # fmt: skip
    rows = [
        ("API audio URL through nginx as deployed (nginx reads the store)",
         figures_rps["deployed"]),
        ("API audio URL, key-checking deployment (API + X-Accel-Redirect)",
         figures_rps["accel"]),
        ("Flask alone (gunicorn, 2 workers), for reference", figures_rps["flask"]),
    ]  # fmt: skip
    for name, rps in rows:
        print(f"  {name:68} {rps:9.0f} requests/s  {rps / static:5.2f}x static")
    print(f"  {'nginx static file (baseline)':68} {static:9.0f} requests/s")
    # The promise is for audio as deployed; the other two show what nginx saves.
    targets = [">= 0.8x baseline", None, None]
    figures = [
        Figure(name, round(rps), "requests/s", round(static), "nginx serving the file statically",
               target)
        for (name, rps), target in zip(rows, targets, strict=True)
    ]  # fmt: skip
    path = write_result(
        "serving",
        f"{COMMAND} --seconds {args.seconds:g} --connections {args.connections} "
        f"--rounds {args.rounds}",
        figures,
        notes=f"load: {client}; 2-core machine shared by the load generator, nginx and gunicorn.",
    )
    print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()

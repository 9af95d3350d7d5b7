"""Render deploy/nginx.conf for a non-root nginx on loopback, as the nginx image would."""

from __future__ import annotations

import os
import pwd
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "deploy" / "nginx.conf"


def render_server_block(values: dict[str, str]) -> str:
    """Fill ``${NAME}`` placeholders like envsubst; an unknown placeholder is an error."""
    text = TEMPLATE.read_text()

    def fill(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return re.sub(r"\$\{([A-Z0-9_]+)\}", fill, text)


def write_nginx_conf(prefix: Path, *, port: int, upstream: str, audio_dir: Path) -> Path:
    """A complete nginx.conf under ``prefix`` (pid, logs and temp files all inside it)."""
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "tmp").mkdir(exist_ok=True)
    server = render_server_block(
        {
            "NARRATOR_NGINX_PORT": f"127.0.0.1:{port}",
            "NARRATOR_API_UPSTREAM": upstream,
            "NARRATOR_AUDIO_DIR": str(audio_dir.resolve()),
        }
    )
    (prefix / "narrator.conf").write_text(server)
    temp = prefix / "tmp"
    conf = prefix / "nginx.conf"
    # As root, nginx's workers would drop to "nobody", who cannot read pytest's private tmp dirs.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    conf.write_text(
        f"""
{user}
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} notice;
events {{ worker_connections 512; }}
http {{
    access_log {prefix / "access.log"};
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {prefix / "narrator.conf"};
}}
"""
    )
    return conf

"""Alembic migrations for the catalog, configured in code (no ``alembic.ini`` needed).

``upgrade_to_head(url)`` runs at startup of the API, the workers and the tests. On PostgreSQL it
holds an advisory lock so an API and several workers starting together migrate once.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    # ConfigParser interpolation would read "%" in a password as a placeholder.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(url: str) -> None:
    """Create or migrate the catalog at ``url`` to the latest schema."""
    from narration.catalog.db import engine_for

    config = alembic_config(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        command.upgrade(config, "head")
        return
    engine_for(url)  # creates the database's directory
    # SQLite DDL is not transactional here: two processes starting together (the API and a
    # worker) would both try to create the tables. A file lock beside the database serialises.
    with open(f"{parsed.database}.migrate-lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            command.upgrade(config, "head")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

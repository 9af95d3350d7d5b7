"""``narrator migrate``: the catalog to the latest schema, or one line and a non-zero exit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from narration.settings import get_settings
from service.cli import cli


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()  # each test sets its own NARRATOR_DATABASE_URL
    yield
    get_settings.cache_clear()


def test_migrate_brings_a_new_catalog_to_the_latest_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    result = CliRunner().invoke(cli, ["migrate"], env={"NARRATOR_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert "latest schema" in result.output
    tables = sa.inspect(sa.create_engine(url)).get_table_names()
    assert {"articles", "narrations", "alembic_version"} <= set(tables)


def test_migrate_names_the_database_it_cannot_reach_without_its_password() -> None:
    url = "postgresql+psycopg://narrator:s3cret@127.0.0.1:1/narrator"
    result = CliRunner().invoke(cli, ["migrate"], env={"NARRATOR_DATABASE_URL": url})
    assert result.exit_code != 0
    assert "cannot migrate" in result.output and "narrator:***@127.0.0.1:1" in result.output
    assert "s3cret" not in result.output

"""The ``narrator`` entry point: the narration commands plus ``serve`` and ``migrate``."""

from __future__ import annotations

import logging
import sys

import click

from narration.cli import cli


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port).",
)
def serve(host: str, port: int) -> None:
    """Run the API, a worker and the catalog on this machine.

    With no NARRATOR_REDIS_URL an embedded redis-server runs under the audio store; with no
    NARRATOR_DATABASE_URL the catalog is SQLite there too. Ctrl-C stops everything cleanly.
    """
    from narration.cli.common import settings_or_exit
    from service.serve import ServeError
    from service.serve import serve as run

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration is enough
    settings = settings_or_exit()  # a bad NARRATOR_* variable: one line, exit 2
    try:
        code = run(host, port, settings)
    except ServeError as exc:
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)


@cli.command()
def migrate() -> None:
    """Bring the catalog (NARRATOR_DATABASE_URL) to the latest schema: alembic upgrade head.

    The API and the workers also do it when they start; run it first when several processes
    start at once, or to upgrade the schema before a deploy.
    """
    from narration.catalog import upgrade_to_head
    from narration.cli.common import settings_or_exit
    from narration.logs import masked_url

    settings = settings_or_exit()
    try:
        upgrade_to_head(settings.catalog_url)
    except Exception as exc:  # one line, not a traceback: the database is unreachable or refuses
        raise click.ClickException(
            f"cannot migrate {masked_url(settings.catalog_url)}: {type(exc).__name__}: {exc}"
        ) from exc
    click.echo(f"catalog {masked_url(settings.catalog_url)} is at the latest schema")


def main() -> None:
    cli()

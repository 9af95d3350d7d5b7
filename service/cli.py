"""The ``narrator`` entry point: the narration commands plus ``serve``."""

from __future__ import annotations

import click

from narration.cli import cli


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the API, a worker and the catalog on this machine."""
    raise click.ClickException("not built yet")


def main() -> None:
    cli()

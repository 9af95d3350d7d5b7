"""``narrator script``: print what would be spoken."""

from __future__ import annotations

import click


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text")
def script(files: tuple[str, ...], fmt: str) -> None:
    """Print the narration script of each FILE (HTML page, CMS JSON article or plain text)."""
    raise click.ClickException("not built yet")

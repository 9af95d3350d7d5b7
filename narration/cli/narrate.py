"""``narrator narrate``: the whole pipeline in this process."""

from __future__ import annotations

import click


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
def narrate(file: str, output: str) -> None:
    """Narrate FILE into OUTPUT.mp3 (with OUTPUT.json and OUTPUT.vtt beside it)."""
    raise click.ClickException("not built yet")

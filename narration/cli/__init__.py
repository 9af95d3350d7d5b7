"""The ``narrator`` command line: the commands that need only the narration domain.

``service.cli`` adds ``serve`` to this group; the entry point is there so that this package
never imports the web stack.
"""

from __future__ import annotations

import click

from narration.cli.narrate import narrate
from narration.cli.script import script


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="narrator")
def cli() -> None:
    """Turn news articles into narrated audio."""


cli.add_command(script)
cli.add_command(narrate)

"""What the ``narrator`` commands share: settings read with a one-line error, not a traceback."""

from __future__ import annotations

import sys

import click
from pydantic import ValidationError

from narration.settings import Settings, get_settings


def settings_or_exit() -> Settings:
    """The settings; a bad ``NARRATOR_*`` variable is named on one line, and the exit is 2."""
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"NARRATOR_{'_'.join(str(p) for p in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        click.echo(f"narrator: bad setting: {problems}", err=True)
        sys.exit(2)

"""``narrator script``: print what would be spoken."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from narration.errors import NarrationError
from narration.script import Script


@click.command()
# Paths are checked by the reader, so that a bad one is one line among the others' output.
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text")
def script(files: tuple[str, ...], fmt: str) -> None:
    """Print the narration script of each FILE (HTML page, CMS JSON article or plain text).

    json: one object per line per file. A file that cannot be narrated is named on stderr;
    the others are still printed, and the exit status is 2.
    """
    # Imported here so that `narrator --help` stays fast.
    from narration.cli.common import settings_or_exit
    from narration.scripting import build_script, load_article

    settings = settings_or_exit()
    failed = False
    for name in files:
        try:
            result = build_script(load_article(Path(name)), source=name, settings=settings)
        except NarrationError as exc:
            failed = True
            click.echo(f"narrator: {name}: {exc}", err=True)
            continue
        if fmt == "json":
            click.echo(json.dumps(result.to_json(), ensure_ascii=False))
        else:
            click.echo(render_text(result))
        sys.stdout.flush()
    if failed:
        sys.exit(2)


def render_text(result: Script) -> str:
    """A readable rendering: headline, byline, sections and paragraphs, then what was skipped."""
    lines = [f"# {result.title}"]
    if result.byline:
        lines.append(f"By {result.byline}")
    lines.append(f"[{result.lang}] {result.source}")
    for section in result.sections:
        if section.heading is not None:
            lines += ["", f"## {section.heading.text}"]
        for paragraph in section.paragraphs:
            lines += ["", paragraph.text]
    if result.skipped:
        lines += ["", f"-- skipped ({len(result.skipped)}) --"]
        lines += [f"[{s.reason}] {s.text}" for s in result.skipped]
    return "\n".join(lines) + "\n"

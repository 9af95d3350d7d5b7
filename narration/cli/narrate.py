"""``narrator narrate``: the whole pipeline in this process (no Redis, no worker)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import click

from narration.vocabulary import ENGINES


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="OUT.mp3")
@click.option("--engine", type=click.Choice(list(ENGINES)), help="Default: NARRATOR_ENGINE (auto).")
@click.option("--lang", help="Language of the article (default: declared or detected).")
@click.option("--voice", help="gtts: a Google domain (co.uk); espeak: a voice (en-us+f3).")
@click.option("--cover", type=click.Path(dir_okay=False, exists=True), help="Cover image for ID3.")
def narrate(
    file: str,
    output: str,
    engine: str | None,
    lang: str | None,
    voice: str | None,
    cover: str | None,
) -> None:
    """Narrate FILE into OUTPUT.mp3 (with OUTPUT.json and OUTPUT.vtt beside it).

    FILE is an HTML page, a CMS JSON article or plain text. Synthesized chunks are cached in
    NARRATOR_AUDIO_CACHE_DIR, so narrating an edited article again only speaks what changed.
    """
    # Imported here so that `narrator --help` stays fast.
    from narration.cli.common import settings_or_exit
    from narration.errors import NarrationError
    from narration.pipeline import narrate as run
    from narration.scripting import build_script, load_article

    out = Path(output)
    if out.suffix.lower() != ".mp3":
        click.echo(f"narrator: {output}: the output must end in .mp3", err=True)
        sys.exit(2)
    settings = settings_or_exit()
    # Piped or redirected, the output is the three file lines and nothing else.
    draw = sys.stdout.isatty() and sys.stderr.isatty()
    bar: _ProgressBar | None = None
    try:
        script = build_script(load_article(Path(file)), source=file, settings=settings)
        bar = _ProgressBar() if draw else None
        meta = {"cover": cover} if cover else None
        result = run(
            script,
            out,
            settings,
            engine=engine,
            voice=voice,
            lang=lang,
            progress=bar.update if bar else None,
            meta=meta,
        )
    except (NarrationError, OSError) as exc:
        if bar:
            bar.close()  # before the message, so it is not drawn over
        if isinstance(exc, OSError):
            # The output's folder or the audio cache cannot be written: say which.
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"narrator: {file}: {where}{exc.strerror or exc}", err=True)
        else:
            click.echo(f"narrator: {file}: {exc}", err=True)
        sys.exit(2)
    finally:
        if bar:
            bar.close()  # also on Ctrl-C: stop the ticking stitching line
    seconds = result.duration_ms / 1000
    click.echo(f"{result.paths['mp3']}  ({seconds:.1f} s, {result.bytes} bytes)")
    click.echo(f"{result.paths['json']}")
    click.echo(f"{result.paths['vtt']}")


class _ProgressBar:
    """On the terminal: a tqdm bar counting chunks, then a line saying it is stitching, with
    the seconds ticking (stitching reports no steps and takes a few seconds per article)."""

    def __init__(self) -> None:
        self._bar: Any = None  # drawn at the first count: without a total it says "0chunk"
        self._stitching = False
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def update(self, done: int, total: int) -> None:
        if self._stitching:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, unit="chunk", desc="synthesizing", leave=False, dynamic_ncols=True
            )
        self._bar.total = total
        self._bar.n = done
        self._bar.refresh()
        if done == total:
            # Every chunk is there; the pipeline goes on to stitch.
            self._stitching = True
            self._bar.bar_format = "stitching {total} chunks: {elapsed}"
            self._bar.reset(total=total)
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            self._bar.refresh()

    def close(self) -> None:
        """Stop and erase the bar; closing again does nothing."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._ticker:
            self._ticker.join()
        if self._bar is not None:
            self._bar.close()

"""ID3v2.4 tags for a narration: what podcast apps and players show, and the AI disclosure.

Frames: TIT2 title, TPE1 artist (the byline), TALB album, TDRC date, TLAN language (ISO 639-2),
COMM the disclosure, APIC the cover when given, and a CTOC table of contents with one CHAP
chapter per section.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TDRC,
    TIT2,
    TLAN,
    TPE1,
    TPUB,
    WOAS,
    CTOCFlags,
)

from narration.languages import iso639_2


def write_tags(
    path: Path,
    meta: dict[str, Any],
    chapters: list[dict[str, Any]],
) -> None:
    """Tag the MP3 at ``path``. ``meta``: title, artist, album, date, language, comment,
    publisher, url, cover (``{"path": ...}`` or a path). ``chapters``: ``{"title", "start_ms",
    "end_ms"}`` in order."""
    tags = ID3()
    lang3 = iso639_2(meta.get("language"))
    tags.add(TIT2(encoding=3, text=str(meta.get("title") or "")))
    if meta.get("artist"):
        tags.add(TPE1(encoding=3, text=str(meta["artist"])))
    if meta.get("album"):
        tags.add(TALB(encoding=3, text=str(meta["album"])))
    if meta.get("date"):
        tags.add(TDRC(encoding=3, text=str(meta["date"])))
    if meta.get("publisher"):
        tags.add(TPUB(encoding=3, text=str(meta["publisher"])))
    if meta.get("url"):
        tags.add(WOAS(url=str(meta["url"])))
    tags.add(TLAN(encoding=3, text=lang3))
    if meta.get("comment"):
        tags.add(COMM(encoding=3, lang=lang3, desc="", text=str(meta["comment"])))
    cover = meta.get("cover")
    if cover:
        cover_path = Path(cover["path"] if isinstance(cover, dict) else str(cover))
        mime = mimetypes.guess_type(cover_path.name)[0] or "image/jpeg"
        tags.add(APIC(encoding=3, mime=mime, type=3, desc="Cover", data=cover_path.read_bytes()))
    if chapters:
        ids = [f"chp{i}" for i in range(len(chapters))]
        tags.add(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=3, text="Chapters")],
            )
        )
        for cid, ch in zip(ids, chapters, strict=True):
            tags.add(
                CHAP(
                    element_id=cid,
                    start_time=int(ch["start_ms"]),
                    end_time=int(ch["end_ms"]),
                    sub_frames=[TIT2(encoding=3, text=str(ch["title"]))],
                )
            )
    tags.save(str(path), v2_version=4)

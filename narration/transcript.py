"""The manifest (``.json``) and the WebVTT transcript (``.vtt``) written beside each MP3."""

from __future__ import annotations

from typing import Any

MANIFEST_FORMAT = 1


def vtt_time(ms: int) -> str:
    hours, rest = divmod(max(int(ms), 0), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _cue_text(text: str) -> str:
    # A cue's payload must not contain "-->" or a blank line; & and < must be escaped.
    text = " ".join(text.split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def render_vtt(sentences: list[dict[str, Any]]) -> str:
    """One cue per spoken sentence (title, byline, headings included), in order."""
    lines = ["WEBVTT", ""]
    for n, s in enumerate(sentences, start=1):
        lines += [str(n), f"{vtt_time(s['start_ms'])} --> {vtt_time(s['end_ms'])}"]
        lines += [_cue_text(s["text"]), ""]
    return "\n".join(lines)


def parse_vtt(text: str) -> list[tuple[int, int, str]]:
    """``(start_ms, end_ms, text)`` per cue: what a player reading our transcripts sees."""

    def ms(stamp: str) -> int:
        h, m, s = stamp.split(":")
        sec, milli = s.split(".")
        return ((int(h) * 60 + int(m)) * 60 + int(sec)) * 1000 + int(milli)

    cues = []
    for block in text.strip().split("\n\n")[1:]:
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if "-->" in line:
                start, end = (p.strip() for p in line.split("-->"))
                cues.append((ms(start), ms(end.split()[0]), " ".join(lines[i + 1 :])))
                break
    return cues

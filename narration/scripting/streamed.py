"""Pages rendered in a stream: put each late part where a browser's script would put it.

React's streaming server rendering sends a page's slow parts after the rest, at the end of the
body, as ``<div hidden id="S:n">``; a small script then moves each into its place: over the
fallback of a suspense boundary (``<template id="B:n">``, ``$RC("B:n","S:n")``) or into a
placeholder (``<template id="P:n">``, ``$RS("S:n","P:n")``). No script runs here, so without this
the story's paragraphs sit hidden at the foot of the page, after the footer, or are missed.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

# $RC / $RR (a boundary and its part; $RR also lists stylesheets) and $RS (a part, its hole).
_MOVES = re.compile(r'\$R[CR]\("(B:\w+)","(S:\w+)"|\$RS\("(S:\w+)","(P:\w+)"\)')
_OPEN, _CLOSE = {"$", "$?", "$!"}, "/$"


def moves(page: str) -> list[tuple[str, str]]:
    """The (hole, part) ids the page's scripts would join, in the order they would run."""
    found = []
    for match in _MOVES.finditer(page):
        boundary, part, placed, hole = match.groups()
        found.append((boundary, part) if boundary else (hole, placed))
    return found


def place_streamed_parts(tree: lxml.html.HtmlElement, page: str) -> None:
    """Move every streamed part of ``tree`` (parsed from ``page``, comments still in it) into
    its hole, as the page's scripts would; parts no script places stay where they are."""
    joins = moves(page)
    if not joins:
        return
    by_id = {
        element.get("id"): element
        for element in tree.iter("template", "div")
        if element.get("id", "")[1:2] == ":"
    }
    for hole_id, part_id in joins:
        hole, part = by_id.get(hole_id), by_id.get(part_id)
        if hole is None or part is None or part.get("hidden") is None:
            continue
        if hole.getparent() is None or _contains(part, hole):
            continue
        if hole_id.startswith("B:") and not _drop_fallback(hole):
            continue
        part.tail = hole.tail
        hole.getparent().replace(hole, part)
        part.drop_tag()  # its children take its place, as the script's insertBefore does


def _drop_fallback(hole: lxml.html.HtmlElement) -> bool:
    """Remove what the boundary shows until its part arrives: from ``hole`` to the comment
    closing the boundary. False (and nothing removed) when that comment is not there."""
    depth, fallback = 0, list[etree._Element]()
    for sibling in hole.itersiblings():
        if isinstance(sibling, etree._Comment):
            text = (sibling.text or "").strip()
            if text == _CLOSE:
                if depth == 0:
                    hole.tail = None
                    for element in fallback:
                        element.getparent().remove(element)
                    return True
                depth -= 1
            elif text in _OPEN:
                depth += 1
        fallback.append(sibling)
    return False


def _contains(element: lxml.html.HtmlElement, other: lxml.html.HtmlElement) -> bool:
    return any(ancestor is element for ancestor in other.iterancestors())

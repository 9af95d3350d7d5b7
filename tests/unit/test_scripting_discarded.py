"""What page extraction left out is listed in `skipped`, with a reason, within bounds."""

from __future__ import annotations

import lxml.html

from narration.scripting import build_script, parse_article
from narration.scripting.blocks import TextBlock
from narration.scripting.discarded import MAX_ENTRIES, MAX_TEXT, TRUNCATED, discarded_blocks

STORY = [
    "The city council voted on Tuesday to close the old harbour bridge to cars for good.",
    "Engineers had warned for years that the steel was rusting faster than expected.",
    "Cyclists and pedestrians will keep using the bridge while a new one is built nearby.",
    "The mayor said the work would begin next spring and take about three years to finish.",
]
PAGE = f"""<!doctype html><html lang="en"><head><title>Council closes the harbour bridge</title>
<script>var tracking = "do not list me";</script></head><body>
<div class="cookie-banner">We use cookies to improve your experience. Accept all</div>
<header class="site-header"><a href="/">Daily Example</a>
<nav><ul><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/weather">Weather</a></li></ul></nav></header>
<main><article><h1>Council closes the harbour bridge</h1>
<div class="share-bar"><a href="#">Facebook</a> <a href="#">Copy the address</a></div>
<p>{STORY[0]}</p>
<figure><img src="b.jpg"><figcaption>Traffic on the bridge last winter</figcaption></figure>
<p>{STORY[1]}</p><p>{STORY[2]}</p>
<p style="display: none">A hidden paragraph that nobody can see on the page.</p>
<p>{STORY[3]}</p></article>
<aside class="related-stories"><h3>Elsewhere in the city</h3>
<ul><li><a href="/a">A new ferry timetable starts in May</a></li>
<li><a href="/b">Tram fares rise for the first time in a decade</a></li></ul></aside></main>
<footer><p>Daily Example, 1 Harbour Street</p></footer></body></html>"""


def test_page_furniture_is_listed_with_reasons() -> None:
    script = build_script(parse_article(PAGE.encode()), source="page.html")
    assert script.paragraphs == STORY
    listed = {s.text: s.reason for s in script.skipped}
    assert listed["We use cookies to improve your experience. Accept all"] == "cookie notice"
    assert listed["News | Sport | Weather"] == "navigation"
    assert listed["Traffic on the bridge last winter"] == "photo caption"
    assert listed["Facebook Copy the address"] == "share or follow widget"
    assert listed["Daily Example"] == "page header"
    assert listed["Daily Example, 1 Harbour Street"] == "page footer"
    assert listed["Council closes the harbour bridge"] == "title repeated"
    related = "Elsewhere in the city | A new ferry timetable starts in May"
    assert listed[f"{related} | Tram fares rise for the first time in a decade"] == (
        "related-articles box"
    )
    everything = " ".join(listed)
    assert "hidden paragraph" not in everything and "tracking" not in everything
    assert not any(sentence in everything for sentence in STORY)


def test_the_list_is_bounded() -> None:
    names = [a + b + c for a in "bcdfg" for b in "aeiou" for c in "klmnprst"]  # 200 words
    boxes = "".join(
        f"<div><h4>Headline {name}</h4><p>{'word ' * 200}{name}</p></div>" for name in names
    )
    tree = lxml.html.fromstring(f"<html><body><p>{STORY[0]}</p>{boxes}</body></html>")
    listed = discarded_blocks(tree, [TextBlock(STORY[0])])
    assert len(listed) == MAX_ENTRIES + 1
    assert listed[-1].reason == TRUNCATED
    assert all(len(s.text) <= MAX_TEXT for s in listed)

    menu = "".join(f"<li><a href='/{name}'>Section {name}</a></li>" for name in names)
    tree = lxml.html.fromstring(f"<html><body><nav><ul>{menu}</ul></nav></body></html>")
    (entry,) = discarded_blocks(tree, [])
    assert entry.reason == "navigation" and len(entry.text) == MAX_TEXT


def test_a_box_around_story_paragraphs_is_not_listed() -> None:
    tree = lxml.html.fromstring(
        f"<html><body><div class='story'>{STORY[0]}<br><br>{STORY[1]}</div></body></html>"
    )
    assert discarded_blocks(tree, [TextBlock(STORY[0]), TextBlock(STORY[1])]) == []


def test_other_forms_list_only_what_cleanup_dropped() -> None:
    article = parse_article(b'{"title": "T", "body": "Home > News\\n\\nOne sentence here."}')
    script = build_script(article, source="cms")
    assert [(s.text, s.reason) for s in script.skipped] == [("Home > News", "breadcrumb")]

"""Streamed pages: late parts go where the page's own scripts would put them."""

from __future__ import annotations

import lxml.html

from narration.scripting.extract import extract_page
from narration.scripting.streamed import moves, place_streamed_parts

STORY = [
    f"Paragraph {n} of the story says something long enough to count as body text."
    for n in range(8)
]
SCRIPT = "<script>function $RC(a,b){}function $RS(a,b){}</script>"


def test_a_boundary_s_fallback_gives_way_to_its_part_and_a_placeholder_is_filled() -> None:
    page = (
        "<html><body><main><h1>Bridge reopens</h1>"
        "<!--$?--><template id='B:0'></template><div>Loading paragraph...</div><!--/$-->"
        "<p>After the story.</p></main><footer>Contact us</footer>"
        "<div hidden id='S:0'><p>First.</p><template id='P:1'></template><p>Third.</p></div>"
        f'{SCRIPT}<script>$RC("B:0","S:0")</script>'
        '<div hidden id=\'S:1\'><p>Second.</p></div><script>$RS("S:1","P:1")</script>'
        "</body></html>"
    )
    assert moves(page) == [("B:0", "S:0"), ("P:1", "S:1")]
    tree = lxml.html.fromstring(page)
    place_streamed_parts(tree, page)
    main = tree.find(".//main")
    assert [p.text for p in main.iter("p")] == ["First.", "Second.", "Third.", "After the story."]
    assert "Loading" not in main.text_content()
    assert not tree.xpath("//*[@hidden] | //template")


def test_a_part_no_script_places_stays_where_it_is() -> None:
    page = "<html><body><main><template id='B:0'></template></main>" + (
        "<div hidden id='S:0'><p>Kept aside.</p></div></body></html>"
    )
    tree = lxml.html.fromstring(page)
    place_streamed_parts(tree, page)
    assert tree.xpath("//div[@hidden]/p/text()") == ["Kept aside."]


def test_a_boundary_without_its_closing_comment_is_left_alone() -> None:
    page = (
        "<html><body><main><!--$?--><template id='B:0'></template><p>Fallback.</p></main>"
        '<div hidden id=\'S:0\'><p>Part.</p></div><script>$RC("B:0","S:0")</script>'
        "</body></html>"
    )
    tree = lxml.html.fromstring(page)
    place_streamed_parts(tree, page)
    assert tree.xpath("//main/p/text()") == ["Fallback."]


def test_a_streamed_story_is_read_in_its_place_and_order() -> None:
    paragraphs = "".join(f"<p>{text}</p>" for text in STORY[1:])
    page = (
        "<html><head><title>Bridge reopens</title></head><body><article><h1>Bridge reopens</h1>"
        f"<p>{STORY[0]}</p><!--$?--><template id='B:0'></template><p>Loading...</p><!--/$-->"
        "</article><footer><p>Sign up for our newsletter to get the news first.</p></footer>"
        f"<div hidden id='S:0'>{paragraphs}</div>"
        f'{SCRIPT}<script>$RC("B:0","S:0")</script></body></html>'
    )
    texts = [block.text for block in extract_page(page).blocks]
    assert [text for text in texts if text.startswith("Paragraph")] == STORY
    assert "Loading..." not in texts


def test_text_after_an_early_end_of_document_is_read() -> None:
    page = (
        "<html><head><title>Bridge reopens</title></head><body><article><h1>Bridge reopens</h1>"
        f"<p>{STORY[0]}</p><p>{STORY[1]}</p></body></html>"
        + "".join(f"<p>{text}</p>" for text in STORY[2:])
        + "</article></body></html>"
    )
    texts = [block.text for block in extract_page(page).blocks]
    assert [text for text in texts if text.startswith("Paragraph")] == STORY

"""The block model of whole HTML pages: DOM blocks in document order with their own text, the
extractors' votes, and a shipped model that keeps a page's story and drops its furniture."""

from __future__ import annotations

import json

import lxml.html
import numpy as np
import pytest

from narration.scripting import block_model, build_script, parse_article
from narration.scripting.line_model import Trees

STORY = [
    "The city council voted on Tuesday to turn the old tram depot into a public library, "
    "ending a debate that has divided the neighbourhood for almost a decade.",
    "Supporters said the building, empty since 2011, would give the district a place to study "
    "and meet, and that the council had waited long enough for a private buyer.",
    "Opponents argued that the money would be better spent on the two libraries the city "
    "already runs, whose opening hours were cut last year to save costs.",
    "Work on the depot is expected to start in the spring and to take about two years, the "
    "council said in a statement after the vote.",
]
MENU = ["Home", "World", "Business", "Sport", "Culture"]
FOOTER = ["About us", "Contact", "Privacy", "Terms of use"]


def _page() -> str:
    menu = "".join(f'<li><a href="/{m.lower()}">{m}</a></li>' for m in MENU)
    story = "".join(f"<p>{p}</p>" for p in STORY)
    footer = "".join(f'<li><a href="/x">{f}</a></li>' for f in FOOTER)
    return (
        "<html><head><title>Council turns old tram depot into a library</title></head><body>"
        f'<nav class="site-nav"><ul>{menu}</ul></nav>'
        '<main><article class="story"><h1>Council turns old tram depot into a library</h1>'
        f'<div class="story-body">{story}</div></article></main>'
        f'<footer class="site-footer"><ul>{footer}</ul></footer></body></html>'
    )


def test_dom_blocks_are_each_elements_own_text_in_document_order() -> None:
    tree = lxml.html.fromstring(
        "<html><body><div>Loose <b>text</b><p>A <a href='#'>linked</a> paragraph.</p>tail"
        "</div><script>var x;</script><table><tr><td>DL</td><td>63</td></tr></table>"
        "</body></html>"
    )
    blocks = block_model.dom_blocks(block_model.visible_copy(tree))
    assert [(b.text, b.tag) for b in blocks] == [
        ("Loose text", "div"),
        ("A linked paragraph.", "p"),
        ("tail", "div"),
        ("DL 63", "tr"),
    ]
    assert blocks[1].link_chars == len("linked")


def test_coverage_is_the_share_of_a_blocks_shingles_in_an_output() -> None:
    votes = block_model.coverage(["one two three four five", "six seven", "nine"], "one two "
                                 "three four and six seven")  # fmt: skip
    assert votes.tolist() == [0.5, 1.0, 0.0]


SECTIONS = [
    "Home", "World", "Business", "Sport", "Culture", "Science", "Travel", "Opinion", "Video",
    "Podcasts", "Weather", "Health", "Education", "Technology", "Climate", "Money", "Cars",
    "Food", "Books", "Music", "Film", "Television", "Games", "Style", "Puzzles",
]  # fmt: skip
TEASERS = [
    f"{topic}: what the new rules mean for you"
    for topic in ("Rents", "Buses", "Schools", "Parking", "Bins", "Parks", "Taxes", "Water")
]


def _whole_page() -> str:
    """A page the size of a real one: a long menu, the story, teasers and a long footer."""
    menu = "".join(f'<li><a href="/{m.lower()}">{m}</a></li>' for m in SECTIONS)
    story = "".join(f"<p>{p}</p>" for p in STORY)
    teasers = "".join(f'<li><a href="/t{i}">{t}</a></li>' for i, t in enumerate(TEASERS))
    footer = "".join(f'<li><a href="/f/{m.lower()}">{m}</a></li>' for m in [*SECTIONS, *FOOTER])
    return (
        "<html><head><title>Council turns old tram depot into a library</title></head><body>"
        f'<nav class="site-nav"><ul>{menu}</ul></nav>'
        '<main><article class="story"><h1>Council turns old tram depot into a library</h1>'
        f'<div class="story-body">{story}</div></article>'
        f'<aside class="related"><h2>More from the city</h2><ul>{teasers}</ul></aside></main>'
        f'<footer class="site-footer"><ul>{footer}</ul></footer></body></html>'
    )


def test_the_shipped_model_reads_a_whole_page_and_lists_what_it_drops() -> None:
    assert block_model.shipped_model() is not None
    html = _whole_page()
    assert len(block_model.dom_blocks(block_model.visible_copy(lxml.html.fromstring(html)))) >= (
        block_model.MIN_BLOCKS
    )
    script = build_script(parse_article(html.encode(), content_type="text/html"), source="t")
    assert script.paragraphs == STORY
    skipped = " ".join(s.text for s in script.skipped)
    assert "Podcasts" in skipped and TEASERS[0] in skipped


def test_a_page_of_few_blocks_is_left_to_trafilatura_and_the_rules() -> None:
    # The model was fitted on whole pages; a snippet of a page is unlike them.
    page = lxml.html.fromstring(_page())
    assert len(block_model.dom_blocks(block_model.visible_copy(page))) < block_model.MIN_BLOCKS
    assert block_model.page_blocks(page, "", min_blocks=block_model.MIN_BLOCKS) is None
    script = build_script(parse_article(_page().encode(), content_type="text/html"), source="t")
    assert script.paragraphs == STORY


def test_a_fitted_model_reads_the_page_and_survives_a_round_trip_through_json() -> None:
    pytest.importorskip("sklearn", reason="scikit-learn (the test extra) fits the model")
    from sklearn.ensemble import HistGradientBoostingClassifier

    from narration.scripting.train_blocks import export

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, block_model.N_FEATURES))
    y = (x[:, 0] > 0).astype(float)
    first = export(HistGradientBoostingClassifier(max_iter=5).fit(x, y))
    x2 = block_model.smoothing_features(x, first.raw(x))
    second = export(HistGradientBoostingClassifier(max_iter=5).fit(x2, y))
    model = block_model.BlockModel(first, second)
    again = block_model.BlockModel.from_json(json.loads(json.dumps(model.to_json())))
    assert np.allclose(model.probabilities(x), again.probabilities(x), atol=1e-5)
    assert isinstance(again.first, Trees)
    page = parse_article(_whole_page().encode(), content_type="text/html")
    with block_model.using(model):
        build_script(page, source="t")  # the model's path through extraction runs

"""The block model of whole HTML pages: DOM blocks in document order with their own text, the
extractors' votes, and a shipped model that keeps a page's story and drops its furniture."""

from __future__ import annotations

import json

import lxml.html
import numpy as np
import pytest

from narration.scripting import block_model, build_script, discarded, parse_article
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


def test_a_line_break_parts_words_in_a_block() -> None:
    tree = lxml.html.fromstring(
        "<html><body><p>said the source, who asked<br>7 On Your Side not to show it.</p>"
        "<p><strong>What is the best platform?<br></strong><br>An online course platform</p>"
        "<li>Monthly: $14.99 per month<br>Annual: $77.99</li>"
        "<div>185 Madison Avenue<br>New York</div></body></html>"
    )
    blocks = block_model.dom_blocks(block_model.visible_copy(tree))
    assert [b.text for b in blocks] == [
        "said the source, who asked 7 On Your Side not to show it.",
        "What is the best platform? An online course platform",
        "Monthly: $14.99 per month Annual: $77.99",
        "185 Madison Avenue New York",
    ]


def test_a_block_in_one_of_several_like_items_knows_the_item() -> None:
    card = (
        '<div class="card"><h3><a href="/other">Teaser headline</a></h3>'
        "<p>An excerpt of another story.</p></div>"
    )
    tree = lxml.html.fromstring(
        f"<html><body><div class='story'><p>Alone here.</p><div>{card * 4}</div>"
        f"<section>{card * 2}</section></div></body></html>"
    )
    blocks = block_model.dom_blocks(block_model.visible_copy(tree))
    units = block_model.RepeatedUnits()
    features = [(b.text, units.features(b.ancestors)) for b in blocks]
    assert features[0] == ("Alone here.", [-1.0, -1.0, -1.0, -1.0])
    text, (level, siblings, links, size) = features[2]
    assert text == "An excerpt of another story."
    item = "Teaser headlineAn excerpt of another story."  # text_content joins h3 and p
    assert level == 1 and siblings == pytest.approx(np.log(4))
    assert links == pytest.approx(len("Teaser headline") / len(item))
    assert size == pytest.approx(np.log1p(len(item)))
    assert features[-1][1] == [-1.0, -1.0, -1.0, -1.0]  # two like items are not a list


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


COMMENTS = [
    "I have lived near the depot for twenty years and I think a library is exactly what the "
    "neighbourhood needs, as long as the council keeps the opening hours it promised.",
    "Another vote, another building the city cannot afford to run. The two libraries we "
    "have already close at five, and nobody has explained where the staff will come from.",
    "My children would use it every day. The nearest library is two bus rides away and the "
    "buses stop running early on Sundays, which is when most families have the time to go.",
]


def test_a_readers_comment_thread_is_never_the_story() -> None:
    # Comments read like prose; a long thread must not outvote the story's few paragraphs.
    thread = "".join(
        f'<li class="comment" id="comment-{i}"><div class="comment-body"><p>{c}</p></div></li>'
        for i, c in enumerate(COMMENTS * 3)
    )
    html = _whole_page().replace(
        "</article>",
        f'</article><section id="comments"><ol class="comment-list">{thread}</ol></section>',
    )
    script = build_script(parse_article(html.encode(), content_type="text/html"), source="t")
    assert script.paragraphs == STORY
    assert any(s.reason == "comment widget" and COMMENTS[0][:40] in s.text for s in script.skipped)


CAPTION = (
    "The tram depot on Harbour Street, which has stood empty since the last line closed in 2011, "
    "seen from the council chamber's windows on Tuesday evening after the vote."
)


def test_a_figure_caption_in_the_story_is_not_read() -> None:
    # A caption tells what a picture shows; the listener has no picture. It reads like prose and
    # sits between the story's paragraphs, where the model would keep it.
    figure = f'<figure><img src="depot.jpg"><figcaption><p>{CAPTION}</p></figcaption></figure>'
    html = _whole_page().replace(f"<p>{STORY[1]}</p>", f"<p>{STORY[1]}</p>{figure}")
    page = block_model.page_blocks(lxml.html.fromstring(html), "")
    assert page is not None
    assert [b.text for b, c in zip(page.blocks, page.in_caption(), strict=True) if c] == [CAPTION]
    script = build_script(parse_article(html.encode(), content_type="text/html"), source="t")
    assert script.paragraphs == STORY
    assert any(s.reason == "photo caption" and s.text == CAPTION for s in script.skipped)


@pytest.mark.parametrize(
    ("names", "thread"),
    [
        ("comments-area", True),
        ("comment_body_65870295", True),
        ("commentlisting", True),
        ("wp-block-post-comments", True),
        ("disqus_thread", True),
        ("no-comments", False),
        ("comment-count", False),
        ("entry has-comments", False),
        ("commentOnSelection", False),
        ("post-comments-link", False),
    ],
)
def test_a_comment_thread_is_named_by_a_whole_class_or_id_word(names: str, thread: bool) -> None:
    tree = lxml.html.fromstring(f'<html><body><div class="{names}"><p>Text.</p></div></body>')
    discarded.mark_furniture(tree)
    assert (tree.find(".//div").get(discarded.PRUNE_MARK) == "comments") is thread


@pytest.mark.parametrize(
    "body",
    [
        # a box that holds the headline is the story's own wrapper, whatever its class says
        '<div class="comments-wrapper"><h1>Council votes</h1><p>Text.</p></div>',
        # a comment in a code listing
        '<pre><code><span class="hljs-comment"># set up</span>\ngit init</code></pre>',
    ],
)
def test_what_only_looks_like_a_thread_is_not_marked(body: str) -> None:
    tree = lxml.html.fromstring(f"<html><body>{body}</body></html>")
    discarded.mark_furniture(tree)
    assert not tree.xpath(f"//*[@{discarded.PRUNE_MARK}]")


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
    model = block_model.BlockModel((block_model.BlockTrees(first, second),) * 2)
    again = block_model.BlockModel.from_json(json.loads(json.dumps(model.to_json())))
    assert np.allclose(model.probabilities(x), again.probabilities(x), atol=1e-5)
    assert isinstance(again.members[0].first, Trees)
    page = parse_article(_whole_page().encode(), content_type="text/html")
    with block_model.using(model):
        build_script(page, source="t")  # the model's path through extraction runs


class _Fixed(block_model.BlockModel):
    """The model's decision on given probabilities: a block's one feature is its probability."""

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x[:, 0])


def test_a_doubtful_block_between_two_story_blocks_is_story() -> None:
    p = [0.9, 0.45, 0.9, 0.45, 0.2, 0.9, 0.3, 0.45]
    model = _Fixed((), threshold=0.55, bridge=0.4)
    keep = model.story(np.array(p)[:, None])
    # kept: the story; bridged: 1 (0.45 between two); not: 3 (neighbour dropped), 4 (0.2),
    # 6 (0.3 under the bridge), 7 (last: nothing after it)
    assert keep.tolist() == [True, True, True, False, False, True, False, False]
    shipped = block_model.shipped_model()
    assert shipped is not None and 0 < shipped.bridge < shipped.threshold

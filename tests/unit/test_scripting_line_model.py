"""The line model of plain text copied from a browser: it ships, loads and tells the story
from the page around it; its trees survive a round trip through JSON."""

from __future__ import annotations

import json

import numpy as np

from narration.scripting import build_script, line_model, parse_article
from narration.scripting.blocks import text_blocks
from narration.scripting.cleanup import OUTSIDE_STORY

MENU = ["Home", "World", "Business", "Sport", "Culture", "Travel", "Sign in", "Subscribe"]
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
FOOTER = ["Most read", "Weather warning for the coast", "Tram fares to rise", "About us",
          "Contact", "Privacy", "Terms of use", "© 2026 City Times"]  # fmt: skip


def _page() -> str:
    headline = "Council turns old tram depot into a library"
    lines = [f"{headline} | City Times", *MENU, headline, "By Ana Ruiz", "March 3, 2026",
             *STORY, *FOOTER]  # fmt: skip
    return "\n\n".join(lines)


def test_the_story_of_a_page_copy_is_kept_and_its_furniture_dropped() -> None:
    blocks = text_blocks(_page())
    kept = {
        b.text for b, story in zip(blocks, line_model.story_lines(blocks), strict=True) if story
    }
    assert set(STORY) <= kept
    assert not kept & {*MENU, *FOOTER}


def test_the_script_of_a_page_copy_reads_the_story_and_says_why_the_rest_went() -> None:
    script = build_script(parse_article(_page().encode()), source="copy.txt")
    assert script.paragraphs == STORY
    assert script.byline == "Ana Ruiz"
    dropped = {s.text: s.reason for s in script.skipped}
    assert dropped["Weather warning for the coast"] == OUTSIDE_STORY
    assert dropped["Privacy"] == OUTSIDE_STORY


def test_a_short_text_is_left_whole_to_the_rules() -> None:
    blocks = text_blocks("Menu\n\nA story of one line, typed in by hand.")
    assert line_model.story_lines(blocks) == [True, True]


def test_the_shipped_trees_survive_a_round_trip() -> None:
    model = line_model.shipped_model()
    again = line_model.LineModel.from_json(json.loads(json.dumps(model.to_json())))
    x = line_model.line_features([b.text for b in text_blocks(_page())])
    assert x.shape[1] == line_model.N_FEATURES
    assert np.allclose(
        line_model.probabilities(x, model), line_model.probabilities(x, again), atol=1e-6
    )

# ruff: noqa: RUF001  (fixtures in many scripts use their own punctuation)
"""Each narration cleanup rule: what it drops, with its reason, and what it keeps."""

from __future__ import annotations

import pytest

from narration.scripting import cleanup
from narration.scripting.blocks import TextBlock

STORY = "The two leaders agreed to continue to hold active dialogue between related authorities."


def reasons(*texts: str, ctx: cleanup.Context | None = None) -> list[str]:
    blocks = [TextBlock(STORY), *(TextBlock(t) for t in texts)]
    cleaned = cleanup.clean(blocks, ctx or cleanup.Context(form="html"))
    assert cleaned.blocks[0].text == STORY
    return [s.reason for s in cleaned.skipped]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Home > National > Diplomacy", cleanup.BREADCRUMB),
        ("News » World » Asia", cleanup.BREADCRUMB),
        ("print dictionary print", cleanup.TOOLBAR),
        ("Share Tweet Email", cleanup.TOOLBAR),
        ("Audio report: written by reporters, read by AI", cleanup.AUDIO_PLAYER),
        (
            "President Lee, right, sits with Ishiba in Kananaskis on June 17. [JOINT PRESS CORPS]",
            cleanup.CAPTION,
        ),
        ("Photo: The summit venue in Kananaskis.", cleanup.CAPTION),
        ("Photograph: Sean Kilpatrick/AP", cleanup.CAPTION),
        ("Getty Images", cleanup.CREDIT),
        ("Photo credit: Jane Doe", cleanup.CREDIT),
        ("Photos by Jane Doe", cleanup.CREDIT),
        ("Related Article", cleanup.RELATED),
        ("Read more: Lee to visit Tokyo next month", cleanup.RELATED),
        ("SEE MORE: Hong Kong protests: 800 students under siege", cleanup.RELATED),
        ("Share this article with a friend", cleanup.SHARE),
        ("Follow us on Twitter", cleanup.SHARE),
        ("Thank you for reading!", cleanup.UI_MESSAGE),
        ("Sign up for our daily newsletter to get the news first", cleanup.NEWSLETTER),
        (
            "We use cookies to improve your experience. By continuing you accept them.",
            cleanup.COOKIE,
        ),
        ("Advertisement", cleanup.ADVERT),
        ("To write comments, please log in to one of the accounts.", cleanup.COMMENTS),
        ("Standards Board Policy (0/250자)", cleanup.COMMENTS),
        ("댓글 12", cleanup.COMMENTS),
        ("ATENÇÃO: Comentários ofensivos não serão aprovados pelo moderador.", cleanup.COMMENTS),
        ("By Sarah Kim", cleanup.BYLINE),
        ("Contact: sarah.kim@joongang.co.kr", cleanup.EMAIL),
        ("August 23, 2018", cleanup.TIMESTAMP),
        ("https://www.example.com/story/1", cleanup.LINK),
        ("https://example.com/a https://www.example.org/b#:~:text=x", cleanup.LINK),
        ("This copy is for your personal, non-commercial use only.", cleanup.LEGAL),
        ("An error has occurred, please try again later.", cleanup.UI_MESSAGE),
        ("Follow Newsbeat on Instagram, Facebook, Twitter and YouTube.", cleanup.PROMO),
        ("12 issues for £11.99. Click here for more information.", cleanup.PROMO),
        ("Keith Bradsher contributed reporting from Hong Kong.", cleanup.CONTRIBUTORS),
        (
            "stock car 2018, stock car brasil, stock car interlagos, stock car velopark",
            cleanup.TAGS,
        ),
        ("• • •", cleanup.NO_WORDS),
        ("Supported by", cleanup.ADVERT),
        ("Continue reading the main story", cleanup.ADVERT),
        ("Credit…Doug Mills/The New York Times", cleanup.CREDIT),
        ("Image caption Taylor Swift performing at the awards in 2019", cleanup.CAPTION),
        ("Media playback is unsupported on your device", cleanup.CAPTION),
        ("Updated Nov. 19, 2019 at 5:45 p.m. ET", cleanup.TIMESTAMP),
        ("Published 3 hours ago", cleanup.TIMESTAMP),
        ("Skip to main content", cleanup.UI_MESSAGE),
        ("4 min read", cleanup.UI_MESSAGE),
        ("Reading time: 3 minutes", cleanup.UI_MESSAGE),
        ("관련기사", cleanup.RELATED),
        ("関連記事", cleanup.RELATED),
        ("Lesen Sie auch:", cleanup.RELATED),
        ("Читайте также", cleanup.RELATED),
        ("Anzeige", cleanup.ADVERT),
        ("저작권자 © 중앙일보 무단전재 및 재배포 금지", cleanup.LEGAL),
        ("Tous droits réservés", cleanup.LEGAL),
        ("2:45 p.m. ET", cleanup.TIMESTAMP),
        ("14:05 GMT", cleanup.TIMESTAMP),
        ("2024年1月25日 18時30分", cleanup.TIMESTAMP),
        ("입력 2024.03.14 10:21", cleanup.TIMESTAMP),
        ("2024년 3월 14일 오전 10:21", cleanup.TIMESTAMP),
        ("Von Katrin Albrecht", cleanup.BYLINE),
        ("Por Lucía Fernández", cleanup.BYLINE),
        ("Par Camille Durand", cleanup.BYLINE),
        ("This article was originally published on The Conversation.", cleanup.LEGAL),
        ("Our Standards: The Thomson Reuters Trust Principles.", cleanup.LEGAL),
        ("Advertisement - Scroll to continue", cleanup.ADVERT),
        ("Next article", cleanup.UI_MESSAGE),
        ("Back to top", cleanup.UI_MESSAGE),
        ("Updated: 10:42 AM EST, Mon April 1, 2024", cleanup.TIMESTAMP),
        ("First published on Tue 2 Apr 2024 09.00 BST", cleanup.TIMESTAMP),
        ("\u2014 With files from The Canadian Press", cleanup.CONTRIBUTORS),
    ],
)
def test_rule_drops_with_reason(text: str, reason: str) -> None:
    assert reasons(text) == [reason]


@pytest.mark.parametrize(
    "text",
    [
        "He said he was by the river when Photo agencies arrived, and stayed until late.",
        "Related authorities will meet again in Seoul, the office said.",
        "Shares of Home Depot rose 3% > expectations, analysts said in a note on Tuesday.",
        "Ishiba said: “This year is a truly monumental year.”",
        "By the time the talks ended, both leaders had agreed to meet again.",
        "Reporting by Will Dunham; Editing by Tom Brown",
        "Add the flour (1/2 cup) and stir until smooth.",
        "The moderator, Lester Holt, asked both candidates about health care.",
        "Les commentaires du ministre ont choqué les syndicats.",
        "By Tuesday, officials had left the city.",
        "By then the troops had crossed the border.",
        "By March 2020 the company had closed all of its stores.",
        "Share the road, the police urged drivers.",
        "Follow the money, he said.",
        "Join us in welcoming the new staff, the mayor said.",
        "Customers who subscribe to the service pay $10 a month.",
        "In a letter to the editor, she wrote that the plan was flawed.",
        "Patients were offered a free trial of the drug.",
        "Inspectors will get full access to the site, the agency said.",
        "Fans can listen to the concert live on the radio.",
        "Users must download the government's app to enter the venue.",
        "Thank you, Mr. President, for everything you have done for us.",
        "Photos show the damage to the building.",
        "Video shows the moment the bridge collapsed.",
        "Por la mañana, la lluvia obligó a cerrar la carretera.",
        "By 10:30 the road had been closed in both directions.",
        "This story was published in 1999 and the mayor said it was wrong.",
        "With files from the archive, historians rebuilt the timeline of the war over many years.",
        "The next page of the report describes the damage.",
        "He said the 10:42 train was late.",
        "The source code is available at https://example.com/narrator and www.example.org.",
    ],
)
def test_story_sentences_are_kept(text: str) -> None:
    assert reasons(text) == []


def test_block_of_links_points_elsewhere() -> None:
    linked = TextBlock("Alibaba poised to launch record-breaking listing", link_density=0.9)
    prose = TextBlock(STORY, link_density=0.2)
    cleaned = cleanup.clean([prose, linked], cleanup.Context())
    assert cleaned.blocks == [prose]
    assert [s.reason for s in cleaned.skipped] == [cleanup.LINKS]


def test_author_bio_at_the_end() -> None:
    bio = "Sarah Kim is a reporter covering diplomacy for the Korea JoongAng Daily."
    ctx = cleanup.Context(byline="Sarah Kim")
    assert reasons(bio, ctx=ctx) == [cleanup.AUTHOR_BIO]
    assert reasons("Sarah Kim is a name that appears in this story.", ctx=cleanup.Context()) == []


def test_caption_printed_twice_drops_both_copies() -> None:
    caption = "Lee shakes hands with Ishiba at the G7 summit in Kananaskis, Canada."
    assert reasons(caption, caption) == [cleanup.REPEATED, cleanup.REPEATED]


def test_lines_of_a_schedule_that_differ_only_in_their_dates_are_kept() -> None:
    sessions = [f"September {day} 12pm-1pm SAAC 217 Carrie Menke, Ph.D" for day in (10, 17, 24)]
    assert reasons(*sessions) == []


def test_later_repeat_is_a_pull_quote() -> None:
    quote = "It is an inseparable relationship, like neighboring houses."
    assert reasons(quote, "Something else was said later by the official.", quote) == [
        cleanup.PULL_QUOTE
    ]


def test_a_heading_that_repeats_a_table_of_contents_link_is_kept() -> None:
    # The contents box links to the story's headings: those links are not read, so the
    # heading they point to is heard for the first time where it stands.
    heading = "What problem does version control solve for a team?"
    blocks = [
        TextBlock(STORY),
        TextBlock(heading, tag="li", link_density=1.0),
        TextBlock("Git vs other version control systems", tag="li", link_density=1.0),
        TextBlock(heading, role="heading", tag="h2"),
        TextBlock(STORY + " Every change is kept."),
    ]
    cleaned = cleanup.clean(blocks, cleanup.Context(form="html"))
    assert [b.text for b in cleaned.blocks] == [STORY, heading, STORY + " Every change is kept."]
    assert [s.reason for s in cleaned.skipped] == [cleanup.LINKS, cleanup.LINKS]


def test_placeholder_text_is_never_read() -> None:
    filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor."
    assert reasons(filler) == [cleanup.PLACEHOLDER]
    assert reasons("Lorem Ipsum, the filler text, dates back to Cicero, a scholar found.") == [
        cleanup.PLACEHOLDER
    ]


def test_repeated_table_header_rows_are_kept() -> None:
    rows = [TextBlock("Pos Player Plays % Stats", tag="row") for _ in range(2)]
    assert cleanup.clean(rows, cleanup.Context()).skipped == []


def test_title_repeated_in_body() -> None:
    ctx = cleanup.Context(title="Lee calls Korea-Japan ‘inseparable’", form="text")
    assert reasons("Lee calls Korea-Japan 'inseparable'", ctx=ctx) == [cleanup.TITLE_REPEAT]


def test_heading_above_the_story_is_the_headline() -> None:
    blocks = [
        TextBlock("A standfirst above the story", role="heading", tag="head"),
        TextBlock(STORY),
    ]
    cleaned = cleanup.clean(blocks, cleanup.Context(form="html"))
    assert [s.reason for s in cleaned.skipped] == [cleanup.HEADLINE]
    # a page sub-heading that extraction read as a paragraph: a live blog's first post title
    first_post = [TextBlock("Governor declares emergency", role="heading"), TextBlock(STORY)]
    assert cleanup.clean(first_post, cleanup.Context(form="html")).skipped == []
    assert cleanup.clean(blocks, cleanup.Context(form="cms-json")).skipped == []
    inner = [TextBlock(STORY), TextBlock("The Rukban camp", role="heading")]
    assert cleanup.clean(inner, cleanup.Context()).skipped == []


def test_about_section_at_the_end_is_boilerplate() -> None:
    blocks = [
        TextBlock(STORY),
        TextBlock("About Ascom", role="heading"),
        TextBlock("Ascom is a global solutions provider focused on healthcare ICT."),
    ]
    cleaned = cleanup.clean(blocks, cleanup.Context())
    assert [s.reason for s in cleaned.skipped] == [cleanup.ABOUT, cleanup.ABOUT]


def test_email_inside_a_paragraph_is_removed_not_the_paragraph() -> None:
    text = (
        "Readers who saw the crash can write to the newsroom at tips@news.example and the "
        "editors will follow up on every account they receive this week."
    )
    cleaned = cleanup.clean([TextBlock(text)], cleanup.Context())
    assert "@" not in cleaned.blocks[0].text
    assert "editors will follow up" in cleaned.blocks[0].text
    assert [s.reason for s in cleaned.skipped] == [cleanup.EMAIL]


def test_signoff_byline_ends_a_plain_text_story() -> None:
    blocks = [TextBlock(STORY), TextBlock(STORY + " Again."), TextBlock("BY SARAH KIM [x@y.kr]")]
    blocks += [TextBlock("Log in to Twitter or Facebook account to connect"), TextBlock("s")]
    cleaned = cleanup.clean(blocks, cleanup.Context(form="text"))
    assert len(cleaned.blocks) == 2
    assert cleaned.byline == "Sarah Kim"
    assert [s.reason for s in cleaned.skipped][-2:] == [cleanup.AFTER_SIGNOFF] * 2


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("BY SARAH KIM [[email protected]]", "Sarah Kim"),
        ("By Jamelle Bouie", "Jamelle Bouie"),
        ("By Alan Fram and Zeke Miller", "Alan Fram and Zeke Miller"),
        ("The talks ended on Tuesday.", None),
    ],
)
def test_byline_name(line: str, name: str | None) -> None:
    assert cleanup.byline_name(line) == name


def test_a_short_lead_then_only_a_link_points_elsewhere() -> None:
    text = "Mehr zum Thema: Was Fahrgäste jetzt wissen müssen"
    linked = TextBlock(text, link_density=len("Was Fahrgäste jetzt wissen müssen") / len(text))
    assert cleanup.links(linked, cleanup.Context()) == cleanup.RELATED
    quote = "Officials said: the plan, announced on Monday, would cost millions of euros."
    assert cleanup.links(TextBlock(quote, link_density=0.1), cleanup.Context()) is None


def test_a_table_row_of_figures_is_kept() -> None:
    assert cleanup.no_words(TextBlock("2023-24 15 2 9", tag="row"), cleanup.Context()) is None
    assert cleanup.no_words(TextBlock("2023-24 15 2 9"), cleanup.Context()) == cleanup.NO_WORDS


def test_linked_paragraphs_between_story_paragraphs_are_the_story() -> None:
    deal = TextBlock("The Acme X2 headphones are down to $79 at Example Store.", link_density=0.9)
    note = TextBlock("See our guide to the best headphones of the year.", link_density=0.85)
    closing = TextBlock(STORY + " Prices were checked on the morning of publication.")
    blocks = [TextBlock(STORY), deal, note, closing]
    assert cleanup.clean(blocks, cleanup.Context(form="html")).blocks == blocks
    # the same links after the story are a list of other pages
    trailing = cleanup.clean([TextBlock(STORY), deal, note], cleanup.Context(form="html"))
    assert [s.reason for s in trailing.skipped] == [cleanup.LINKS, cleanup.LINKS]


def test_a_linked_item_heading_inside_the_story_is_kept() -> None:
    # A round-up links each item's name to the shop; the name still introduces its paragraph.
    item = TextBlock("1. Canon EOS R6 Mark II", role="heading", tag="h3", link_density=1.0)
    body = TextBlock(STORY + " Its autofocus tracks birds in flight without trouble.")
    blocks = [TextBlock(STORY), item, body]
    assert cleanup.clean(blocks, cleanup.Context(form="html")).blocks == blocks
    # a linked heading after the story, with nothing of the story under it, is a teaser
    teaser = TextBlock(
        "More reviews from our camera desk", role="heading", tag="h3", link_density=1.0
    )
    trailing = cleanup.clean([TextBlock(STORY), body, teaser], cleanup.Context(form="html"))
    assert [s.reason for s in trailing.skipped] == [cleanup.LINKS]


def test_read_also_box_between_story_paragraphs_is_still_dropped() -> None:
    box = TextBlock("Read also: Ten things to know about the summit", link_density=0.75)
    cleaned = cleanup.clean(
        [TextBlock(STORY), box, TextBlock(STORY + " Again.")], cleanup.Context()
    )
    assert [s.reason for s in cleaned.skipped] == [cleanup.RELATED]


def test_list_items_that_repeat_are_kept() -> None:
    portion = "Portion size: one green pepper and one red pepper"
    blocks = [
        TextBlock(STORY),
        TextBlock(portion, tag="li"),
        TextBlock("A second recipe follows with its own steps.", tag="p"),
        TextBlock(portion, tag="li"),
    ]
    assert cleanup.clean(blocks, cleanup.Context(form="html")).skipped == []


def test_short_item_headings_of_a_list_article_are_kept() -> None:
    blocks = [
        TextBlock("1. Make a budget", role="heading", tag="head"),
        TextBlock(STORY),
        TextBlock("2. Create a mood board", role="heading", tag="head"),
        TextBlock(STORY + " Then another step."),
        TextBlock("3. Choose the furniture", role="heading", tag="head"),
        TextBlock(STORY + " And a last one."),
    ]
    assert cleanup.clean(blocks, cleanup.Context(form="html")).skipped == []

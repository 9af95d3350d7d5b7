"""Scripts written by hand, for tests of the audio stages that should not depend on parsing."""

from __future__ import annotations

from narration.script import Paragraph, Script, Section, Sentence


def sentence(text: str) -> Sentence:
    return Sentence(text, text)


def make_script(
    sections: list[tuple[str | None, list[list[str]]]],
    *,
    title: str = "Harbor bridge reopens after repairs",
    byline: str | None = "Sarah Kim",
    lang: str = "en",
) -> Script:
    """``sections``: ``(heading or None, paragraphs as lists of sentences)``."""
    return Script(
        source="test",
        title=title,
        byline=byline,
        lang=lang,
        sections=[
            Section(
                sentence(heading) if heading else None,
                [Paragraph([sentence(s) for s in para]) for para in paragraphs],
            )
            for heading, paragraphs in sections
        ],
    )


def small_script() -> Script:
    return make_script(
        [
            (
                None,
                [
                    [
                        "The harbor bridge reopened on Monday after two years of repairs.",
                        "Traffic was light in the morning.",
                    ],
                    ["City officials said the work came in under budget."],
                ],
            ),
            (
                "What comes next",
                [["A second bridge will close for repairs in the spring."]],
            ),
        ]
    )

from __future__ import annotations

import pytest

from narration.chunks import PauseHint, Voice, chunk_key, make_chunks, pack, split_text

VOICE = Voice("gtts", "gtts-2.5.4", "com", "en", 1.0)


def words(text: str) -> list[str]:
    return text.split()


def test_split_never_cuts_a_word_and_respects_the_limit() -> None:
    text = " ".join(f"word{i}" for i in range(200)) + ", and then some more words to finish."
    pieces = split_text(text, 60)
    assert all(len(p) <= 60 for p in pieces)
    assert [w for p in pieces for w in words(p)] == words(text)


def test_split_prefers_a_clause_break() -> None:
    text = "The council met on Tuesday evening, and after a long debate voted to fund the bridge."
    assert split_text(text, 60) == [
        "The council met on Tuesday evening,",
        "and after a long debate voted to fund the bridge.",
    ]


def test_a_word_longer_than_the_limit_stays_whole() -> None:
    long_word = "x" * 50
    assert split_text(f"a {long_word} b", 20) == ["a", long_word, "b"]


def test_pack_keeps_sentences_whole_under_the_limit() -> None:
    blocks: list[tuple[str, PauseHint]] = [
        (f"Sentence {i} is here.", "sentence") for i in range(20)
    ]
    groups = pack(blocks, 100)
    assert all(len(" ".join(p.spoken for p in g)) <= 100 for g in groups)
    assert [p.spoken for g in groups for p in g] == [b[0] for b in blocks]
    assert len(groups) > 1


def test_pack_closes_a_chunk_at_every_paragraph_and_section() -> None:
    blocks: list[tuple[str, PauseHint]] = [
        ("One.", "sentence"),
        ("Two.", "paragraph"),
        ("Three.", "section"),
        ("Four.", "sentence"),
    ]
    groups = pack(blocks, 400)
    assert [[p.spoken for p in g] for g in groups] == [["One.", "Two."], ["Three."], ["Four."]]
    assert [g[-1].pause for g in groups] == ["paragraph", "section", "sentence"]


def test_pieces_of_a_long_sentence_join_without_a_pause() -> None:
    long = "This sentence is long, " * 10 + "and ends here."
    groups = pack([(long, "paragraph")], 80)
    parts = [p for g in groups for p in g]
    assert [p.pause for p in parts[:-1]] == ["none"] * (len(parts) - 1)
    assert parts[-1].pause == "paragraph"
    assert {p.block for p in parts} == {0}


@pytest.mark.parametrize(
    "change",
    [
        {"engine": "espeak"},
        {"engine_version": "gtts-2.5.5"},
        {"voice": "co.uk"},
        {"lang": "fr"},
        {"speed": 0.7},
    ],
)
def test_the_key_changes_with_each_input(change: dict[str, object]) -> None:
    parts = pack([("Hello there.", "sentence")], 100)[0]
    fields = {**VOICE.__dict__, **change}
    assert chunk_key(Voice(**fields), parts) != chunk_key(VOICE, parts)


def test_the_key_changes_with_the_text_but_not_the_position() -> None:
    a = make_chunks([("Intro.", "paragraph"), ("Hello there.", "paragraph")], 100, VOICE)
    b = make_chunks([("Hello there.", "paragraph")], 100, VOICE)
    c = make_chunks([("Hello there!", "paragraph")], 100, VOICE)
    assert a[1].key == b[0].key
    assert b[0].key != c[0].key


def test_editing_a_sentence_changes_only_its_chunk() -> None:
    paragraphs = [
        [f"Paragraph {p} sentence {s} says something." for s in range(3)] for p in range(5)
    ]

    def blocks(paras: list[list[str]]) -> list[tuple[str, PauseHint]]:
        out: list[tuple[str, PauseHint]] = []
        for para in paras:
            out += [(s, "sentence") for s in para[:-1]] + [(para[-1], "paragraph")]
        return out

    before = make_chunks(blocks(paragraphs), 400, VOICE)
    paragraphs[2][1] = "Paragraph 2 sentence 1 now says something a good deal longer than it did."
    after = make_chunks(blocks(paragraphs), 400, VOICE)
    changed = [i for i, (x, y) in enumerate(zip(before, after, strict=True)) if x.key != y.key]
    assert changed == [2]


def test_a_long_paragraph_is_one_sentence_per_chunk_so_edits_stay_local() -> None:
    sentences = [f"Sentence {i} of a long paragraph that goes on for a while." for i in range(12)]

    def blocks(texts: list[str]) -> list[tuple[str, PauseHint]]:
        return [(t, "sentence") for t in texts[:-1]] + [(texts[-1], "paragraph")]

    before = make_chunks(blocks(sentences), 400, VOICE)
    assert [len(c.parts) for c in before] == [1] * 12
    sentences[3] = "Sentence 3, much shorter."
    sentences[7] = sentences[7] + " It now has a second clause that makes it much longer."
    after = make_chunks(blocks(sentences), 400, VOICE)
    changed = [i for i, (x, y) in enumerate(zip(before, after, strict=True)) if x.key != y.key]
    assert changed == [3, 7]


def test_fallback_keys_differ_from_primary_keys() -> None:
    espeak = Voice("espeak", "espeak-ng-1.52.0", "en", "en", 1.0)
    chunks = make_chunks([("Hello.", "paragraph")], 100, VOICE, espeak)
    assert chunks[0].fallback_key and chunks[0].fallback_key != chunks[0].key

from __future__ import annotations

from narration.transcript import parse_vtt, render_vtt, vtt_time


def test_vtt_time() -> None:
    assert vtt_time(0) == "00:00:00.000"
    assert vtt_time(3_723_456) == "01:02:03.456"


def test_render_vtt_one_cue_per_sentence_in_order() -> None:
    sentences = [
        {"start_ms": 0, "end_ms": 1500, "text": "Bridge reopens"},
        {"start_ms": 1850, "end_ms": 4000, "text": "Costs <fell> & --> rose\n\nagain."},
    ]
    text = render_vtt(sentences)
    assert text.startswith("WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.500\nBridge reopens\n")
    assert "&lt;fell&gt; &amp; --&gt; rose again." in text
    assert parse_vtt(text) == [
        (0, 1500, "Bridge reopens"),
        (1850, 4000, "Costs &lt;fell&gt; &amp; --&gt; rose again."),
    ]

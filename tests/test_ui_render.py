"""The chat's HTML (bot/ui/render.py): passages, source cards, answers, status."""

from __future__ import annotations

import re

import pytest

from bot.records import Answer, Chunk, Citation, Passage
from bot.ui import (
    answer_html,
    answer_text_html,
    citation_card,
    passage_html,
    source_links,
    upload_results_html,
)
from tests.ui_support import no_live_markup


def test_long_passage_shows_a_window_around_the_quote_and_the_whole_on_demand():
    passage = (
        ("Filler sentence number one. " * 40)
        + "The quoted claim is here. "
        + ("Trailing words again. " * 40)
    )
    start = passage.index("The quoted")
    rendered = passage_html(passage, [(start, start + len("The quoted claim is here."))])
    window, whole = rendered.split("<details", 1)
    assert window.count("The quoted claim") == 1 and "… " in window and " …" in window
    assert len(re.sub("<[^>]+>", "", window)) < len(passage) / 2
    assert "Show the whole passage" in whole and whole.count("Filler sentence") == 40


def test_citation_card_uses_document_offsets_and_escapes_metadata():
    passage = "# Heading\n\nFirst sentence. The quoted <b>claim</b>. Last."
    offset = 1000
    start = offset + passage.index("The quoted")
    end = offset + passage.index(" Last")
    citation = Citation(
        number=2,
        doc_id="d",
        title="<i>Title</i>",
        source="/data/uploads/doc<x>.md",
        date="2024-01-01",
        issuer="Issuer <u>",
        quote="The quoted <b>claim</b>.",
        start=start,
        end=end,
        score=0.8,
        chunk_id="c",
        passage=passage,
        passage_start=offset,
        spans=[(start, end)],
    ).to_dict()
    card = citation_card(citation, "a1", {"sources": ["javascript:alert(1)", "https://ex.org/p"]})
    no_live_markup(card)
    assert card.startswith('<article class="accord-card" id="a1-2">')
    assert "&lt;i&gt;Title&lt;/i&gt;" in card and "Issuer &lt;u&gt;" in card
    assert '<mark class="accord-quote">The quoted &lt;b&gt;claim&lt;/b&gt;.</mark>' in card
    assert "doc&lt;x&gt;.md" in card and "/data/uploads" not in card  # no server paths
    assert "javascript:" not in card
    assert 'href="https://ex.org/p"' in card


@pytest.mark.parametrize(
    ("source", "meta", "expected", "absent"),
    [
        ("https://www.gov.uk/x", {}, ['href="https://www.gov.uk/x"', "gov.uk&nbsp;↗"], []),
        (
            "/abs/path/file.md",
            {"sources": ["https://a.org/1", "https://b.org/2"]},
            ["file.md", 'href="https://a.org/1"', "+1"],
            ["/abs/path"],
        ),
        ("/abs/f.md", {"sources": "javascript:alert(1)"}, ["f.md"], ["javascript", "href"]),
        ("data:text/html,hi", {}, [], ["href"]),
        ('https://x.org/"onmouseover="alert(1)', {}, ["&quot;onmouseover=&quot;"], []),
    ],
)
def test_source_links(source, meta, expected, absent):
    rendered = source_links(source, meta)
    for piece in expected:
        assert piece in rendered
    for piece in absent:
        assert piece not in rendered


def test_answer_markers_link_to_cards_of_the_same_answer():
    rendered = answer_text_html(
        "One [1]. Two [2][3].\n\nNext <b>para</b> [1].", "u9", {1: 'Title "q"'}
    )
    assert rendered.count('<a class="accord-cite"') == 4
    assert 'href="#u9-1"' in rendered and 'href="#u9-3"' in rendered
    assert 'title="Title &quot;q&quot;"' in rendered
    assert rendered.count("<p>") == 2 and "&lt;b&gt;para&lt;/b&gt;" in rendered


def _passage(doc_id: str, title: str, text: str, **metadata) -> Passage:
    chunk = Chunk(f"{doc_id}:0", doc_id, 0, text, 0, len(text), 3, [], title, metadata)
    return Passage(chunk, 0.5)


def test_abstained_answer_says_so_and_lists_closest_passages():
    answer = Answer(
        "Where?",
        "Not covered.",
        abstained=True,
        passages=[
            _passage(
                "d1",
                "Doc one",
                "Some <em>text</em>.",
                issuer="G7",
                date="2023-10-30",
                source="/corpus/d1.md",
                sources=["https://g7.example/one"],
            ),
            _passage("d2", "Doc two", "More."),
        ],
    ).to_dict()
    rendered = answer_html(answer, "u1")
    assert "accord-abstained" in rendered and "No answer in the indexed documents" in rendered
    assert rendered.count('class="accord-card accord-closest"') == 2
    assert "&lt;em&gt;text&lt;/em&gt;" in rendered and "accord-cite" not in rendered
    first = rendered.split('id="u1-p2"')[0]
    assert '<span class="accord-issuer">G7</span>' in first
    assert '<span class="accord-date">2023-10-30</span>' in first
    assert "d1.md" in first and 'href="https://g7.example/one"' in first


def test_citation_cards_link_the_references_of_their_passage():
    passage = _passage("d", "Doc", "Part one.", sources=["https://ref.example/d"])
    citation = Citation(1, "d", "Doc", "/x/d.md", "", "", "Part one.", 0, 9, 0.9, "d:0")
    answer = Answer("q", "Part one [1].", [citation], passages=[passage]).to_dict()
    rendered = answer_html(answer, "u2")
    assert 'href="https://ref.example/d"' in rendered and "d.md" in rendered


def test_upload_results_table_escapes_names_and_counts():
    rendered = upload_results_html(
        [("<b>a</b>.md", "added", "2 chunks"), ("b.txt", "failed", "not valid UTF-8")]
    )
    assert "1 of 2 files indexed; 1 failed" in rendered
    assert "&lt;b&gt;a&lt;/b&gt;.md" in rendered and "✗ failed" in rendered


def test_unsupported_sentences_are_marked_with_their_reason():
    from bot.verification import SentenceCheck

    text = "It was signed in 2023 [1]. It is in force in 11 countries [1]. Nobody knows."
    first, second, third = (
        SentenceCheck("It was signed in 2023.", [1], 0.9, True, "", 0, 26),
        SentenceCheck(
            "It is in force in 11 countries.", [1], 0.7, False,
            "the cited passage [1] does not state “11”", 27, 62, ["11"],
        ),
        SentenceCheck("Nobody knows.", [], 0.0, False, "no citation", 63, 76),
    )  # fmt: skip
    answer = Answer("q", text, [], False, [], {"total": 1.0}, "local", [], 0.9)
    answer.sentences, answer.model = [first, second, third], "tiny.gguf"
    rendered = answer_html(answer.to_dict(), "a1")
    no_live_markup(rendered)
    flagged = re.findall(r'<span class="accord-unsupported" title="([^"]*)">(.*?)</span>', rendered)
    assert [t for t, _ in flagged] == [
        "Not verified: the cited passage [1] does not state “11”",
        "Not verified: no citation",
    ]
    assert "11 countries" in flagged[0][1] and "Nobody knows." in flagged[1][1]
    assert "signed in 2023" not in "".join(body for _, body in flagged)
    assert "2 of 3 sentences not verified" in rendered
    assert "local · tiny.gguf" in rendered and "1/3 sentences verified" in rendered


def test_a_fully_verified_answer_says_so_quietly():
    from bot.verification import SentenceCheck

    answer = Answer("q", "It was signed [1].", [], False, [], {"total": 0.1}, "extractive", [])
    answer.sentences = [SentenceCheck("It was signed.", [1], 1.0, True, "", 0, 18)]
    rendered = answer_html(answer.to_dict(), "a2")
    assert "accord-verify-ok" in rendered and "accord-unsupported" not in rendered

"""Section labels, dates in sentences, export footnotes, as-of filters: pure functions, no model."""

from __future__ import annotations

import re

import pytest

from bot.errors import AccordError
from bot.export import answer_markdown
from bot.records import Chunk
from bot.retrieval import Filters
from bot.sections import section_label
from bot.timeline import sentence_date, wants_timeline


@pytest.mark.parametrize(
    ("headings", "before", "title", "label"),
    [
        (["Article 53 – Obligations"], "1. Providers shall:\n(a) draw", "", "Article 53(1)(a)"),
        (["Article 5"], "", "", "Article 5"),
        ([], "Noting x\n\n5. Urges\n\n6. Calls ", "Resolution 78/265", "operative paragraph 6"),
        (["Frontier AI Safety Commitments", "Outcome 1"], "", "", "Frontier AI Safety Commitments"
         " › Outcome 1"),
    ],
)  # fmt: skip
def test_section_label_names_the_part_quoted(headings, before, title, label):
    assert section_label(headings, before, title) == label


def test_dates_come_from_the_sentence_at_its_own_precision():
    assert sentence_date("It met on 1 and 2 November 2023 at Bletchley.") == "2023-11-01"
    assert sentence_date("Proposed in April 2021, it was signed on 13 June 2024.") == "2021-04"
    assert sentence_date("The idea was first raised in 2017 by researchers.") == "2017"
    assert sentence_date("No date here at all.") == ""
    assert wants_timeline("What is the EU AI Act's timeline?")
    assert wants_timeline("What happened after Bletchley?")
    assert not wants_timeline("What does the EU AI Act ban?")


def test_as_of_keeps_documents_dated_then_by_date_else_updated():
    f = Filters.of({"as_of": "2025-01-01"})

    def chunk(**meta):
        return Chunk("c", "d", 0, "t", 0, 1, 1, metadata=meta)

    assert f.accepts(chunk(date="2024-09-05"))
    assert not f.accepts(chunk(date="2025-02-11"))
    assert f.accepts(chunk(updated="2024-12"))  # no date: judged by updated
    assert not f.accepts(chunk(date="2025-02-11", updated="2024-01-01"))  # date comes first
    assert not f.accepts(chunk())  # undated documents are not "dated on or before"
    assert f.where() == {"date_int": {"$lte": 20250101}}
    with pytest.raises(AccordError, match="as_of"):
        Filters.of({"as_of": "last year"})


def test_markdown_footnotes_match_the_citations():
    answer = {
        "question": "When?",
        "text": "It entered into force on 1 August 2024 [1]. Bans apply from 2025 [2].",
        "citations": [
            {"number": 1, "title": "EU AI Act", "issuer": "European Union", "date": "2024-08-01",
             "section": "Timeline", "source": "https://eur-lex.europa.eu/x", "quote": "In force."},
            {"number": 2, "title": "Fixture", "issuer": "", "date": "", "section": "Article 5",
             "source": "/tmp/corpus/eu.md", "quote": "Bans apply."},
        ],
        "timeline": [{"date": "2024-08-01", "text": "In force.", "citation": 1}],
        "comparison": None,
    }  # fmt: skip
    md = answer_markdown(answer)
    refs = sorted(set(re.findall(r"\[\^(\d+)\](?!:)", md)))
    notes = re.findall(r"^\[\^(\d+)\]: (.+)$", md, re.M)
    assert refs == [n for n, _ in notes] == ["1", "2"]
    assert notes[0][1] == (
        "EU AI Act — European Union, 2024-08-01, Timeline. "
        "<https://eur-lex.europa.eu/x> “In force.”"
    )
    assert "(eu.md)" in notes[1][1] and "Article 5" in notes[1][1]
    assert "- **2024-08-01** — In force. [^1]" in md

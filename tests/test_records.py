"""The records' dict forms: what ``/ask`` returns, the page renders and feedback keeps."""

from __future__ import annotations

import json

from bot.records import Answer, Chunk, Citation, Passage


def passage(**metadata) -> Passage:
    chunk = Chunk("d:0", "d", 0, "The UK hosted the summit.", 10, 35, 6, ["Where"], "Doc", metadata)
    return Passage(chunk, 0.7, dense=0.6, keyword=3.2, rank=1)


def test_a_passage_carries_the_document_facts_a_card_shows():
    data = passage(
        issuer="UK government",
        date="2023-11-01",
        source="/corpus/d.md",
        sources=["https://www.gov.uk/x", "https://example.org/y"],
        topics=["summits"],
    ).to_dict()
    assert data == {
        "doc_id": "d",
        "title": "Doc",
        "chunk_id": "d:0",
        "text": "The UK hosted the summit.",
        "score": 0.7,
        "issuer": "UK government",
        "date": "2023-11-01",
        "source": "/corpus/d.md",
        "sources": ["https://www.gov.uk/x", "https://example.org/y"],
    }


def test_a_passage_from_a_url_names_the_url_and_tolerates_loose_metadata():
    data = passage(
        source="https://ex.org/page", source_url="https://ex.org/page", sources="https://r.org"
    ).to_dict()
    assert data["source"] == "https://ex.org/page" and data["sources"] == ["https://r.org"]
    bare = passage().to_dict()
    assert (bare["issuer"], bare["date"], bare["source"], bare["sources"]) == ("", "", "", [])


def test_answer_to_dict_is_json_and_holds_citations_and_closest_passages():
    citation = Citation(
        1, "d", "Doc", "/corpus/d.md", "2023-11-01", "UK", "The UK hosted the summit.", 10, 35, 0.9
    )
    answer = Answer(
        "Where?",
        "The UK hosted the summit [1].",
        [citation],
        passages=[passage(issuer="UK")],
        timings={"total": 0.2},
    )
    data = json.loads(json.dumps(answer.to_dict()))
    assert data["question"] == "Where?" and data["abstained"] is False
    assert data["citations"][0]["number"] == 1 and data["citations"][0]["spans"] == []
    assert data["closest"][0]["chunk_id"] == "d:0" and data["closest"][0]["issuer"] == "UK"
    assert data["mode"] == "extractive" and data["timings"] == {"total": 0.2}

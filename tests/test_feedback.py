"""Feedback records: appended to <data_dir>/feedback.jsonl with question, answer and citations."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from bot.errors import AccordError
from bot.feedback import (
    LOGGED_CITATION_KEYS,
    MAX_COMMENT_CHARS,
    feedback_path,
    normalise_rating,
    read_feedback,
    record_answer_feedback,
    record_feedback,
)
from bot.records import Answer, Citation
from bot.ui import ChatPage
from tests.ui_support import StubBot

CITATION = {
    "number": 1,
    "doc_id": "bletchley-summit",
    "title": "The Bletchley Park summit",
    "source": "/corpus/bletchley-summit.md",
    "quote": "The UK hosted the summit.",
}


def test_record_is_appended_as_one_json_line(data_dir):
    record = record_feedback(
        data_dir,
        rating=True,
        question="Where?",
        answer="At Bletchley Park [1].",
        citations=[CITATION],
        filters={"issuers": ["UK government"]},
    )
    assert feedback_path(data_dir) == data_dir / "feedback.jsonl"
    lines = (data_dir / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    stored = json.loads(lines[0])
    assert stored == record
    assert stored["rating"] == "up" and stored["comment"] == ""
    assert stored["question"] == "Where?" and stored["answer"] == "At Bletchley Park [1]."
    assert stored["citations"] == [CITATION]
    assert stored["filters"] == {"issuers": ["UK government"]}
    assert stored["time"].endswith("+00:00")


def test_records_accumulate_and_read_back_in_order(data_dir):
    record_feedback(data_dir, rating="up", question="q1", answer="a1")
    record_feedback(data_dir, rating=False, question="q2", answer="a2", comment=" too vague ")
    records = read_feedback(data_dir)
    assert [(r["question"], r["rating"], r["comment"]) for r in records] == [
        ("q1", "up", ""),
        ("q2", "down", "too vague"),
    ]


def test_unicode_is_kept_readable(data_dir):
    record_feedback(data_dir, rating=True, question="¿Dónde?", answer="東京 [1]")
    assert "¿Dónde?" in (data_dir / "feedback.jsonl").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "up"),
        ("Like", "up"),
        ("up", "up"),
        (False, "down"),
        ("Dislike", "down"),
        (None, "cleared"),
        ("", "cleared"),
    ],
)
def test_ratings_from_gradio_are_normalised(value, expected):
    assert normalise_rating(value) == expected


def test_unknown_rating_and_huge_comment_are_refused(data_dir):
    with pytest.raises(AccordError, match="rating must be one of"):
        record_feedback(data_dir, rating="meh", question="q", answer="a")
    with pytest.raises(AccordError, match="keep it under"):
        record_feedback(
            data_dir, rating=True, question="q", answer="a", comment="x" * (MAX_COMMENT_CHARS + 1)
        )
    assert read_feedback(data_dir) == []


def test_concurrent_appends_never_interleave(data_dir):
    def write(worker: int) -> None:
        for i in range(25):
            record_feedback(
                data_dir,
                rating=i % 2 == 0,
                question=f"{worker}-{i}",
                answer="long answer " * 200,
                citations=[CITATION] * 5,
            )

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = read_feedback(data_dir)
    assert len(records) == 200
    assert len({r["question"] for r in records}) == 200


def test_a_damaged_line_is_skipped_not_fatal(data_dir):
    record_feedback(data_dir, rating=True, question="q1", answer="a1")
    with open(data_dir / "feedback.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"truncated": \n')
    record_feedback(data_dir, rating=True, question="q2", answer="a2")
    assert [r["question"] for r in read_feedback(data_dir)] == ["q1", "q2"]


BLETCHLEY = Citation(
    number=1,
    doc_id="bletchley-summit",
    title="The Bletchley Park summit",
    source="/corpus/bletchley-summit.md",
    date="2023-11-01",
    issuer="UK government",
    quote="At Bletchley Park.",
    start=0,
    end=18,
    score=0.9,
    chunk_id="c1",
    passage="At Bletchley Park.",
    passage_start=0,
    spans=[(0, 18)],
)


def bletchley_bot(data_dir: Path) -> StubBot:
    """Streams a fixed answer: the page logic is tested without models."""
    return StubBot(data_dir, deltas=("At Bletchley Park", " [1]."), citation=BLETCHLEY)


def test_liking_an_answer_on_the_page_logs_question_answer_and_citations(data_dir):
    page = ChatPage(bletchley_bot(data_dir))
    log = list(page.respond("Where was the summit?", [], {"issuers": ["UK government"]}))[-1]
    assert [e["role"] for e in log] == ["user", "assistant"]
    assert page.rate(log, 1, True, session="s1")["rating"] == "up"
    page.rate(log, 1, False, comment="Needs the date.")
    first, second = read_feedback(data_dir)
    assert first["question"] == "Where was the summit?"
    assert first["answer"] == "At Bletchley Park [1]."
    assert first["citations"][0]["doc_id"] == "bletchley-summit"
    assert first["citations"][0]["quote"] == "At Bletchley Park."
    assert first["filters"] == {"issuers": ["UK government"]}
    assert first["message_index"] == 1 and first["session"] == "s1"
    assert first["kind"] == "rating" and first["abstained"] is False
    assert (second["kind"], second["rating"], second["comment"]) == (
        "comment",
        "down",
        "Needs the date.",
    )


def test_rating_something_that_is_not_an_answer_records_nothing(data_dir):
    page = ChatPage(bletchley_bot(data_dir))
    log = list(page.respond("Where was the summit?", []))[-1]
    assert page.rate(log, 0, True) is None  # the question
    assert page.rate(log, 7, True) is None  # no such message
    assert page.rate(log, "nonsense", True) is None
    assert page.rate(log, [1, 0], True) is not None  # 2-D index from some Gradio versions
    assert len(read_feedback(data_dir)) == 1


def test_feedback_on_an_answer_dict_keeps_what_is_needed_to_judge_it(data_dir):
    citation = Citation(
        1, "d", "Doc", "/corpus/d.md", "2023-11-01", "UK", "Quote.", 0, 6, 0.9, "c1", "Quote. More."
    )
    answer = Answer("Where?", "Quote [1].", [citation], mode="llm").to_dict()
    record = record_answer_feedback(
        data_dir, dict(answer, filters={"issuers": ["UK"]}), rating="down", comment="Vague."
    )
    assert read_feedback(data_dir) == [record]
    assert (record["question"], record["answer"], record["mode"]) == ("Where?", "Quote [1].", "llm")
    assert record["filters"] == {"issuers": ["UK"]} and record["abstained"] is False
    assert record["citations"] == [{k: citation.to_dict()[k] for k in LOGGED_CITATION_KEYS}]
    assert "passage" not in record["citations"][0]  # the log stays small

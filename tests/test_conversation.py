"""Conversations that keep their thread, questions asked in several parts, comparisons built
per instrument: the rules on their own, then through ``Bot`` over the fixture corpus."""

from __future__ import annotations

import pytest

from bot.comparison import comparison_request
from bot.decompose import split_question
from bot.retrieval import standalone_queries
from bot.thread import Thread, main_entity, names, new_subject

HIROSHIMA_TURN = [
    {"role": "user", "content": "What did the G7 publish in October 2023?"},
    {
        "role": "assistant",
        "content": "It published principles and a code [1].",
        "metadata": {"doc_ids": ["hiroshima-process"], "entities": ["the G7 code of conduct"]},
    },
]


def test_names_and_the_entity_a_turn_is_about():
    assert names("What is the G7's Hiroshima code of conduct for AI developers?")[0] == (
        "G7's Hiroshima code of conduct"
    )
    assert "New York" in names("It was launched in New York on 26 October 2023.")
    assert not any("October" in n for n in names("It was launched in New York on 26 October."))
    # The question only describes it; the answer names it.
    assert main_entity(
        "Which was the first legally binding treaty on AI?",
        "It is the Council of Europe Framework Convention on Artificial Intelligence [1].",
    ).startswith("Council of Europe Framework Convention")
    assert new_subject("What about the EU AI Act?", "What is the Hiroshima code? It is a code.")
    assert not new_subject("Did China sign on to it?", "What came out of the REAIM summit?")


def test_a_follow_up_is_rewritten_with_the_thing_it_refers_to():
    plain = [
        {"role": "user", "content": "What did the G7 leaders agree on AI in October 2023?"},
        {"role": "assistant", "content": "They welcomed the Hiroshima Process International "
         "Guiding Principles and an International Code of Conduct for developers."},
    ]  # fmt: skip
    # "that code" is the code the answer named, not the first instrument it gave
    assert standalone_queries("Does that code cover red-teaming?", plain)[1] == (
        "Does International Code of Conduct cover red-teaming?"
    )
    # the thread an API client passed back names the referent
    assert standalone_queries("Who supervises it?", HIROSHIMA_TURN)[1] == (
        "Who supervises the G7 code of conduct?"
    )
    # a new instrument leaves the thread: searched as asked, alone
    assert standalone_queries("And what about the EU AI Act?", HIROSHIMA_TURN) == [
        "And what about the EU AI Act?"
    ]
    assert Thread.of({"doc_ids": "not a list"}) is None


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("Who presented the convention, and how many governments backed the declaration?",
         ["Who presented the convention?", "How many governments backed the declaration?"]),
        ("Which drew broader backing, the Bletchley Declaration or the Paris statement? "
         "Give the numbers.",
         ["Which drew broader backing: the Bletchley Declaration?",
          "Which drew broader backing: the Paris statement?"]),
        ("When was GPAI launched and who chairs it?",
         ["When was GPAI launched?", "Who chairs it?"]),
        ("What did the OECD and UNESCO each say about transparency?",
         ["What did the OECD say about transparency?", "What did UNESCO say about transparency?"]),
        ("What does the EU AI Act ban?", ["What does the EU AI Act ban?"]),
    ],
)  # fmt: skip
def test_questions_split_into_their_asks(question, asks):
    assert [p.text for p in split_question(question)] == asks


def test_a_leaning_part_is_searched_with_what_it_leans_on():
    parts = split_question("The Seoul pledges set a deadline. What was due, and who met it?")
    assert [p.text for p in parts] == ["What was due?", "Who met it?"]
    assert parts[0].query == "The Seoul pledges set a deadline. What was due?"
    assert parts[1].query.endswith("What was due? Who met it?")
    # a part that names its own subject stands alone
    either = split_question("Which drew more backing, the Bletchley Declaration or Paris?")
    assert either[1].query == "Which drew more backing: Paris?"


def test_comparison_names_may_hold_on_and_aspects_default_to_six():
    instruments, aspects = comparison_request(
        "Compare the OECD AI Principles and the UNESCO Recommendation on the Ethics of AI"
    )
    assert instruments == ["OECD AI Principles", "UNESCO Recommendation on the Ethics of AI"]
    assert len(aspects) == 6 and "legal force" in aspects
    assert comparison_request("Compare the EU AI Act and the convention on scope")[1] == ["scope"]


# ---- through Bot, over the fixture corpus


def _turn(question, answer):
    return [
        {"role": "user", "content": question},
        {"role": "assistant", "content": answer.text, "metadata": answer.thread.to_dict()},
    ]


def test_a_five_turn_conversation_keeps_and_leaves_its_thread(indexed_bot):
    history: list[dict] = []
    first = indexed_bot.ask("What did the G7 publish on 30 October 2023?", history)
    assert first.thread.doc_ids == ["hiroshima-process"]
    history += _turn("What did the G7 publish on 30 October 2023?", first)

    # the thread keeps to the G7 text (the vaguer "who supervises it?" below is the case
    # that cites the EU AI Office without it)
    second = indexed_bot.ask("Who supervises how companies apply it?", history)
    assert {c.doc_id for c in second.citations} == {"hiroshima-process"}
    assert "OECD" in second.text
    history += _turn("Who supervises how companies apply it?", second)

    third = indexed_bot.ask("What about the EU AI Act?", history)  # a new subject
    assert {c.doc_id for c in third.citations} == {"eu-ai-act"}
    assert "EU AI Act" in third.thread.entities[0]
    history += _turn("What about the EU AI Act?", third)

    fourth = indexed_bot.ask("When do its bans apply?", history)
    assert fourth.citations[0].doc_id == "eu-ai-act" and "2 February 2025" in fourth.text
    history += _turn("When do its bans apply?", fourth)

    fifth = indexed_bot.ask("How high can its fines go?", history)
    assert fifth.citations[0].doc_id == "eu-ai-act" and "35 million euros" in fifth.text
    assert fifth.to_dict()["thread"]["doc_ids"][0] == "eu-ai-act"


def test_the_thread_passed_back_keeps_a_vague_follow_up_on_its_documents(indexed_bot):
    answer = indexed_bot.ask("Who supervises it?", HIROSHIMA_TURN)
    assert answer.citations and {c.doc_id for c in answer.citations} == {"hiroshima-process"}


def test_a_two_part_question_is_answered_part_by_part(indexed_bot):
    answer = indexed_bot.ask(
        "When did the EU AI Act enter into force, and where was the first AI Safety Summit held?"
    )
    assert [p["answered"] for p in answer.parts] == [True, True]
    assert {c.doc_id for c in answer.citations} >= {"eu-ai-act", "bletchley-summit"}
    assert "1 August 2024" in answer.text and "Bletchley Park" in answer.text
    assert answer.supported_share == 1.0


def test_an_unanswerable_part_is_named_and_the_rest_answered(indexed_bot):
    answer = indexed_bot.ask(
        "When did the EU AI Act enter into force, and what did the Zorblax Accord require?"
    )
    assert not answer.abstained
    assert [p["answered"] for p in answer.parts] == [True, False]
    assert "1 August 2024" in answer.text
    assert "do not answer this part" in answer.text and "Zorblax" in answer.text
    assert {c.doc_id for c in answer.citations} == {"eu-ai-act"}


def test_a_comparison_searches_each_instrument_and_fills_the_default_rows(indexed_bot):
    answer = indexed_bot.ask("Compare the EU AI Act and the G7 Hiroshima Process")
    table = answer.comparison
    assert table is not None and len(table.aspects) == 6
    assert table.doc_ids == [["eu-ai-act"], ["hiroshima-process"]]
    for column, docs in enumerate(table.doc_ids):
        cited = [row[column] for row in table.rows if row[column].citation]
        assert all(cell.doc_id in docs for cell in cited)  # never another instrument's text
    assert sum(bool(row[0].citation) for row in table.rows) >= 3
    # the prose answer speaks for both sides
    assert {c.doc_id for c in answer.citations} >= {"eu-ai-act", "hiroshima-process"}


def test_a_question_whose_every_part_is_unknown_is_declined_whole(indexed_bot):
    answer = indexed_bot.ask("What did the Zorblax Accord require, and who signed the Quux Pact?")
    assert answer.abstained and not answer.citations
    assert [p["answered"] for p in answer.parts] == [False, False]
    assert "Zorblax" in answer.text

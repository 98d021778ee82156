"""Each answer sentence checked against the passage it cites (bot/verification.py), with the
real MiniLM: hand-written answers whose citations are right, wrong, missing, or right about
the topic but wrong about a number."""

import pytest

from bot.citations import build_citations, renumbered
from bot.evidence import VectorCache, passage_sentences
from bot.records import Chunk, Passage
from bot.verification import FactIndex, names, numbers, split_claims, verify

CONVENTION = (
    "This Convention shall enter into force on the first day of the month following the "
    "expiration of a period of three months after the date on which five signatories, "
    "including at least three member States of the Council of Europe, have expressed their "
    "consent to be bound by the Convention."
)
SUMMIT = (
    "The AI Safety Summit was held at Bletchley Park in the United Kingdom on 1 and 2 November "
    "2023. Twenty-eight countries and the European Union signed the Bletchley Declaration."
)
THRESHOLD = 0.61


def passage(doc_id: str, text: str, title: str) -> Passage:
    chunk = Chunk(f"{doc_id}-0", doc_id, 0, text, 0, len(text), 60, [], title, {})
    return Passage(chunk, 1.0)


@pytest.fixture(scope="module")
def sources(embedder):
    passages = [
        passage("coe", CONVENTION, "Council of Europe Framework Convention"),
        passage("bletchley", SUMMIT, "The Bletchley summit"),
    ]
    return passages, passage_sentences(passages), VectorCache(embedder)


def check(sources, text: str):
    passages, sentences, cache = sources
    checks, _ = verify(text, {1: 0, 2: 1}, passages, sentences, cache, THRESHOLD)
    return checks


def test_a_paraphrase_citing_the_right_passage_is_supported(sources):
    (result,) = check(
        sources,
        "The convention enters into force once five signatories, three of them Council of "
        "Europe member states, have ratified it [1].",
    )
    assert result.supported and result.support >= THRESHOLD and not result.reason
    assert result.citations == [1]


def test_the_same_claim_citing_the_wrong_passage_is_not(sources):
    (result,) = check(
        sources,
        "The convention enters into force once five signatories, three of them Council of "
        "Europe member states, have ratified it [2].",
    )
    assert not result.supported and "[2]" in result.reason


def test_a_sentence_without_a_citation_is_reported_as_uncited(sources):
    (result,) = check(sources, "Five signatories must ratify the convention.")
    assert not result.supported and result.reason == "no citation" and result.citations == []


def test_a_wrong_number_is_caught_even_when_the_meaning_is_close(sources):
    right, wrong = check(
        sources,
        "Twenty-eight countries and the EU signed the Bletchley Declaration [2]. "
        "Thirty countries and the EU signed the Bletchley Declaration [2].",
    )
    assert right.supported
    assert wrong.support >= THRESHOLD  # the meaning alone would pass it
    assert not wrong.supported and wrong.missing == ["30"]
    assert "30" in wrong.reason


def test_an_invented_fact_in_the_style_of_a_small_model_is_caught(sources):
    # SmolLM2-135M, given the entry-into-force article, answered "in force in 11 countries".
    (result,) = check(sources, "The convention is currently in force in 11 countries [1].")
    assert not result.supported and "11" in result.missing


def test_a_name_the_passage_does_not_state_is_caught(sources):
    (result,) = check(
        sources, "The AI Safety Summit was held at Bletchley Park in Canada in November 2023 [2]."
    )
    assert not result.supported and result.missing == ["Canada"]


def test_names_numbers_and_acronyms_are_read_the_way_passages_write_them():
    assert numbers("at least 10 000 users, or 10,000, twenty-eight states and 5 parties") == {
        "10000",
        "28",
        "5",
    }
    assert names("Yesterday the EU and Japan met in Paris.") == {"EU", "Japan", "Paris"}
    facts = FactIndex(["The European Union and the United Nations met on 1 November 2023."])
    assert facts.missing("The EU and the UN met in November 2023.") == []
    assert facts.missing("The OECD met in November 2024.") == ["2024", "OECD"]


def test_a_marker_after_the_full_stop_belongs_to_the_sentence_before():
    claims = split_claims("It was signed in 2023. [1] It entered into force [2].")
    assert [(c[2], c[3]) for c in claims] == [
        ("It was signed in 2023.", [1]),
        ("It entered into force.", [2]),
    ]


def test_citations_quote_the_best_matching_sentence_and_strict_renumbering(sources):
    passages, sentences, cache = sources
    text = "Ungrounded opinion [1]. Twenty-eight countries signed the declaration [2]."
    citations, checks = build_citations(text, {1: 1, 2: 2}, passages, sentences, cache, THRESHOLD)
    assert [c.supported for c in checks] == [False, True]
    assert "Twenty-eight countries" in citations[1].quote
    kept, numbers_ = renumbered(text[checks[1].start : checks[1].end], {1: 1, 2: 2}, 2)
    assert kept == "Twenty-eight countries signed the declaration [1]."
    assert numbers_ == {2: 1}


def test_a_quoted_answer_is_checked_one_cited_quote_at_a_time(sources):
    passages, sentences, cache = sources
    # A source sentence can hold a full stop the answer's sentence splitter cuts at.
    text = "Independent evaluations. Twenty-eight countries signed the declaration [2]."
    split, _ = verify(text, {2: 1}, passages, sentences, cache, THRESHOLD)
    assert [c.reason for c in split] == ["no citation", ""]
    quoted, _ = verify(text, {2: 1}, passages, sentences, cache, THRESHOLD, quoted=True)
    assert len(quoted) == 1 and quoted[0].citations == [2] and quoted[0].end == len(text)


def test_a_possessive_in_the_passage_states_the_name():
    facts = FactIndex(["The EU AI Act's obligations apply to providers."])
    assert facts.missing("Providers follow the AI Act.") == []

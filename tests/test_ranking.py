import numpy as np
import pytest

from bot.evidence import Sentence
from bot.ranking import (
    FEATURES,
    analyse,
    combine,
    expand,
    feature_matrix,
    focus,
    is_boilerplate,
    is_preamble,
    question_kind,
)
from bot.records import Chunk, Passage


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When does the convention enter into force?", "date"),
        ("By what date must providers comply?", "date"),
        ("How many ratifications does it need?", "number"),
        ("How large can fines be under the AI Act?", "number"),
        ("Who signed the Bletchley Declaration?", "entity"),
        ("Which body follows up the recommendation?", "entity"),
        ("Does the convention apply to national defence?", "yesno"),
        ("What is a general-purpose AI model?", "definition"),
        ("Why did the G7 start the Hiroshima process", "other"),
    ],
)
def test_question_kind(question, kind):
    assert question_kind(question) == kind


def test_focus_drops_the_question_word_and_auxiliary():
    assert focus("How many countries need to ratify it?") == "countries need to ratify it"
    assert focus("When does the Act apply?") == "the Act apply"


def test_paraphrases_add_the_official_wording():
    assert "entry into force" in expand("When does it take effect?")
    assert "prohibited" in expand("Which practices does the Act ban?")
    assert expand("Who chairs the board?") == "Who chairs the board?"


def test_preambles_and_boilerplate_are_recognised():
    assert is_preamble("Recognising the value of fostering co-operation between the Parties;")
    assert is_preamble("We, the Leaders of the Group of Seven, stress the opportunities.")
    assert is_preamble("The parties agree to report.", headings=["Preamble"])
    assert not is_preamble("This Convention shall enter into force on the first day.")
    assert is_boilerplate("Council of Europe Treaty Series - No. 225")
    assert not is_boilerplate("The Board shall be composed of one representative per State.")


def _passage(text, headings=(), rank=1):
    chunk = Chunk("c", "d", 0, text, 0, len(text), 10, list(headings), "Convention")
    return Passage(chunk, 1.0, rank=rank)


def test_the_sentence_with_the_answer_outranks_the_one_on_the_topic():
    """Same cosine for both: the learned weights must prefer the sentence that has a date and
    sits under the heading that names what was asked, over a preambular clause."""
    question = analyse("When does the convention enter into force?")
    passages = [_passage("x", ["Article 30 – Entry into force"]), _passage("y", ["Preamble"])]
    sentences = [
        Sentence(1, 0, 1, "Considering the need to enter into a dialogue on the convention."),
        Sentence(0, 0, 1, "It shall enter into force on the first day of the month after 2025."),
    ]
    cos = np.array([0.6, 0.6], dtype=np.float32)
    sections = [{"articl", "30", "entri", "forc", "convent"}, {"preambl", "convent"}]
    rows = feature_matrix(question, sentences, passages, cos, cos, sections)
    assert rows.shape == (2, len(FEATURES))
    first, second = combine(rows)
    assert second > first
    assert 0.0 < first < 1.0 and 0.0 < second < 1.0

import numpy as np
import pytest

from bot.answerers import ExtractiveAnswerer, get_answerer, with_marker
from bot.errors import ConfigError
from bot.evidence import Sentence
from bot.settings import Settings


def test_marker_goes_inside_the_final_punctuation():
    assert with_marker("It was signed.", 2) == "It was signed [2]."
    assert with_marker('He said "yes."', 1) == 'He said "yes [1]."'
    assert with_marker("No full stop", 3) == "No full stop [3]"


def unit(*values):
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_extractive_answer_leads_with_the_best_sentence_and_skips_near_duplicates():
    answerer = ExtractiveAnswerer(Settings(max_sentences=3))
    sentences = [
        Sentence(0, 100, 150, "Later sentence of the first source.", 0.80),
        Sentence(0, 10, 60, "Earlier sentence of the first source.", 0.70),
        Sentence(1, 0, 40, "A repeat of the best sentence.", 0.79),
        Sentence(1, 50, 90, "Something off topic entirely.", 0.20),
    ]
    vectors = np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(1, 0.05, 0), unit(0, 0, 1)])
    text = "".join(answerer.stream("q", [], [], sentences, vectors))
    assert text == (
        "Later sentence of the first source [1]. Earlier sentence of the first source [1]."
    )


def test_a_sentence_opening_a_list_brings_its_items_and_never_comes_alone():
    answerer = ExtractiveAnswerer(Settings(max_sentences=2))
    sentences = [
        Sentence(0, 0, 40, "Providers of such models shall:", 0.9, block=0),
        Sentence(0, 41, 80, "draw up technical documentation;", 0.3, item=True, block=1),
        Sentence(0, 81, 120, "publish a summary of training data.", 0.2, item=True, block=2),
        Sentence(0, 121, 160, "The AI Office supervises these duties.", 0.5, block=3),
    ]
    vectors = np.eye(4, dtype=np.float32)
    text = "".join(answerer.stream("q", [], [], sentences, vectors))
    assert text.startswith(
        "Providers of such models shall: draw up technical documentation; "
        "publish a summary of training data [1]."
    )
    alone = [Sentence(0, 0, 40, "Providers of such models shall:", 0.9, block=0)]
    assert "".join(answerer.stream("q", [], [], alone, np.eye(1, dtype=np.float32))) == ""
    numbered = [
        Sentence(0, 0, 40, "Providers shall:", 0.9, item=True, marker="number", block=0),
        Sentence(0, 41, 80, "draw up documentation;", 0.3, item=True, marker="paren", block=1),
        Sentence(
            0, 81, 120, "The next paragraph starts.", 0.2, item=True, marker="number", block=2
        ),
    ]
    text = "".join(answerer.stream("q", [], [], numbered, np.eye(3, dtype=np.float32)))
    assert text.startswith("Providers shall: draw up documentation [1].")
    assert "next paragraph" not in text.split("[1].")[0]
    orphan = [Sentence(0, 0, 40, "ensure the model is safe and secure;", 0.9, item=True)]
    assert "".join(answerer.stream("q", [], [], orphan, np.eye(1, dtype=np.float32))) == ""


def test_when_nothing_above_the_floor_stands_alone_the_best_usable_sentence_answers():
    answerer = ExtractiveAnswerer(Settings(max_sentences=2))
    sentences = [
        Sentence(0, 0, 40, "Providers of such models shall:", 0.9, block=0),
        Sentence(1, 0, 40, "The rules apply from December 2027.", 0.2, block=0),
        Sentence(1, 41, 80, "They were proposed in 2021.", 0.1, block=1),
    ]
    text = "".join(answerer.stream("q", [], [], sentences, np.eye(3, dtype=np.float32)))
    assert text == "The rules apply from December 2027 [2]."


def test_a_comparison_cites_both_documents():
    answerer = ExtractiveAnswerer(Settings(max_sentences=2))
    sentences = [
        Sentence(0, 0, 40, "The treaty binds its parties to respect rights.", 0.9, doc_id="a"),
        Sentence(0, 50, 90, "The treaty also sets up a conference of parties.", 0.85, doc_id="a"),
        Sentence(1, 0, 40, "The regulation applies to providers in the Union.", 0.5, doc_id="b"),
    ]
    vectors = np.eye(3, dtype=np.float32)
    plain = "".join(answerer.stream("What does the treaty do?", [], [], sentences, vectors))
    assert "[2]" not in plain
    both = "".join(
        answerer.stream("Compare the treaty and the regulation", [], [], sentences, vectors)
    )
    assert "[1]" in both and "[2]" in both


def test_unknown_answer_mode_names_the_choices():
    with pytest.raises(ConfigError, match="extractive"):
        get_answerer("gpt-17", Settings())


def test_llm_modes_need_a_model_name():
    with pytest.raises(ConfigError, match="ACCORD_LLM_MODEL"):
        get_answerer("openai", Settings()).build()

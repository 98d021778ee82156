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


def test_extractive_answer_skips_near_duplicates_and_keeps_document_order():
    answerer = ExtractiveAnswerer(Settings(max_sentences=3, abstain_threshold=0.3))
    sentences = [
        Sentence(0, 100, 150, "Later sentence of the first source.", 0.80),
        Sentence(0, 10, 60, "Earlier sentence of the first source.", 0.70),
        Sentence(1, 0, 40, "A repeat of the best sentence.", 0.79),
        Sentence(1, 50, 90, "Something off topic entirely.", 0.20),
    ]
    vectors = np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(1, 0.05, 0), unit(0, 0, 1)])
    text = "".join(answerer.stream("q", [], [], sentences, vectors))
    assert text == (
        "Earlier sentence of the first source [1]. Later sentence of the first source [1]."
    )


def test_unknown_answer_mode_names_the_choices():
    with pytest.raises(ConfigError, match="extractive"):
        get_answerer("gpt-17", Settings())


def test_llm_modes_need_a_model_name():
    with pytest.raises(ConfigError, match="ACCORD_LLM_MODEL"):
        get_answerer("openai", Settings()).build()

"""The shipped selector: its labels still match their documents, its weights are the ones the
manifest names, and a bot with it switched on lets its answer probability decide."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest

from bot.errors import ModelError
from bot.selector import MANIFEST, MODEL_DIR, WEIGHTS, Manifest, Selector, file_sha256
from evals.selector import check
from evals.selector.data import SOURCES, read_labels

LABEL_FILES = sorted(check.LABELS.glob("*.jsonl"))


def test_every_labelled_sentence_still_occurs_in_its_document():
    labels = read_labels()
    missing = {lb.source for lb in labels if not SOURCES[lb.source].is_dir()}
    if missing:
        pytest.skip(f"documents not on this machine: {', '.join(sorted(missing))}")
    problems = [p for path in LABEL_FILES for p in check.problems(path)]
    assert problems == []


def test_the_training_set_is_large_varied_and_has_questions_it_cannot_answer():
    labels = read_labels()
    assert len(labels) >= 3000
    assert len({lb.id for lb in labels}) == len(labels)
    per_source = Counter(lb.source for lb in labels)
    assert set(per_source) == {"training-docs", "corpus"}
    unanswerable = sum(not lb.answerable for lb in labels) / len(labels)
    assert 0.05 <= unanswerable <= 0.2
    assert all(len(lb.negatives) >= 2 for lb in labels)


def test_the_shipped_weights_match_the_manifest_and_fit_the_budget():
    manifest = Manifest.read()
    path = MODEL_DIR / WEIGHTS
    assert file_sha256(path) == manifest.weights_sha256
    assert path.stat().st_size <= 25_000_000
    raw = json.loads((MODEL_DIR / MANIFEST).read_text())
    assert raw["trained_on"]["labels"] >= 3000


def test_altered_weights_are_refused(tmp_path):
    folder = tmp_path / "selector"
    shutil.copytree(MODEL_DIR, folder)
    data = bytearray((folder / WEIGHTS).read_bytes())
    data[-1] ^= 0xFF
    (folder / WEIGHTS).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum"):
        Selector(folder).score("When does it apply?", ["It applies from 1 May 2026."])


def test_a_missing_model_says_how_to_train_one(tmp_path):
    with pytest.raises(ModelError, match="train_selector"):
        Selector(tmp_path)


QUESTION = "What did the G7 leaders agree in the Hiroshima AI Process?"


def test_with_the_selector_on_its_answer_probability_decides_abstention(indexed_dir):
    from bot import Bot

    strict = Bot(data_dir=indexed_dir, selector=True, answer_threshold=1.0).ask(QUESTION)
    assert strict.abstained  # no probability reaches 1
    lenient = Bot(data_dir=indexed_dir, selector=True, answer_threshold=0.0).ask(QUESTION)
    assert not lenient.abstained and lenient.citations
    assert 0.0 < lenient.evidence < 1.0

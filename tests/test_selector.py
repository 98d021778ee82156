"""The shipped selector: its labels still match their documents, its weights are the ones the
manifest names, and it picks the answering sentence over its on-topic neighbours."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest

from bot.errors import ModelError
from bot.selector import MANIFEST, MODEL_DIR, WEIGHTS, Manifest, Selector, file_sha256, get_selector
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
    assert manifest.kind == "bi"  # the held-out study's winner (README)


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


# Written for this test (not in the training labels): each question's answer beside sentences
# of the same passage that share its words but do not answer it. The shipped bi-encoder still
# prefers a neighbour in the first two (alone; in the bot its cosine is folded into the
# ranker's score): they are kept as strict expected failures, so a retrained model that gets
# them right says so.
_MISSES = "the shipped bi-encoder alone still prefers a neighbour here"
CASES = [
    pytest.param(
        "How many countries have to ratify the pact before it takes effect?",
        "Entry into force: The agreement enters into force three months after the tenth "
        "instrument of ratification has been deposited with the depositary.",
        [
            "Entry into force: Each country may, when it ratifies the agreement, declare that it "
            "will apply the rules on data sharing only to public bodies.",
            "Entry into force: The depositary shall notify all signatories of each ratification "
            "it receives and of any declaration made.",
        ],
        marks=pytest.mark.xfail(strict=True, reason=_MISSES),
    ),
    pytest.param(
        "What is the largest fine a company can face under the law?",
        "Penalties: Infringements of the ban on social scoring are punished with fines of up to "
        "EUR 40 million or 8 % of worldwide annual turnover, whichever is higher.",
        [
            "Penalties: Member States shall notify the Commission of the rules on penalties they "
            "adopt and of any later change to them.",
            "Penalties: Authorities shall take into account the size of the company and whether "
            "it cooperated when deciding on a fine.",
        ],
        marks=pytest.mark.xfail(strict=True, reason=_MISSES),
    ),
    pytest.param(
        "Which body keeps watch over whether governments comply?",
        "Follow-up: A Committee of the Parties, made up of one representative of each party, "
        "monitors how the parties implement the treaty.",
        [
            "Follow-up: Parties shall consult each other on any difficulty in applying the "
            "treaty and may settle disputes by negotiation.",
            "Follow-up: This article does not affect the obligations of parties under other "
            "international agreements on human rights.",
        ],
    ),
]


@pytest.mark.parametrize("question,answer,neighbours", CASES)
def test_the_selector_prefers_the_answer_to_its_neighbours(question, answer, neighbours):
    scores = get_selector().score(question, [*neighbours, answer])
    assert scores.argmax() == len(neighbours)


def test_training_widened_the_answers_lead_over_its_neighbours():
    """Both models rank the follow-up answer first; training should have pulled it further
    ahead of the on-topic sentences (a weight file equal to the packaged one would not)."""
    from bot.selector import bi_base_model

    question, answer, neighbours = CASES[2].values
    texts = [*neighbours, answer]
    packaged = bi_base_model().encode([question, *texts], normalize_embeddings=True)
    trained = get_selector().score(question, texts)
    untrained = packaged[1:] @ packaged[0]
    assert trained[-1] - trained[:-1].max() > untrained[-1] - untrained[:-1].max()


def test_sentence_vectors_are_made_once():
    selector = Selector()
    selector.score("When does it apply?", ["It applies from 1 May 2026.", "It binds states."])
    cached = dict(selector._cache)
    selector.score("Whom does it bind?", ["It binds states."])
    assert len(selector._cache) == len(cached) + 1  # only the new question was embedded
    assert selector._cache["It binds states."] is cached["It binds states."]

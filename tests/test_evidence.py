import threading

import numpy as np
import pytest

from bot.evidence import VectorCache, passage_sentences
from bot.records import Chunk, Passage


class CountingEmbedder:
    dimension = 2

    def __init__(self):
        self.calls = 0

    def embed_batch(self, texts):
        self.calls += 1
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_a_hit_that_is_the_oldest_entry_survives_eviction():
    cache = VectorCache(CountingEmbedder(), size=3)
    cache.vectors(["a", "bb", "ccc"])
    out = cache.vectors(["a", "dddd"])  # "a" is the oldest entry and a hit: it must not vanish
    assert out[:, 0].tolist() == [1.0, 4.0]
    assert len(cache._cache) == 3


def test_a_batch_larger_than_the_cache_and_many_threads_at_once():
    embedder = CountingEmbedder()
    cache = VectorCache(embedder, size=4)
    texts = [f"t{'x' * i}" for i in range(10)]
    assert cache.vectors(texts)[:, 0].tolist() == [float(len(t)) for t in texts]
    errors = []

    def ask(seed):
        rng = np.random.default_rng(seed)
        for _ in range(200):
            batch = [texts[i] for i in rng.integers(0, 10, size=3)]
            try:
                assert cache.vectors(batch)[:, 0].tolist() == [float(len(t)) for t in batch]
            except Exception as exc:  # noqa: BLE001 - collected and reported below
                errors.append(exc)

    threads = [threading.Thread(target=ask, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def _passage(text):
    return Passage(Chunk("c", "d", 0, text, 0, len(text), 50, [], "T"), 1.0, rank=1)


def test_answer_candidates_leave_out_headings_titles_fragments_and_boilerplate():
    text = (
        "### Article 53\n\n"
        "Obligations for providers of general-purpose AI models\n\n"
        "1. Providers of general-purpose AI models shall:\n\n"
        "(a) draw up and keep up-to-date the technical documentation of the model;\n\n"
        "Council of Europe Treaty Series - No. 225\n\n"
        "continues a sentence that began in an earlier chunk of the text.\n\n"
        "The AI Office shall monitor compliance with these obligations."
    )
    sentences = passage_sentences([_passage(text)])
    assert [s.text for s in sentences] == [
        "Providers of general-purpose AI models shall:",
        "draw up and keep up-to-date the technical documentation of the model;",
        "The AI Office shall monitor compliance with these obligations.",
    ]
    assert [s.item for s in sentences] == [True, True, False]
    assert [s.marker for s in sentences] == ["number", "paren", ""]
    for s in sentences:
        assert text[s.start : s.end].endswith(s.text[-10:])


class LengthScorer:
    """Scores a text by its length: enough to see which sentences were rescored, and how."""

    def __init__(self):
        self.seen = []

    def score(self, question, texts):
        self.seen.extend(texts)
        return np.array([min(len(t) / 1000, 1.0) for t in texts])


def test_rerank_rescores_the_best_sentences_and_two_of_every_passage():
    from bot.evidence import Sentence, rerank

    passages = [_passage("x" * 10) for _ in range(3)]
    sentences = [
        Sentence(p, 0, 1, f"passage {p} sentence {n} " + "w" * (10 * n), score=s)
        for p, scores in enumerate([(0.9, 0.8, 0.7), (0.2, 0.1, 0.05), (0.3, 0.01, 0.02)])
        for n, s in enumerate(scores)
    ]
    scorer = LengthScorer()
    best = rerank("q?", sentences, passages, scorer, limit=2)
    rescored = {s.text for s in sentences if s.score >= 0.01}
    # the top two overall, and the best two of the other passages
    assert len(scorer.seen) == 6
    assert "passage 0 sentence 2 " + "w" * 20 not in rescored
    assert max(s.score for s in sentences) == best
    left = [s for s in sentences if s.text not in rescored]
    assert all(s.score < 0.001 for s in left)  # below every rescored sentence, order kept
    assert left[0].score == 0.7e-3


def test_rerank_of_nothing_scores_zero():
    from bot.evidence import rerank

    assert rerank("q?", [], [], LengthScorer(), limit=30) == 0.0


class CosineScorer:
    """A bi-encoder stand-in: fixed cosines per text prefix."""

    kind = "bi"

    def __init__(self, cosines):
        self.cosines = cosines

    def score(self, question, texts):
        return np.array([next(c for k, c in self.cosines.items() if k in t) for t in texts])


def test_a_bi_encoder_reorders_by_its_cosine_folded_into_the_ranker_score():
    from bot.evidence import Sentence, rerank

    passages = [_passage("x" * 10)]
    sentences = [
        Sentence(0, 0, 1, "on topic, ranker's favourite", score=0.9),
        Sentence(0, 0, 1, "the answer", score=0.5),
    ]
    scorer = CosineScorer({"favourite": 0.40, "answer": 0.70})
    assert rerank("q?", sentences, passages, scorer, limit=30, weight=0.1) is None
    assert sentences[1].score == pytest.approx(0.5)  # the best match keeps the ranker's scale
    assert sentences[0].score == pytest.approx(0.9 * np.exp(-3.0))  # 0.3 of cosine below it
    # with a weight so large the cosine hardly counts, the ranker's order stands
    sentences[0].score, sentences[1].score = 0.9, 0.5
    rerank("q?", sentences, passages, scorer, limit=30, weight=10.0)
    assert sentences[0].score > sentences[1].score

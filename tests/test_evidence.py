import threading

import numpy as np

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

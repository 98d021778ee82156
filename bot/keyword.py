"""BM25 over the same chunk texts the dense index holds.

MiniLM is weak on legal and policy wording, so exact terms ("Article 52", "10^26") must be
findable by keyword. A :class:`KeywordIndex` is built whole from one snapshot's chunks and never
changed afterwards, so any number of questions can score against it at once; an ingest builds
the next one beside it (see :mod:`bot.snapshot`).
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.records import Chunk

_local = threading.local()


def _stemmer():
    """One stemmer per thread: a PyStemmer object keeps state and must not be shared."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer


def tokenize(texts: list[str]):
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False)


def terms(text: str) -> list[str]:
    """Stemmed, stopword-free terms, exactly as the index sees them."""
    return terms_batch([text])[0]


def terms_batch(texts: Sequence[str]) -> list[list[str]]:
    """``terms`` of each text in one tokenizer pass: a question's few hundred candidate
    sentences cost a third less this way than one call each."""
    if not texts:
        return []
    tokens = tokenize(list(texts))
    words = {i: w for w, i in tokens.vocab.items()}
    return [[words[i] for i in row] for row in tokens.ids]


class KeywordIndex:
    """A BM25 model, the chunk ids its rows stand for, and each term's document frequency."""

    def __init__(self, model, ids: Sequence[str], df: dict[str, int]) -> None:
        self._model = model  # None when there are no chunks
        self._ids = list(ids)
        self._df = dict(df)

    @classmethod
    def build(cls, chunks: Sequence[Chunk]) -> KeywordIndex:
        import bm25s

        ids = [c.chunk_id for c in chunks]
        if not chunks:
            return cls(None, ids, {})
        tokens = tokenize([c.context_text for c in chunks])
        model = bm25s.BM25()
        model.index(tokens, show_progress=False)
        del tokens  # at 100k chunks, tens of millions of Python ints
        # A term's document frequency is its column's count of non-zero scores (every
        # occurrence scores above zero): read off the matrix instead of a pass over the tokens.
        columns = np.diff(model.scores["indptr"])
        df = {w: int(columns[i]) for w, i in model.vocab_dict.items() if i < len(columns)}
        return cls(model, ids, {w: n for w, n in df.items() if n})

    def save(self, folder: Path) -> None:
        """Into an empty ``folder``: ``keyword.json`` (ids, df) and ``bm25/`` (the model)."""
        if self._model is not None:
            self._model.save(str(folder / "bm25"), show_progress=False)
        state = {"ids": self._ids, "df": self._df}
        (folder / "keyword.json").write_text(json.dumps(state), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        state = json.loads((folder / "keyword.json").read_text(encoding="utf-8"))
        model = None
        if state["ids"]:
            import bm25s

            model = bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
        return cls(model, state["ids"], state["df"])

    def known(self, term: str) -> bool:
        return self._df.get(term, 0) > 0

    def idf(self, term: str) -> float:
        """BM25's idf: rare terms weigh more; a term the corpus never uses weighs most."""
        n, df = len(self._ids), self._df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def scores(self, query: str) -> np.ndarray:
        """One BM25 score per chunk, aligned with ``ids``."""
        if self._model is None:
            return np.zeros(len(self._ids), dtype=np.float32)
        words = terms(query)
        if not words:
            return np.zeros(len(self._ids), dtype=np.float32)
        return np.asarray(self._model.get_scores(words), dtype=np.float32)

    @property
    def ids(self) -> list[str]:
        return self._ids

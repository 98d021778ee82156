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

    def __init__(self, model, ids: Sequence[str], df: dict[str, int], tokens=None) -> None:
        self._model = model  # None when there are no chunks
        self._ids = list(ids)
        self._df = dict(df)
        self._tokens: _Tokens | None = tokens  # kept by a build only until it is saved

    @classmethod
    def build(cls, chunks: Sequence[Chunk], reuse: Path | None = None) -> KeywordIndex:
        """BM25 over ``chunks``. ``reuse`` is a snapshot folder whose token file gives the terms
        of chunks it already holds (a chunk id names one text): after an edit only the new
        chunks are tokenized, the slow part (two-thirds of a build at 10k chunks)."""
        import bm25s

        ids = [c.chunk_id for c in chunks]
        if not chunks:
            return cls(None, ids, {})
        tokens = _Tokens.load(reuse / TOKENS_FILE) if reuse else _Tokens.empty()
        rows = tokens.rows_for(chunks)
        model = bm25s.BM25()
        model.index(([r.tolist() for r in rows], tokens.vocab), show_progress=False)
        # A term's document frequency is its column's count of non-zero scores (every
        # occurrence scores above zero): read off the matrix instead of a pass over the tokens.
        columns = np.diff(model.scores["indptr"])
        df = {w: int(columns[i]) for w, i in model.vocab_dict.items() if i < len(columns)}
        return cls(model, ids, {w: n for w, n in df.items() if n}, _Tokens.of(ids, rows, tokens))

    def save(self, folder: Path) -> None:
        """Into an empty ``folder``: ``keyword.json`` (ids, df), ``bm25/`` (the model) and, from
        a build, ``tokens.npz`` (each chunk's terms, for the next build to reuse)."""
        if self._model is not None:
            self._model.save(str(folder / "bm25"), show_progress=False)
        if self._tokens is not None:
            self._tokens.save(folder / TOKENS_FILE)
            self._tokens = None  # readers never need them
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


TOKENS_FILE = "tokens.npz"
_TOKENIZE_SLICE = 4096


class _Tokens:
    """Each chunk's term ids (int32 rows) and the vocabulary they index, as saved beside a
    snapshot. A vocabulary only grows: ids of terms no chunk uses any more stay unused, which
    changes no score (``--rebuild`` starts afresh)."""

    def __init__(self, ids: list[str], rows: list[np.ndarray], vocab: dict[str, int]) -> None:
        self.ids = ids
        self.rows = rows
        self.vocab = vocab

    @classmethod
    def empty(cls) -> _Tokens:
        return cls([], [], {})

    @classmethod
    def of(cls, ids: list[str], rows: list[np.ndarray], base: _Tokens) -> _Tokens:
        return cls(ids, rows, base.vocab)

    @classmethod
    def load(cls, path: Path) -> _Tokens:
        try:
            with np.load(path, allow_pickle=False) as data:
                ids, offsets, flat = data["ids"].tolist(), data["offsets"], data["flat"]
                words = data["vocab"].tolist()
        except (OSError, KeyError, ValueError):
            return cls.empty()  # a snapshot from before token files: tokenize everything
        rows = [flat[offsets[i] : offsets[i + 1]] for i in range(len(ids))]
        return cls(ids, rows, {w: i for i, w in enumerate(words)})

    def save(self, path: Path) -> None:
        lengths = np.fromiter((len(r) for r in self.rows), dtype=np.int64, count=len(self.rows))
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        flat = np.concatenate(self.rows) if self.rows else np.zeros(0, dtype=np.int32)
        words = sorted(self.vocab, key=self.vocab.__getitem__)
        np.savez(
            path,
            ids=np.array(self.ids, dtype=str),
            offsets=offsets,
            flat=flat.astype(np.int32),
            vocab=np.array(words, dtype=str),
        )

    def rows_for(self, chunks: Sequence[Chunk]) -> list[np.ndarray]:
        """Term-id rows for ``chunks``: known chunks' rows as saved, new chunks tokenized (in
        one pass) with their new terms added to :attr:`vocab`."""
        known = {cid: i for i, cid in enumerate(self.ids)}
        rows: list[np.ndarray | None] = [
            self.rows[known[c.chunk_id]] if c.chunk_id in known else None for c in chunks
        ]
        fresh = [i for i, row in enumerate(rows) if row is None]
        # In slices: the tokenizer's rows are lists of Python ints (about 1 GB at 100k chunks
        # in one call); each slice becomes compact int32 rows before the next is read.
        for start in range(0, len(fresh), _TOKENIZE_SLICE):
            part = fresh[start : start + _TOKENIZE_SLICE]
            tokens = tokenize([chunks[i].context_text for i in part])
            local = np.empty(len(tokens.vocab), dtype=np.int32)
            for word, i in tokens.vocab.items():
                local[i] = self.vocab.setdefault(word, len(self.vocab))
            for i, row in zip(part, tokens.ids, strict=True):
                rows[i] = local[np.asarray(row, dtype=np.int64)]
        return rows  # type: ignore[return-value]

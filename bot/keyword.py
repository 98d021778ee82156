"""BM25 over the same chunk texts the dense index holds, persisted beside it.

MiniLM is weak on legal and policy wording, so exact terms ("Article 52", "10^26") must be
findable by keyword. The index is small and rebuilt whole from the catalog whenever the
catalog's generation moves.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import shutil
from collections import Counter
from pathlib import Path

import numpy as np

from bot.records import Chunk


@functools.cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]):
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False)


def terms(text: str) -> list[str]:
    """Stemmed, stopword-free terms, exactly as the index sees them."""
    tokens = tokenize([text])
    words = {i: w for w, i in tokens.vocab.items()}
    return [words[i] for i in tokens.ids[0]]


class KeywordIndex:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._model = None
        self._ids: list[str] = []
        self._generation = ""
        self._df: dict[str, int] = {}

    def build(self, chunks: list[Chunk], generation: str) -> None:
        import bm25s

        tmp = self.folder.with_name(self.folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        ids = [c.chunk_id for c in chunks]
        model = bm25s.BM25()
        df: Counter[str] = Counter()
        if chunks:
            tokens = tokenize([c.context_text for c in chunks])
            model.index(tokens, show_progress=False)
            model.save(str(tmp / "bm25"))
            words = {i: w for w, i in tokens.vocab.items()}
            for row in tokens.ids:
                df.update({words[i] for i in row})
        state = {"generation": generation, "ids": ids, "df": dict(df)}
        (tmp / "ids.json").write_text(json.dumps(state))
        shutil.rmtree(self.folder, ignore_errors=True)
        tmp.replace(self.folder)
        self._model, self._ids, self._generation = (model if chunks else None), ids, generation
        self._df = dict(df)

    def generation_on_disk(self) -> str:
        try:
            return json.loads((self.folder / "ids.json").read_text())["generation"]
        except (OSError, ValueError, KeyError):
            return ""

    def ensure(self, chunks_loader, generation: str) -> None:
        """Load the saved index, or rebuild it when it lags behind the catalog."""
        if self._generation == generation:
            return
        if self.generation_on_disk() != generation:
            self.build(chunks_loader(), generation)
            return
        import bm25s

        data = json.loads((self.folder / "ids.json").read_text())
        self._ids = data["ids"]
        self._df = data.get("df", {})
        self._model = bm25s.BM25.load(str(self.folder / "bm25")) if self._ids else None
        self._generation = generation

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

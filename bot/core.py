"""``Bot``: the one facade every surface uses (CLI, chat page, evals, LangChain retriever)."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bot.answerers import NO_ANSWER, get_answerer
from bot.citations import Renumberer, build_citations
from bot.embeddings import get_embedder
from bot.errors import AccordError, IndexMissingError
from bot.evidence import VectorCache, passage_sentences, score_sentences, unknown_words
from bot.offline import prepare
from bot.records import Answer, IngestReport, Passage
from bot.retrieval import Filters, HybridRetriever, standalone_queries
from bot.settings import Settings

log = logging.getLogger(__name__)

ABSTAIN_TEXT = (
    "The indexed documents do not seem to cover this question, so I will not guess. "
    "The closest passages I found are listed below; try rephrasing, widening the filters, "
    "or ingesting documents that cover it."
)
MAX_QUESTION_CHARS = 2000


class Bot:
    """Ingest documents and answer questions about them with numbered citations.

    ``Bot()`` reads settings from ``ACCORD_*`` variables; any keyword overrides one setting
    (``Bot(data_dir="/tmp/x", top_k=8)``) or pass a whole ``Settings``.
    """

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        self.settings = settings.with_(**overrides) if settings else Settings.from_env(**overrides)
        prepare(self.settings.data_dir)

    # Heavy parts are built on first use: constructing a Bot costs nothing.
    @functools.cached_property
    def embedder(self):
        return get_embedder(self.settings.embedding_model, self.settings.torch_threads)

    @functools.cached_property
    def index(self):
        from bot.index import Index
        from bot.store import VectorStore

        return Index(self.settings, VectorStore(self.settings, self.embedder))

    @functools.cached_property
    def searcher(self) -> HybridRetriever:
        return HybridRetriever(self.index, self.embedder, self.settings)

    @functools.cached_property
    def answerer(self):
        return get_answerer(self.settings.answer_mode, self.settings)

    @functools.cached_property
    def vectors(self) -> VectorCache:
        return VectorCache(self.embedder)

    @property
    def retriever(self):
        from bot.retriever import AccordRetriever

        return AccordRetriever(bot=self, k=self.settings.top_k)

    def ingest(
        self,
        paths: Iterable[str | Path] | str | Path | None = None,
        *,
        prune: bool = True,
        rebuild: bool = False,
        progress: bool = False,
    ) -> IngestReport:
        if paths is None:
            paths = [self.settings.corpus_dir]
        elif isinstance(paths, (str, Path)):
            paths = [paths]
        return self.index.ingest(paths, prune=prune, rebuild=rebuild, progress=progress)

    def status(self) -> dict[str, Any]:
        docs = self.index.catalog.documents()
        return {
            "documents": len(docs),
            "chunks": sum(d.chunks for d in docs),
            "last_ingest": self.index.catalog.get_meta("last_ingest"),
            "issuers": sorted({str(d.metadata.get("issuer", "")) for d in docs} - {""}),
            "store": self.index.store.where,
        }

    def documents(self):
        return self.index.catalog.documents()

    def search(
        self,
        question: str,
        *,
        history: Sequence[dict] | None = None,
        filters: Filters | dict | None = None,
        k: int | None = None,
        mode: str | None = None,
    ) -> list[Passage]:
        """Retrieval only: the passages an answer would be built from."""
        question = self._check(question)
        queries = standalone_queries(question, _history(history))
        return self.searcher.search(queries, k=k, filters=Filters.of(filters), mode=mode)

    def ask(self, question: str, history=None, filters=None, **options: Any) -> Answer:
        answer = None
        for event in self.stream(question, history, filters, **options):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def stream(
        self,
        question: str,
        history: Sequence[dict] | None = None,
        filters: Filters | dict | None = None,
        *,
        k: int | None = None,
        mode: str | None = None,
    ) -> Iterator[str | Answer]:
        """Text deltas as the answer is produced, then the final :class:`Answer`."""
        started = time.perf_counter()
        question = self._check(question)
        history = _history(history)
        filters = Filters.of(filters)
        if not self.searcher.chunks():
            raise IndexMissingError(
                f"nothing is indexed in {self.settings.index_dir}; run `python ingest.py` "
                "(or Bot().ingest([...])) first"
            )
        queries = standalone_queries(question, history)
        query_vectors = self.embedder.embed_batch(queries)
        passages = self.searcher.search(
            queries, k=k, filters=filters, mode=mode, query_vectors=query_vectors
        )
        retrieved = time.perf_counter()
        sentences = passage_sentences(passages)
        vectors = score_sentences(
            sentences,
            passages,
            queries,
            query_vectors,
            self.vectors,
            self.index.keyword,
            self.settings.lexical_weight,
            self.settings.sentence_context,
        )
        best = max((s.score for s in sentences), default=0.0)
        unknown = []
        if self.settings.check_names:
            unknown = unknown_words(question, self.index.keyword, self.searcher.chunks().values())
        timings = {"retrieve": retrieved - started}
        if best < self.settings.abstain_threshold or unknown:
            text = ABSTAIN_TEXT
            if unknown:
                names = ", ".join(f"“{w}”" for w in unknown)
                text = f"The indexed documents never mention {names}. {ABSTAIN_TEXT}"
            yield text
            yield self._declined(question, text, passages, timings, started, best)
            return

        renumber = Renumberer(len(passages))
        parts: list[str] = []
        for delta in self.answerer.stream(question, history, passages, sentences, vectors):
            out = renumber.feed(delta)
            if out:
                parts.append(out)
                yield out
        tail = renumber.flush()
        if tail:
            parts.append(tail)
            yield tail
        text = "".join(parts).strip()
        if NO_ANSWER in text or not text:
            yield self._declined(question, ABSTAIN_TEXT, passages, timings, started, best)
            return
        citations, support = build_citations(
            text, renumber.numbers, passages, sentences, self.vectors
        )
        timings["answer"] = time.perf_counter() - retrieved
        timings["total"] = time.perf_counter() - started
        yield Answer(
            question, text, citations, False, passages, timings, self.answerer.name, support, best
        )

    def _declined(self, question, text, passages, timings, started, best) -> Answer:
        """An abstention still carries the closest passages, so a reader can look for themselves."""
        timings["total"] = time.perf_counter() - started
        return Answer(question, text, [], True, passages, timings, self.answerer.name, [], best)

    @staticmethod
    def _check(question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise AccordError("the question is empty; type a question about AI governance")
        question = " ".join(question.split())
        if len(question) > MAX_QUESTION_CHARS:
            raise AccordError(
                f"the question is {len(question):,} characters long; keep it under "
                f"{MAX_QUESTION_CHARS:,} (ask about one thing at a time)"
            )
        return question


def _history(history: Sequence[dict] | None) -> list[dict]:
    """Accept the messages format (role/content dicts); ignore anything else in it."""
    if not history:
        return []
    if not isinstance(history, (list, tuple)):
        raise AccordError("history must be a list of {'role': ..., 'content': ...} messages")
    out = []
    for turn in history:
        if not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant"):
            raise AccordError(
                "history must be a list of {'role': 'user'|'assistant', 'content': str} messages"
            )
        content = turn.get("content")
        if isinstance(content, str):
            out.append({"role": turn["role"], "content": content})
    return out

"""``Bot``: the one facade every surface uses (CLI, chat page, evals, LangChain retriever)."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bot.abstention import missing_terms, unknown_names, unknown_symbols, unknown_words
from bot.answerers import NO_ANSWER, ChatModelAnswerer, get_answerer
from bot.asof import prefer_recent
from bot.citations import Renumberer, build_citations, renumbered
from bot.comparison import comparison_request, instrument_documents
from bot.decompose import Part, split_question
from bot.embeddings import get_embedder
from bot.errors import AccordError, IndexMissingError
from bot.evidence import (
    Evidence,
    VectorCache,
    passage_sentences,
    rank,
    rerank,
    sentence_features,
    with_context,
)
from bot.offline import prepare
from bot.policy import enrich
from bot.ranking import FEATURES, analyse
from bot.records import Answer, IngestReport, Passage
from bot.retrieval import Filters, HybridRetriever, standalone_queries
from bot.settings import Settings
from bot.snapshot import Snapshot
from bot.thread import Thread, names, previous_turn, significant, turn_entities
from bot.timeline import wants_timeline
from bot.verification import attribute

log = logging.getLogger(__name__)
MARKERS = re.compile(r"\s*\[\d+(?:,\s*\d+)*\]")

ABSTAIN_TEXT = (
    "The indexed documents do not seem to cover this question, so I will not guess. "
    "The closest passages I found are listed below; try rephrasing, widening the filters, "
    "or ingesting documents that cover it."
)
STRICT_EMPTY = (
    "The model's answer was withheld: none of its sentences is supported by the passage it "
    "cites (strict mode). The closest passages are listed below."
)
MAX_QUESTION_CHARS = 2000


@dataclass
class PartPlan:
    """One ask of a multi-part question and why the documents cannot answer it ("" when
    they can)."""

    part: Part
    declined: str


class Bot:
    """Ingest documents and answer questions about them with numbered citations.

    ``Bot()`` reads settings from ``ACCORD_*`` variables; any keyword overrides one setting
    (``Bot(data_dir="/tmp/x", top_k=8)``) or pass a whole ``Settings``.

    One ``Bot`` may be used from many threads at once: questions (``ask``, ``stream``,
    ``search``) each read one index snapshot from start to end and never wait for an ingest;
    ingests (here, on another thread, or ``ingest.py`` in another process) run one at a time.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder=None,
        vectors: VectorCache | None = None,
        **overrides: Any,
    ) -> None:
        """``embedder`` and ``vectors`` let several bots share one model and one sentence-vector
        cache (the eval runs configurations side by side); by default each is built on first
        use from the settings."""
        self.settings = settings.with_(**overrides) if settings else Settings.from_env(**overrides)
        prepare(self.settings.data_dir)
        self._embedder = embedder
        self._vectors = vectors
        self._selector = None
        self._index = None
        self._searcher: HybridRetriever | None = None
        self._answerers: dict[str, Any] = {}
        self._building = threading.RLock()  # heavy parts are built once, by one thread

    # Heavy parts are built on first use: constructing a Bot costs nothing.
    def _once(self, name: str, build):
        value = getattr(self, name)
        if value is None:
            with self._building:
                value = getattr(self, name)
                if value is None:
                    value = build()
                    setattr(self, name, value)
        return value

    @property
    def embedder(self):
        return self._once(
            "_embedder",
            lambda: get_embedder(
                self.settings.embedding_model, self.settings.torch_threads, self.settings.precision
            ),
        )

    @property
    def selector(self):
        from bot.selector import get_selector

        return self._once(
            "_selector", lambda: get_selector(self.settings.torch_threads, self.settings.precision)
        )

    @property
    def vectors(self) -> VectorCache:
        return self._once("_vectors", lambda: VectorCache(self.embedder))

    @property
    def index(self):
        def build():
            from bot.index import Index
            from bot.store import VectorStore

            return Index(self.settings, VectorStore(self.settings, self.embedder))

        return self._once("_index", build)

    @property
    def searcher(self) -> HybridRetriever:
        return self._once(
            "_searcher", lambda: HybridRetriever(self.index, self.embedder, self.settings)
        )

    @property
    def answerer(self):
        """The backend of ``settings.answer_mode``."""
        return self.answerer_for(self.settings.answer_mode)

    def answerer_for(self, mode: str, settings: Settings | None = None):
        """The backend for answer mode ``mode`` (built once); ``settings`` (e.g. another model
        name for an endpoint found at start-up) replace the bot's own for that mode."""
        key = f"{mode}:{settings.llm_base_url}:{settings.llm_model}" if settings else mode
        with self._building:
            if key not in self._answerers:
                self._answerers[key] = get_answerer(mode, settings or self.settings)
            return self._answerers[key]

    @property
    def retriever(self):
        from bot.retriever import AccordRetriever

        return AccordRetriever(bot=self, k=self.settings.top_k)

    def snapshot(self) -> Snapshot:
        """The index as questions see it now: one generation's chunks and keyword index."""
        return self.index.snapshot()

    def ingest(
        self,
        paths: Iterable[str | Path] | str | Path | None = None,
        *,
        prune: bool = True,
        rebuild: bool = False,
        progress: bool = False,
        on_wait: Callable[[str], None] | None = None,
    ) -> IngestReport:
        """Add, update and (``prune``) remove documents. Questions asked meanwhile are answered
        from the index as it was until the ingest is done. When another ingest holds the index,
        this one waits up to ``settings.lock_timeout`` seconds, telling ``on_wait`` why."""
        if paths is None:
            paths = [self.settings.corpus_dir]
        elif isinstance(paths, (str, Path)):
            paths = [paths]
        return self.index.ingest(
            paths, prune=prune, rebuild=rebuild, progress=progress, on_wait=on_wait
        )

    def status(self) -> dict[str, Any]:
        docs = self.index.catalog.documents()
        return {
            "documents": len(docs),
            "chunks": sum(d.chunks for d in docs),
            "last_ingest": self.index.catalog.get_meta("last_ingest"),
            "issuers": sorted({str(d.metadata.get("issuer", "")) for d in docs} - {""}),
            "store": self.index.store.where,
            "catalog": self.index.catalog.where,
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
        return self.searcher.search(
            queries, k=k, filters=Filters.of(filters), mode=mode, snapshot=self.snapshot()
        )

    def ask(
        self, question: str, history=None, filters=None, *, as_of: str | None = None, **options
    ) -> Answer:
        """The whole answer; ``as_of="2025-01-01"`` answers from documents dated up to then."""
        if as_of:
            filters = replace(Filters.of(filters), as_of=str(as_of))
            Filters.of(asdict(filters))  # the same check as a filters dict gets
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
        answer_mode: str | None = None,
        strict: bool | None = None,
        answerer=None,
    ) -> Iterator[str | Answer]:
        """Text deltas as the answer is produced, then the final :class:`Answer`.

        ``mode`` picks the retrieval, ``answer_mode`` the backend that writes (or ``answerer``,
        one from :meth:`answerer_for`); ``strict`` (default ``settings.strict``) drops the
        sentences their citations do not support, so nothing streams before they are checked.
        """
        started = time.perf_counter()
        question = self._check(question)
        history = _history(history)
        filters = Filters.of(filters)
        if answerer is None:
            answerer = self.answerer_for(answer_mode or self.settings.answer_mode)
        strict = self.settings.strict if strict is None else strict
        snapshot = self.snapshot()  # this question's view of the index, start to end
        if not snapshot.chunks:
            raise IndexMissingError(
                f"nothing is indexed in {self.settings.index_dir}; run `python ingest.py` "
                "(or Bot().ingest([...])) first"
            )
        standalone = self._condense(question, history, answerer)
        parts = self._parts(question, snapshot)
        plans: list[PartPlan] = []
        if parts:
            found, plans = self._part_evidence(parts, history, filters, k, mode, snapshot)
        else:
            found = self.evidence(
                question, history, filters, k=k, mode=mode, snapshot=snapshot,
                standalone=standalone,
            )  # fmt: skip
            prefer_recent(found.sentences, found.passages, question)  # newer documents first
        passages, sentences, vectors = found.passages, found.sentences, found.vectors
        retrieved = time.perf_counter()
        closeness = found.closeness()
        timings = {"retrieve": retrieved - started}

        def declined(text: str) -> Answer:
            timings["total"] = time.perf_counter() - started
            return Answer(
                question, text, [], True, passages, timings, answerer.name, [], closeness,
                snapshot.generation, model=answerer.model_name, standalone=standalone,
                parts=[{"question": p.part.text, "answered": False} for p in plans],
            )  # fmt: skip

        if parts and any(p.declined for p in plans):  # declined only when every part is
            reason = plans[0].declined if all(p.declined for p in plans) else ""
        else:
            reason = self._decline_reason(question, found.question, sentences, closeness, snapshot)
        if reason:
            text = f"{reason} {ABSTAIN_TEXT}"
            yield text
            yield declined(text)
            return

        renumber = Renumberer(len(passages))
        pieces: list[str] = []
        raw: list[str] = []  # the backend's own text, markers as passage positions
        for delta in answerer.stream(question, history, passages, sentences, vectors):
            raw.append(delta)
            out = renumber.feed(delta)
            if out:
                pieces.append(out)
                if not strict:
                    yield out
        tail = renumber.flush()
        if tail:
            pieces.append(tail)
            if not strict:
                yield tail
        text = "".join(pieces).strip()
        if NO_ANSWER in text or not text:
            yield declined(ABSTAIN_TEXT)
            return
        threshold = self.settings.support_threshold
        quoted = answerer.name == "extractive"
        numbers = renumber.numbers
        attributed: list[str] = []
        if not quoted:
            marked, attributed = attribute(
                "".join(raw).strip(), passages, sentences, self.vectors, threshold
            )
            if attributed:  # number the sources again: new markers change the first uses
                renumber = Renumberer(len(passages))
                text = (renumber.feed(marked) + renumber.flush()).strip()
                numbers = renumber.numbers
        citations, checks = build_citations(
            text, numbers, passages, sentences, self.vectors, threshold, quoted
        )
        dropped = []
        if strict and not all(c.supported for c in checks):
            dropped = [c for c in checks if not c.supported]
            kept = " ".join(text[c.start : c.end] for c in checks if c.supported)
            if not kept:
                yield declined(STRICT_EMPTY)
                return
            text, numbers = renumbered(kept, numbers, len(passages))
            citations, checks = build_citations(
                text, numbers, passages, sentences, self.vectors, threshold, quoted
            )
        for check in checks:
            check.attributed = check.text in attributed
        before = text
        score = None
        if self.settings.selector:

            def score(asked, chosen):  # how well each sentence answers a table cell's question
                texts = [with_context(s, found.passages[s.passage]) for s in chosen]
                return self.selector.score(asked, texts)

        text, extras = enrich(question, text, citations, found, filters, self.vectors, score)
        if text != before:  # an "As of" opening: the checked sentences move along
            _shift(checks, before, text)
        if strict:
            yield text
        unanswered = [p.part.text for p in plans if p.declined]
        if unanswered:  # the asks the documents do not cover, named after the rest
            listed = "; ".join(f"“{t}”" for t in unanswered)
            note = f"The indexed documents do not answer this part of the question: {listed}"
            text = f"{text} {note}" if text.endswith((".", "!", "?", "]")) else f"{text}. {note}"
            if not strict:
                yield " " + note
        thread = Thread(
            list(dict.fromkeys(c.doc_id for c in citations)),
            turn_entities(found.queries[-1] if found.queries else question, text),
        )
        timings["answer"] = time.perf_counter() - retrieved
        timings["total"] = time.perf_counter() - started
        yield Answer(
            question,
            text,
            citations,
            False,
            passages,
            timings,
            answerer.name,
            [c.support for c in checks],
            closeness,
            snapshot.generation,
            sentences=checks,
            model=answerer.model_name,
            standalone=standalone,
            dropped=dropped,
            thread=thread,
            parts=[{"question": p.part.text, "answered": not p.declined} for p in plans],
            **extras,
        )

    def _condense(self, question: str, history: list[dict], answerer) -> str:
        """A follow-up rewritten to stand alone by the answer model, when there is one; ""
        leaves it to the rule-based rewrite (bot/retrieval.py). A model that fails here is
        not fatal: the question is still answered."""
        if not history or not isinstance(answerer, ChatModelAnswerer):
            return ""
        try:
            rewritten = answerer.condense(question, history)
        except AccordError as exc:
            log.warning("could not rewrite the follow-up with the model: %s", exc)
            return ""
        return "" if rewritten.lower() == question.lower() else rewritten

    def evidence(
        self,
        question: str,
        history: Sequence[dict] | None = None,
        filters: Filters | None = None,
        *,
        k: int | None = None,
        mode: str | None = None,
        snapshot: Snapshot | None = None,
        standalone: str = "",
    ) -> Evidence:
        """Passages for the question and their sentences, ranked by how well each answers it,
        read from ``snapshot`` (default: the current one). ``standalone`` is the follow-up as a
        model rewrote it; it is searched first, beside the rule-based rewrites."""
        if snapshot is None:
            snapshot = self.snapshot()
        history = _history(history)
        queries = standalone_queries(question, history)
        # A follow-up (one the rules resolved) keeps to the documents its thread cited.
        prefer = self._thread_documents(history, filters, snapshot) if len(queries) > 1 else []
        if standalone:
            queries = list(dict.fromkeys([standalone, *queries]))
        previous = [_last_user_turn(history)] if len(queries) > 1 else []
        analysed = analyse(question, snapshot.keyword, previous)
        embedded = self.embedder.embed_batch([*queries, analysed.focus])
        query_vectors, focus_vector = embedded[:-1], embedded[-1]
        passages = self.searcher.search(
            queries,
            k=k,
            filters=filters,
            mode=mode,
            query_vectors=query_vectors,
            snapshot=snapshot,
            prefer=prefer,
        )
        sentences = passage_sentences(passages)
        vectors, rows = sentence_features(
            analysed, sentences, passages, query_vectors, focus_vector, self.vectors
        )
        rank(sentences, rows)
        best = None
        if self.settings.selector:
            asked = standalone or queries[-1]  # a follow-up is scored with its reference resolved
            best = rerank(
                asked, sentences, passages, self.selector, self.settings.rerank,
                self.settings.selector_weight,
            )  # fmt: skip
        return Evidence(analysed, passages, sentences, vectors, rows, best, queries)

    def _parts(self, question: str, snapshot: Snapshot) -> list[Part]:
        """The asks of a question that asks several things, else [] (comparisons and
        timelines have their own layout and stay whole)."""
        if not self.settings.decompose or wants_timeline(question):
            return []
        compared = comparison_request(question)
        if compared:
            return self._instrument_parts(question, compared[0], snapshot)
        parts = split_question(question)
        return parts if len(parts) > 1 else []

    def _instrument_parts(self, question: str, instruments: list[str], snapshot) -> list[Part]:
        """A comparison asks one part per instrument, searched within the documents whose
        titles name it (widely: the table's rows need more of each than one answer does).
        An instrument no title names is searched everywhere, with its name in the query."""
        titles = list(dict.fromkeys((c.doc_id, c.title) for c in snapshot.chunks.values()))
        k = max(16, self.settings.top_k)
        return [
            Part(name, f"{name}: {question}", instrument_documents(name, titles, 0.6), k)
            for name in instruments
        ]

    def _part_evidence(self, parts, history, filters, k, mode, snapshot):
        """Each part searched on its own, and the evidence of the parts the documents answer
        merged into one (passages once each, in the order the parts found them) that the
        answer is composed from and checked against. Each part's sentence scores are scaled
        to its best, so every part's best sentence leads and no part drowns another. (On the
        dev items, one composition over the merged evidence cited all gold documents more
        often than one short answer per part: 0.58 against 0.33 over the shipped corpus, and
        than leaving out the parts the closeness test would decline: 0.42.)"""
        passages: list[Passage] = []
        at: dict[str, int] = {}  # chunk id -> position in ``passages``
        merged: dict[tuple[int, int], int] = {}  # (passage, start) -> merged sentence
        sentences, vectors, rows, plans = [], [], [], []
        for part in parts:
            scope = filters or Filters()
            if part.doc_ids:
                within = [d for d in part.doc_ids if not scope.doc_ids or d in scope.doc_ids]
                scope = replace(scope, doc_ids=within or scope.doc_ids)
            ev = self.evidence(
                part.query, history, scope, k=part.k or k, mode=mode, snapshot=snapshot
            )
            prefer_recent(ev.sentences, ev.passages, part.query)
            for p in ev.passages:
                if p.chunk.chunk_id not in at:
                    at[p.chunk.chunk_id] = len(passages)
                    passages.append(p)
            # A part is declined when it names what the documents never mention; a fragment
            # ("what was due?") is too short for the closeness test, which judges the whole.
            declined = self._unknown_reason(part.query, snapshot)  # with what it leans on
            plans.append(PartPlan(part, declined))
            if declined:
                continue  # its passages are shown, its sentences answer nothing
            top = max((s.score for s in ev.sentences), default=0.0) or 1.0
            for j, s in enumerate(ev.sentences):
                moved = replace(s, passage=at[ev.passages[s.passage].chunk.chunk_id])
                moved.score = s.score / top
                key = (moved.passage, moved.start)
                if key not in merged:
                    merged[key] = len(sentences)
                    sentences.append(replace(moved))
                    vectors.append(ev.vectors[j])
                    rows.append(ev.rows[j])
                else:
                    kept = sentences[merged[key]]
                    kept.score = max(kept.score, moved.score)
        width = len(FEATURES)
        found = Evidence(
            analyse(" ".join(p.query for p in parts), snapshot.keyword),
            passages,
            sentences,
            np.array(vectors) if vectors else np.zeros((0, self.embedder.dimension)),
            np.array(rows) if rows else np.zeros((0, width)),
        )
        return found, plans

    def _thread_documents(self, history, filters, snapshot) -> list[str]:
        """The documents the previous answer cited: as the client passed them back with the
        turn, else found again from the previous question, its answer's text and the names
        they give (an extractive answer quotes its sources, so they come first)."""
        previous, answer, thread = previous_turn(history)
        if thread is not None and thread.doc_ids:
            return thread.doc_ids
        answer = MARKERS.sub("", answer)[:800]
        named = [n for n in names(f"{previous} {answer}") if significant(n)]
        texts = [t for t in (previous, answer, *named[:4]) if t.strip()]
        if not texts:
            return []
        found = self.searcher.search(texts, k=6, filters=filters, snapshot=snapshot)
        return list(dict.fromkeys(p.chunk.doc_id for p in found))[:3]

    def _unknown_reason(self, question, snapshot) -> str:
        """"The documents never mention …" when the question names what no chunk holds."""
        if not self.settings.check_names:
            return ""

        def texts() -> list[str]:  # read only when an acronym needs spelling out
            return [c.text for c in snapshot.chunks.values()]

        def found(phrase: str) -> bool:
            return _mentions(snapshot, phrase)

        unknown = unknown_words(question, snapshot.keyword, texts)
        unknown += unknown_symbols(question, found) + unknown_names(question, found)
        if not unknown:
            return ""
        listed = ", ".join(f"“{w}”" for w in dict.fromkeys(unknown))
        return f"The indexed documents never mention {listed}."

    def _decline_reason(self, question, analysed, sentences, closeness, snapshot) -> str:
        """Why the documents cannot answer, or "" when they can."""
        unknown = self._unknown_reason(question, snapshot)
        if unknown:
            return unknown
        if closeness >= self.settings.decline_below:
            return ""
        top = sorted(sentences, key=lambda s: -s.score)[:3]
        missing = missing_terms(analysed, " ".join(s.text for s in top))
        if missing:
            listed = ", ".join(f"“{w}”" for w in missing)
            return f"The closest passages do not say anything about {listed}."
        return "The closest passages do not answer this question."

    @staticmethod
    def _check(question: str) -> str:
        import unicodedata

        if not isinstance(question, str) or not question.strip():
            raise AccordError("the question is empty; type a question about AI governance")
        if len(question) > MAX_QUESTION_CHARS * 10:  # not worth cleaning to measure it
            raise AccordError(
                f"the question is {len(question):,} characters long; keep it under "
                f"{MAX_QUESTION_CHARS:,} (ask about one thing at a time)"
            )
        # Control characters, lone surrogates (they crash the tokenizer) and bidi overrides
        # (they flip how the question is shown) carry no meaning: they become spaces.
        question = "".join(
            " "
            if unicodedata.category(ch) in ("Cc", "Cs")
            or "\u202a" <= ch <= "\u202e"
            or "\u2066" <= ch <= "\u2069"
            else ch
            for ch in question
        )
        question = " ".join(question.split())
        if not question:
            raise AccordError("the question is empty; type a question about AI governance")
        if len(question) > MAX_QUESTION_CHARS:
            raise AccordError(
                f"the question is {len(question):,} characters long; keep it under "
                f"{MAX_QUESTION_CHARS:,} (ask about one thing at a time)"
            )
        return question


def _shift(checks, before: str, after: str) -> None:
    """Move the checked sentences' offsets from ``before`` to ``after``, the same answer with
    an opening added ("As of 2025-02-26, the …") and perhaps a closing note: the first
    sentence takes in the opening, the rest move by its length."""
    at = after.find(before[1:])
    if at < 1:
        return
    moved = at - 1
    for check in checks:
        check.end += moved
        if check.start:
            check.start += moved


def _mentions(snapshot: Snapshot, phrase: str) -> bool:
    """Whether any chunk of the snapshot holds ``phrase`` (case and spacing aside). Only the
    chunks BM25 ranks highest for the phrase are read, so the check costs the same at any size."""
    wanted = _squash(phrase)
    scores = snapshot.keyword.scores(phrase)
    if not len(scores):
        return False
    ids = snapshot.keyword.ids
    for i in np.argsort(-scores)[:50]:
        chunk = snapshot.chunks.get(ids[i])
        if scores[i] <= 0:
            break
        if chunk and (wanted in _squash(chunk.text) or wanted in _squash(chunk.title)):
            return True
    return False


def _squash(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").replace("-", " ").split())


def _last_user_turn(history: Sequence[dict]) -> str:
    return next((m["content"] for m in reversed(history) if m["role"] == "user"), "")


def _history(history: Sequence[dict] | None) -> list[dict]:
    """Accept the messages format (role/content dicts); keep an assistant turn's thread
    (``metadata``: the ``thread`` an answer returned) and ignore anything else in it."""
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
            kept = {"role": turn["role"], "content": content}
            thread = Thread.of(turn.get("metadata"))
            if thread is not None and turn["role"] == "assistant":
                kept["metadata"] = thread.to_dict()
            out.append(kept)
    return out

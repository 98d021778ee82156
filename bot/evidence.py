"""Sentence-level evidence: the passages' sentences, ranked by how well each answers the question.

Both answer modes start here: the extractive composer picks from these sentences, the abstention
check reads the best of them, and the citation stage uses the same vectors to find which sentence
of a passage supports an answer sentence.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.ranking import FEATURES, Question, combine, feature_matrix, is_boilerplate
from bot.records import Passage
from bot.settings import Settings
from bot.text import block_spans, sentence_spans

_MARKUP = re.compile(r"^(?:#{1,6}\s+|>\s*)")
# List and paragraph numbering: "- ", "1. ", "2) ", "(a) ", "(iv) ", "a. ".
_ITEM = re.compile(r"^(?:[-*+]|\d{1,3}[.)]|\(\w{1,5}\)|[a-z][.)])\s+")
# A sentence that does not end like one: a heading or title line ("Article 53", "Scope").
_ENDS_LIKE_SENTENCE = re.compile(r"[.!?:;…\"”’')\]]$")
# Emphasis, code and links read as plain text in an answer: **x**, __x__, `x`, [x](url).
_INLINE = re.compile(r"\*\*(.+?)\*\*|__(.+?)__|`([^`]+)`|\[([^\]]+)\]\([^)]*\)")


@dataclass
class Sentence:
    passage: int  # index into the passages list
    start: int  # document offsets
    end: int
    text: str
    score: float = 0.0
    item: bool = False  # a list item or numbered paragraph ("(a) draw up…")
    marker: str = ""  # the item's kind of marker: "number", "paren", "letter" or "bullet"
    block: int = 0  # which block (paragraph or list item) of its passage it belongs to
    doc_id: str = ""


@dataclass
class Evidence:
    """What an answer is built from: the passages, their ranked sentences and the features."""

    question: Question
    passages: list[Passage]
    sentences: list[Sentence]
    vectors: np.ndarray  # one per sentence
    rows: np.ndarray  # ranker features, one row per sentence
    # The selector's best answer probability, when it scored the sentences: the abstention
    # signal in place of closeness.
    answer_score: float | None = None
    queries: list[str] = field(default_factory=list)  # as searched: a follow-up's rewrite last

    def closeness(self) -> float:
        """How close the closest sentence comes to the question: its cosine (with its heading)
        plus half the share of the question's rare terms it holds. The abstention signal, and
        the evidence figure the eval sweeps to draw the abstention trade-off. On the dev items
        of both sets it separates answerable from unanswerable questions as well as the
        ranker's score or the cosine alone, and it does not penalise short questions."""
        if self.answer_score is not None:
            return self.answer_score
        if not len(self.sentences):
            return 0.0
        cos, lex = FEATURES.index("cos_context"), FEATURES.index("lex_sentence")
        return float((self.rows[:, cos] + 0.5 * self.rows[:, lex]).max())


class VectorCache:
    """Sentence vectors by text: the same passages come back question after question."""

    def __init__(self, embedder, size: int = 20_000) -> None:
        self.embedder = embedder
        self.size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors in ``texts`` order. The result is assembled before anything is evicted, so
        a batch larger than the cache, or a hit that is the oldest entry, still works."""
        if not texts:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for text in dict.fromkeys(texts):
                if text in self._cache:
                    self._cache.move_to_end(text)
                    found[text] = self._cache[text]
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            new = dict(zip(missing, self.embedder.embed_batch(missing), strict=True))
            found.update(new)
            with self._lock:
                self._cache.update(new)
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        return np.stack([found[t] for t in texts])


def passage_sentences(passages: Sequence[Passage]) -> list[Sentence]:
    """Readable sentences of each passage, with offsets.

    Headings, title lines, table rows, boilerplate and fragments are dropped: none of them reads
    as an answer. List markers are stripped and remembered, so an item can be shown with the
    sentence that introduces its list.
    """
    out: list[Sentence] = []
    for i, passage in enumerate(passages):
        chunk = passage.chunk
        for b, (p_start, p_end) in enumerate(block_spans(chunk.text)):
            block = chunk.text[p_start:p_end]
            if block.startswith("#") or block.startswith("|") or block.count("|") > 2:
                continue  # headings and table rows read badly as answer sentences
            item = _ITEM.match(block)
            for n, (s, e) in enumerate(sentence_spans(block, chunk.start + p_start)):
                raw = chunk.text[s - chunk.start : e - chunk.start]
                markup = _MARKUP.match(raw) or (_ITEM.match(raw) if n == 0 else None)
                if markup:
                    s += markup.end()
                    raw = raw[markup.end() :]
                text = " ".join(_INLINE.sub(_plain, raw).split())
                if len(text) < 25 or len(text.split()) < 5 or is_boilerplate(text):
                    continue
                if not _ENDS_LIKE_SENTENCE.search(text) and len(text.split()) < 15:
                    continue  # a title line: "Obligations for providers of general-purpose AI"
                if text[0].islower() and not item:
                    continue  # cut from its beginning (a chunk that starts mid-sentence)
                kind = marker_kind(item.group(0)) if item else ""
                out.append(
                    Sentence(
                        i, s, e, text, item=bool(item), marker=kind, block=b, doc_id=chunk.doc_id
                    )
                )
    return out


def marker_kind(marker: str) -> str:
    """ "1." and "2)" are numbers, "(a)" and "(iv)" parenthesised, "a." letters, "-" bullets: a
    list's items share a kind, so "2." after "1. …shall:" is the next paragraph, not an item."""
    marker = marker.strip()
    if marker[0].isdigit():
        return "number"
    if marker.startswith("("):
        return "paren"
    return "letter" if marker[0].isalpha() else "bullet"


def _plain(match: re.Match) -> str:
    return next(g for g in match.groups() if g is not None)


def sentence_features(
    question: Question,
    sentences: list[Sentence],
    passages: Sequence[Passage],
    query_vectors: np.ndarray,
    focus_vector: np.ndarray,
    cache: VectorCache,
) -> tuple[np.ndarray, np.ndarray]:
    """The plain sentence vectors and the ranker's feature rows (``ranking.FEATURES``).

    ``query_vectors`` are the searched queries (a follow-up has two); ``focus_vector`` is the
    question without its question word, closer in form to the sentence that answers it.
    """
    from bot.keyword import terms_batch

    dim = query_vectors.shape[1]
    if not sentences:
        return np.zeros((0, dim), dtype=np.float32), np.zeros((0, len(FEATURES)))
    vectors = cache.vectors([s.text for s in sentences])
    context = cache.vectors([with_context(s, passages[s.passage]) for s in sentences])
    cos_context = (context @ query_vectors.T).max(axis=1)
    cos_focus = vectors @ focus_vector
    sections = [set(t) for t in terms_batch([section_text(p) for p in passages])]
    rows = feature_matrix(question, sentences, passages, cos_context, cos_focus, sections)
    return vectors, rows


def section_text(passage: Passage) -> str:
    """What places a passage in its document: the title and the heading path."""
    return f"{passage.chunk.title} {' '.join(passage.chunk.headings)}"


def rank(sentences: list[Sentence], rows: np.ndarray) -> None:
    """Set each ``Sentence.score`` to the ranker's estimate (0..1) that it states the answer."""
    for sentence, score in zip(sentences, combine(rows), strict=True):
        sentence.score = float(score)


def rerank(
    question: str,
    sentences: list[Sentence],
    passages: Sequence[Passage],
    selector,
    limit: int,
    weight: float = Settings.selector_weight,
) -> float | None:
    """Rescore the ranker's ``limit`` best sentences, and each passage's best two, with the
    selector; the rest keep a thousandth of their score, so they still sort among themselves
    but never above a rescored one.

    A bi-encoder's cosine is folded into the ranker's estimate: ``score * exp((cos - best) /
    weight)``, so the best-matching sentence keeps the ranker's scale (the composer's and the
    timeline's ratios still mean what they did) and each ``weight`` of cosine below it costs a
    factor e. On held-out documents this mix beats either signal alone (README "The
    answer-sentence selector"). Returns the cross-encoder's best answer probability, the
    abstention signal, or None for a bi-encoder, whose cosine is not one."""
    if not sentences:
        return 0.0 if getattr(selector, "kind", "cross") == "cross" else None
    order = sorted(range(len(sentences)), key=lambda i: -sentences[i].score)
    chosen = dict.fromkeys(order[:limit])
    per_passage: dict[int, int] = {}
    for i in order:
        p = sentences[i].passage
        if per_passage.get(p, 0) < 2:
            per_passage[p] = per_passage.get(p, 0) + 1
            chosen[i] = None
    picked = list(chosen)
    texts = [with_context(sentences[i], passages[sentences[i].passage]) for i in picked]
    scores = selector.score(question, texts)
    before = [sentences[i].score for i in picked]
    for sentence in sentences:
        sentence.score *= 1e-3
    if getattr(selector, "kind", "cross") == "bi":
        best = float(scores.max())
        for i, ranked, cos in zip(picked, before, scores, strict=True):
            sentences[i].score = float(max(ranked, 1e-4) * np.exp((cos - best) / weight))
        return None
    for i, p in zip(picked, scores, strict=True):
        sentences[i].score = float(p)
    return float(scores.max())


def with_context(sentence: Sentence, passage: Passage) -> str:
    """The sentence as the selector was trained to read it: with its section heading."""
    from bot.selector import pair_text

    chunk = passage.chunk
    return pair_text(sentence.text, chunk.headings[-1] if chunk.headings else chunk.title)

"""Sentence-level evidence: the passages' sentences scored against the question.

Both answer modes start here: the extractive composer picks from these sentences, the LLM mode
uses the best score to decide whether to answer at all, and the citation stage uses the same
vectors to find which sentence of a passage supports an answer sentence.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from bot.records import Chunk, Passage
from bot.text import block_spans, sentence_spans

_MARKUP = re.compile(r"^(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s*)")
# Emphasis, code and links read as plain text in an answer: **x**, __x__, `x`, [x](url).
_INLINE = re.compile(r"\*\*(.+?)\*\*|__(.+?)__|`([^`]+)`|\[([^\]]+)\]\([^)]*\)")


@dataclass
class Sentence:
    passage: int  # index into the passages list
    start: int  # document offsets
    end: int
    text: str
    score: float = 0.0


class VectorCache:
    """Sentence vectors by text: the same passages come back question after question."""

    def __init__(self, embedder, size: int = 20_000) -> None:
        self.embedder = embedder
        self.size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for text, vector in zip(missing, self.embedder.embed_batch(missing), strict=True):
                self._cache[text] = vector
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        for text in texts:
            self._cache.move_to_end(text)
        if not texts:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])


def passage_sentences(passages: Sequence[Passage]) -> list[Sentence]:
    """Readable sentences of each passage (headings and fragments dropped), with offsets."""
    out: list[Sentence] = []
    for i, passage in enumerate(passages):
        chunk = passage.chunk
        spans = [
            span
            for p_start, p_end in block_spans(chunk.text)
            for span in sentence_spans(chunk.text[p_start:p_end], chunk.start + p_start)
        ]
        for s, e in spans:
            raw = chunk.text[s - chunk.start : e - chunk.start]
            if raw.startswith("#") or raw.startswith("|") or raw.count("|") > 2:
                continue  # headings and table rows read badly as answer sentences
            markup = _MARKUP.match(raw)
            if markup:
                s += markup.end()
                raw = raw[markup.end() :]
            text = " ".join(_INLINE.sub(_plain, raw).split())
            if len(text) < 25 or len(text.split()) < 5:
                continue
            out.append(Sentence(i, s, e, text))
    return out


def _plain(match: re.Match) -> str:
    return next(g for g in match.groups() if g is not None)


def score_sentences(
    sentences: list[Sentence],
    passages: Sequence[Passage],
    queries: Sequence[str],
    query_vectors: np.ndarray,
    cache: VectorCache,
    keyword=None,
    lexical_weight: float = 0.0,
    context: bool = False,
) -> np.ndarray:
    """Score each sentence against its closest query and set ``Sentence.score``.

    The score is the cosine similarity of the sentence (optionally prefixed with its section
    heading, since "Fines can reach 7%" means little without "EU AI Act — Enforcement") plus a
    share of the question's idf-weighted terms that the sentence contains: MiniLM alone
    misses exact policy terms. Returns the plain sentence vectors (for diversity and support).
    """
    if not sentences:
        return np.zeros((0, query_vectors.shape[1]), dtype=np.float32)
    vectors = cache.vectors([s.text for s in sentences])
    scored = vectors
    if context:
        texts = [_with_context(s, passages[s.passage]) for s in sentences]
        scored = cache.vectors(texts)
    scores = (scored @ query_vectors.T).max(axis=1)
    if keyword is not None and lexical_weight:
        from bot.keyword import terms

        wanted = {t: keyword.idf(t) for q in queries for t in terms(q)}
        total = sum(wanted.values())
        if total:
            for i, sentence in enumerate(sentences):
                found = set(terms(sentence.text)) & wanted.keys()
                scores[i] += lexical_weight * sum(wanted[t] for t in found) / total
    for sentence, score in zip(sentences, scores, strict=True):
        sentence.score = float(score)
    return vectors


def _with_context(sentence: Sentence, passage: Passage) -> str:
    chunk = passage.chunk
    header = chunk.headings[-1] if chunk.headings else chunk.title
    return f"{header}: {sentence.text}" if header else sentence.text


# Diplomatic shorthand: a capital standing for a government or institution is not an unknown
# name when the institution itself is in the corpus.
METONYMS = {
    "brussels": "European Union",
    "strasbourg": "Council of Europe",
    "washington": "United States",
    "beijing": "China",
    "london": "United Kingdom",
    "moscow": "Russia",
    "tokyo": "Japan",
    "delhi": "India",
    "ottawa": "Canada",
    "berlin": "Germany",
    "whitehall": "United Kingdom",
}
_SALIENT = re.compile(r"\b(?:[A-Z][\w&.-]*[A-Za-z]|[A-Z]{2,}|\d[\d/.-]*\d{2,}[\d/.-]*)\b")


def salient_words(question: str) -> list[str]:
    """Names, acronyms and long numbers: the words a question cannot do without.

    A capitalised word counts unless it opens a sentence (where everything is capitalised).
    """
    words = []
    for match in _SALIENT.finditer(question):
        before = question[: match.start()].rstrip()
        if not before or before[-1] in '.?!:"“(':
            continue
        words.append(match.group(0))
    return words


def unknown_words(question: str, keyword, chunks: Collection[Chunk] = ()) -> list[str]:
    """Salient words of the question that no indexed chunk contains.

    If a question names something the documents never mention ("Colorado", "PL 2338"), the
    documents cannot answer it, however close the remaining words come. An acronym counts as
    mentioned when the documents spell it out ("SDGs": "Sustainable Development Goals").
    """
    from bot.keyword import terms

    unknown = []
    for word in salient_words(question):
        stems = terms(word)
        if not stems or all(keyword.known(t) for t in stems):
            continue
        alias = METONYMS.get(word.lower().split("-")[0])  # "Strasbourg-based" too
        if alias and all(keyword.known(t) for t in terms(alias)):
            continue
        if _spelled_out(word, chunks):
            continue
        unknown.append(word)
    return unknown


_FILLER = r"(?:(?:of|and|the|for|on|in|to|&)\s+)?"


def _spelled_out(word: str, chunks: Collection[Chunk]) -> bool:
    letters = word[:-1] if word.endswith("s") and word[:-1].isupper() else word
    if not (2 <= len(letters) <= 6 and letters.isalpha() and letters.isupper()):
        return False
    pattern = re.compile(r"\b" + (r"\w*[\s-]+" + _FILLER).join(letters) + r"\w*", re.IGNORECASE)
    return any(pattern.search(chunk.text) for chunk in chunks)

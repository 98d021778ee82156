"""Number cited sources by first use and check each answer sentence against what it cites.

Backends mark passages by retrieval position; readers expect [1] to be the first source they
meet. ``Renumberer`` rewrites markers while text streams, ``build_citations`` then finds, for
every answer sentence, the sentence of the cited passage that supports it best.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from bot.evidence import Sentence, VectorCache
from bot.records import Citation, Passage
from bot.sections import label_for
from bot.text import sentence_spans

MARKER = re.compile(r"\s?\[(\d+(?:\s*,\s*\d+)*)\]")
_PARTIAL = re.compile(r"\s?\[[\d,\s]*$")


class Renumberer:
    """Streaming rewrite of [passage] markers into [first-use number] markers."""

    def __init__(self, passages: int) -> None:
        self.passages = passages
        self.numbers: dict[int, int] = {}  # passage index (1-based) -> citation number
        self._pending = ""

    def feed(self, delta: str) -> str:
        text = self._pending + delta
        partial = _PARTIAL.search(text)
        if partial:
            self._pending, text = text[partial.start() :], text[: partial.start()]
        else:
            self._pending = ""
        return MARKER.sub(self._replace, text)

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return MARKER.sub(self._replace, text)

    def _replace(self, match: re.Match) -> str:
        numbers = []
        for raw in match.group(1).split(","):
            passage = int(raw)
            if not 1 <= passage <= self.passages:
                continue  # a model citing a passage it was never shown
            if passage not in self.numbers:
                self.numbers[passage] = len(self.numbers) + 1
            numbers.append(self.numbers[passage])
        if not numbers:
            return ""
        lead = " " if match.group(0).startswith(" ") else ""
        return lead + "".join(f"[{n}]" for n in dict.fromkeys(numbers))


def build_citations(
    text: str,
    numbers: dict[int, int],
    passages: Sequence[Passage],
    sentences: Sequence[Sentence],
    cache: VectorCache,
) -> tuple[list[Citation], list[float]]:
    """Citations in number order, and a support score (0..1) per answer sentence."""
    by_number = {n: p - 1 for p, n in numbers.items()}
    claims: list[tuple[str, list[int]]] = []
    for s, e in sentence_spans(text):
        piece = text[s:e]
        cited = [int(n) for group in MARKER.findall(piece) for n in group.split(",")]
        claims.append((" ".join(MARKER.sub("", piece).split()), cited))
    claim_vectors = cache.vectors([c for c, _ in claims]) if claims else None
    support: list[float] = []
    quotes: dict[int, dict[int, Sentence]] = {n: {} for n in by_number}
    best_support: dict[int, float] = {n: 0.0 for n in by_number}
    for row, (_, cited) in enumerate(claims):
        best = 0.0
        for number in cited:
            if number not in by_number:
                continue
            candidates = [s for s in sentences if s.passage == by_number[number]]
            if not candidates:
                continue
            vectors = cache.vectors([c.text for c in candidates])
            sims = vectors @ claim_vectors[row]
            top = int(np.argmax(sims))
            quotes[number][candidates[top].start] = candidates[top]
            best_support[number] = max(best_support[number], float(sims[top]))
            best = max(best, float(sims[top]))
        support.append(round(max(best, 0.0), 4))

    citations = []
    for number in sorted(by_number):
        passage = passages[by_number[number]]
        chunk = passage.chunk
        quoted = [quotes[number][k] for k in sorted(quotes[number])]
        meta = chunk.metadata
        citations.append(
            Citation(
                number=number,
                doc_id=chunk.doc_id,
                title=chunk.title,
                source=str(meta.get("source_url") or meta.get("source") or ""),
                date=str(meta.get("date", "")),
                issuer=str(meta.get("issuer", "")),
                quote=" … ".join(q.text for q in quoted),
                start=quoted[0].start if quoted else chunk.start,
                end=quoted[-1].end if quoted else chunk.end,
                score=round(best_support[number], 4),
                chunk_id=chunk.chunk_id,
                passage=chunk.text,
                passage_start=chunk.start,
                spans=[(q.start, q.end) for q in quoted],
                section=label_for(chunk, quoted[0].start if quoted else chunk.start),
            )
        )
    return citations, support

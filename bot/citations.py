"""Number cited sources by first use and check each answer sentence against what it cites.

Backends mark passages by retrieval position; readers expect [1] to be the first source they
meet. ``Renumberer`` rewrites markers while text streams; ``build_citations`` then checks every
answer sentence against what it cites (bot/verification.py) and quotes, for each citation, the
passage sentences that matched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.evidence import Sentence, VectorCache
from bot.records import Citation, Passage
from bot.sections import label_for
from bot.verification import MARKER, SentenceCheck, verify

_PARTIAL = re.compile(r"\s?\[[\d,\s]*$")


class MarkerStream:
    """Rewrites [n] markers in text that arrives in pieces: a marker split across two pieces
    ("… signed [" + "3].") is held back until it is whole. Subclasses say how to rewrite."""

    def __init__(self) -> None:
        self._pending = ""

    def _replace(self, match: re.Match) -> str:
        raise NotImplementedError

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


class Renumberer(MarkerStream):
    """Streaming rewrite of [passage] markers into [first-use number] markers."""

    def __init__(self, passages: int) -> None:
        super().__init__()
        self.passages = passages
        self.numbers: dict[int, int] = {}  # passage index (1-based) -> citation number

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
    threshold: float,
    quoted: bool = False,
) -> tuple[list[Citation], list[SentenceCheck]]:
    """Citations in number order, and the check of every answer sentence against them
    (``quoted``: the answer is made of source sentences, checked per cited quote)."""
    by_number = {n: p - 1 for p, n in numbers.items()}
    checks, quotes = verify(text, by_number, passages, sentences, cache, threshold, quoted)
    best_support: dict[int, float] = {n: 0.0 for n in by_number}
    for check in checks:
        for number in check.citations:
            if number in best_support:
                best_support[number] = max(best_support[number], check.support)

    citations = []
    for number in sorted(by_number):
        chunk = passages[by_number[number]].chunk
        quoted = [quotes[number][k] for k in sorted(quotes[number])]
        citations.append(citation_for(number, chunk, quoted, best_support[number]))
    return citations, checks


def citation_for(number: int, chunk, quoted: Sequence[Sentence], score: float) -> Citation:
    """Citation ``number`` of ``chunk``, quoting ``quoted`` (its sentences, in text order)."""
    meta = chunk.metadata
    return Citation(
        number=number,
        doc_id=chunk.doc_id,
        title=chunk.title,
        source=str(meta.get("source_url") or meta.get("source") or ""),
        date=str(meta.get("date", "")),
        issuer=str(meta.get("issuer", "")),
        quote=" … ".join(q.text for q in quoted),
        start=quoted[0].start if quoted else chunk.start,
        end=quoted[-1].end if quoted else chunk.end,
        score=round(float(score), 4),
        chunk_id=chunk.chunk_id,
        passage=chunk.text,
        passage_start=chunk.start,
        spans=[(q.start, q.end) for q in quoted],
        section=label_for(chunk, quoted[0].start if quoted else chunk.start),
    )


def renumbered(text: str, numbers: dict[int, int], passages: int) -> tuple[str, dict[int, int]]:
    """``text`` with its markers numbered again by first use (after sentences were dropped),
    and the new passage -> number map."""
    passage_of = {n: p for p, n in numbers.items()}

    def back(match: re.Match) -> str:
        cited = [passage_of[int(n)] for n in match.group(1).split(",") if int(n) in passage_of]
        lead = " " if match.group(0).startswith(" ") else ""
        return lead + "".join(f"[{p}]" for p in cited)

    again = Renumberer(passages)
    out = again.feed(MARKER.sub(back, text)) + again.flush()
    return out, again.numbers

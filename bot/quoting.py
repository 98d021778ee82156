"""Cite one evidence sentence: the timeline and the comparison table quote sentences the answer
text may not, and each must still point at a numbered source card."""

from __future__ import annotations

from collections.abc import Sequence

from bot.citations import citation_for
from bot.records import Citation, Passage


def cite(citations: list[Citation], passages: Sequence[Passage], sentence) -> int:
    """The number of the citation quoting ``sentence`` (an evidence ``Sentence``): its
    passage's citation with the sentence added to its quotes, or a new citation after the
    last. ``citations`` is extended in place."""
    chunk = passages[sentence.passage].chunk
    span = (sentence.start, sentence.end)
    for citation in citations:
        if citation.chunk_id == chunk.chunk_id:
            if span not in citation.spans:
                citation.spans = sorted([*citation.spans, span])
                citation.quote = (
                    f"{citation.quote} … {sentence.text}" if citation.quote else (sentence.text)
                )
            return citation.number
    number = max((c.number for c in citations), default=0) + 1
    citations.append(citation_for(number, chunk, [sentence], sentence.score))
    return number

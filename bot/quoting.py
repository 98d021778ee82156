"""Cite one evidence sentence: the timeline and the comparison table quote sentences the answer
text may not, and each must still point at a numbered source card."""

from __future__ import annotations

from collections.abc import Sequence

from bot.records import Citation, Passage
from bot.sections import label_for


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
    meta = chunk.metadata
    number = max((c.number for c in citations), default=0) + 1
    citations.append(
        Citation(
            number=number,
            doc_id=chunk.doc_id,
            title=chunk.title,
            source=str(meta.get("source_url") or meta.get("source") or ""),
            date=str(meta.get("date", "")),
            issuer=str(meta.get("issuer", "")),
            quote=sentence.text,
            start=sentence.start,
            end=sentence.end,
            score=round(float(sentence.score), 4),
            chunk_id=chunk.chunk_id,
            passage=chunk.text,
            passage_start=chunk.start,
            spans=[span],
            section=label_for(chunk, sentence.start),
        )
    )
    return number

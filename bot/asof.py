"""Answers that say how current they are.

A question about the present ("what is the current status…", "…now?", "the latest…") should
lean on the newest documents, and its answer should say the date it is current to: readers
paste answers into briefings, where an undated "the convention has not entered into force"
ages badly. When two cited documents disagree and one is older, the newer one is followed and
the answer says which.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bot.records import Citation, Passage
from bot.store import date_number

_CURRENT = re.compile(
    r"\b(?:current(?:ly)?|now|nowadays|today|latest|most recent|as of|as things stand|"
    r"so far|still|yet|at present|presently|status|state of play|up to date)\b",
    re.IGNORECASE,
)
RECENCY_BONUS = 0.12  # added to a sentence's 0..1 score when its document is the newest
_SIMILAR = 0.6  # quotes this close talk about the same thing
_FIGURE = re.compile(r"\b\d[\d,.]*\b")
_LOWER_FIRST = {"the", "a", "an", "it", "its", "this", "these", "there", "in", "on", "under"}


def asks_for_current(question: str) -> bool:
    """Whether the question asks for the present state of something."""
    return bool(_CURRENT.search(question))


def document_date(metadata: Mapping[str, Any]) -> str:
    """The date a document is filed under: its ``date``, else ``updated``."""
    return str(metadata.get("date") or metadata.get("updated") or "")


def current_to(metadata: Mapping[str, Any]) -> str:
    """The date a document's facts are current to: the later of ``updated`` and ``date``."""
    dates = [str(metadata.get(k) or "") for k in ("updated", "date")]
    dates = [d for d in dates if date_number(d)]
    return max(dates, key=date_number) if dates else ""


def prefer_recent(sentences: Sequence, passages: Sequence[Passage], question: str) -> bool:
    """For a question about the present, raise the score of sentences from newer documents
    (the newest by ``RECENCY_BONUS``, the oldest by nothing), so the answer starts from them.
    Returns whether it did."""
    if not asks_for_current(question) or not passages:
        return False
    when = [date_number(current_to(p.chunk.metadata)) for p in passages]
    known = sorted({w for w in when if w})
    if len(known) < 2:
        return False
    place = {w: i / (len(known) - 1) for i, w in enumerate(known)}
    for sentence in sentences:
        sentence.score += RECENCY_BONUS * place.get(when[sentence.passage], 0.0)
    return True


def date_note(
    question: str,
    text: str,
    citations: Sequence[Citation],
    passages: Sequence[Passage],
    as_of: str = "",
    vectors=None,
) -> tuple[str, str]:
    """The answer text prefixed with "As of <date>, …" and the date it is current to, for a
    question about the present or one asked ``as_of`` a day; otherwise ``text`` and "".

    The date is the newest ``current_to`` among the cited documents (capped at ``as_of``).
    When two cited documents of different dates quote different figures on the same point
    (``vectors``, a sentence-vector cache, judges "the same point"), a sentence says that the
    newer one is followed."""
    if not citations or not (as_of or asks_for_current(question)):
        return text, ""
    meta = _metadata(citations, passages)
    dated = [(current_to(meta.get(c.chunk_id, {})), c) for c in citations]
    dated = [(d, c) for d, c in dated if date_number(d)]
    if not dated:
        return text, ""
    newest = max(dated, key=lambda dc: date_number(dc[0]))[0]
    if as_of and date_number(newest) > date_number(as_of):
        newest = as_of
    text = _prefixed(text, newest)
    conflict = _conflict(dated, vectors) if vectors is not None else None
    if conflict:
        (new_date, new), (old_date, old) = conflict
        text += (
            f" Where they differ, this answer follows the newer source [{new.number}], dated "
            f"{new_date}, over [{old.number}], dated {old_date}."
        )
    return text, newest


def _prefixed(text: str, when: str) -> str:
    """ "As of <date>, the …" when the answer opens with a common word; a colon otherwise, as
    the first word may be a name ("As of 2026-06: Council of Europe …")."""
    first, _, rest = text.partition(" ")
    if first.lower() in _LOWER_FIRST:
        return f"As of {when}, {first.lower()} {rest}".rstrip()
    return f"As of {when}: {text}"


def _metadata(citations, passages) -> dict[str, Mapping[str, Any]]:
    by_chunk = {p.chunk.chunk_id: p.chunk.metadata for p in passages}
    return {c.chunk_id: by_chunk.get(c.chunk_id, {"date": c.date}) for c in citations}


def _conflict(dated: list[tuple[str, Citation]], vectors):
    """The first pair of citations from different documents and dates whose quotes are about
    the same thing but hold different figures (dates, counts): (newer, older), or None."""
    ordered = sorted(dated, key=lambda dc: -date_number(dc[0]))
    quotes = [c.quote for _, c in ordered]
    if len(quotes) < 2 or not all(quotes):
        return None
    matrix = vectors.vectors(quotes)
    sims = matrix @ matrix.T
    for i, j in zip(*np.triu_indices(len(ordered), 1), strict=True):
        (d_new, new), (d_old, old) = ordered[i], ordered[j]
        if new.doc_id == old.doc_id or date_number(d_new) == date_number(d_old):
            continue
        figures_new, figures_old = set(_FIGURE.findall(new.quote)), set(_FIGURE.findall(old.quote))
        if sims[i, j] >= _SIMILAR and figures_new and figures_old and figures_new != figures_old:
            return ordered[i], ordered[j]
    return None

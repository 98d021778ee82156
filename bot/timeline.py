"""Timelines: for a question about a process ("the EU AI Act's timeline", "what happened after
Bletchley?"), the dated events the evidence sentences report, in date order, each cited.

Dates are read from the sentences themselves, not from document metadata: an article dated
2026 reports events from 2021 on, and a reader wants each event's own date.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.quoting import cite
from bot.records import Citation, Passage
from bot.store import date_number

MAX_EVENTS = 8
_MONTHS = (
    "january february march april may june july august september october november december"
).split()
_MONTH = "|".join(m.capitalize() for m in _MONTHS)
_DAY_MONTH_YEAR = re.compile(
    rf"\b(\d{{1,2}})(?:\s*(?:–|-|and|to)\s*\d{{1,2}})?\s+({_MONTH})\s+(\d{{4}})\b"
)
_MONTH_DAY_YEAR = re.compile(rf"\b({_MONTH})\s+(\d{{1,2}}),\s+(\d{{4}})\b")
_MONTH_YEAR = re.compile(rf"\b({_MONTH})\s+(\d{{4}})\b")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_YEAR = re.compile(r"\b(?:in|since|from|during|by|of|until)\s+(19\d\d|20\d\d)\b")
_WANTS = re.compile(
    r"\btimeline\b|\bchronolog|\bwhat (?:has )?happened\b|\bhistory of\b|\bkey dates\b|"
    r"\bmilestones?\b|\bsequence of events\b|\bhow did .+ (?:develop|evolve|unfold)\b|"
    r"\bwhat came (?:after|before|next)\b|\bstep by step\b",
    re.IGNORECASE,
)
_AFTER = re.compile(r"\b(?:after|since|following)\b", re.IGNORECASE)
_BEFORE = re.compile(r"\b(?:before|leading up to|until)\b", re.IGNORECASE)


@dataclass
class TimelineEvent:
    date: str  # ISO, as precise as the sentence: "2024-08-01", "2024-08" or "2024"
    text: str  # the sentence that reports the event
    citation: int  # the number of the citation that quotes it
    doc_id: str = ""


def wants_timeline(question: str) -> bool:
    return bool(_WANTS.search(question))


def sentence_date(text: str) -> str:
    """The first date written in ``text`` as ISO text at its own precision, or ""."""
    found: list[tuple[int, str]] = []
    for m in _DAY_MONTH_YEAR.finditer(text):
        found.append((m.start(), _iso(m.group(3), m.group(2), m.group(1))))
    for m in _MONTH_DAY_YEAR.finditer(text):
        found.append((m.start(), _iso(m.group(3), m.group(1), m.group(2))))
    for m in _ISO.finditer(text):
        found.append((m.start(), m.group(0)))
    taken = [range(s, s + 20) for s, _ in found]
    for m in _MONTH_YEAR.finditer(text):
        if not any(m.start() in r or m.start() - 1 in r for r in taken):
            found.append((m.start(), _iso(m.group(2), m.group(1))))
    if not found:
        for m in _YEAR.finditer(text):
            found.append((m.start(1), m.group(1)))
    return min(found)[1] if found else ""


def _iso(year: str, month: str, day: str = "") -> str:
    iso = f"{int(year):04d}-{_MONTHS.index(month.lower()) + 1:02d}"
    return f"{iso}-{int(day):02d}" if day else iso


def build_timeline(
    question: str,
    sentences: Sequence,
    passages: Sequence[Passage],
    citations: list[Citation],
    limit: int = MAX_EVENTS,
) -> list[TimelineEvent]:
    """Up to ``limit`` of the best-ranked dated evidence sentences, in date order (ties keep
    their rank), each cited (``citations`` gains any passage it needs). "After X" keeps the
    events on or after the date of the best passage's document; "before X" those up to it."""
    if not wants_timeline(question):
        return []
    ranked = sorted(sentences, key=lambda s: -s.score)
    dated = [(sentence_date(s.text), s) for s in _on_subject(ranked)]
    dated = [(d, s) for d, s in dated if d]
    anchor = date_number(passages[0].chunk.metadata.get("date")) if passages else 0
    if anchor and _AFTER.search(question):
        dated = [(d, s) for d, s in dated if _key(d) >= anchor]
    elif anchor and _BEFORE.search(question):
        dated = [(d, s) for d, s in dated if _key(d) <= anchor]
    chosen, seen = [], set()
    for when, sentence in dated:
        key = " ".join(sentence.text.lower().split())
        if key in seen:
            continue
        seen.add(key)
        chosen.append((when, sentence))
        if len(chosen) == limit:
            break
    chosen.sort(key=lambda ds: _key(ds[0]))
    return [
        TimelineEvent(when, s.text, cite(citations, passages, s), s.doc_id) for when, s in chosen
    ]


DOC_SHARE = 0.75  # a document's best sentence must score this share of the best document's


def _on_subject(ranked: Sequence) -> list:
    """The sentences of the documents the question is about: those whose best sentence comes
    close to the best one's score. "The EU AI Act's timeline" should not list export-control
    dates that happen to sit in the same retrieved passages."""
    if not ranked:
        return []
    best: dict[str, float] = {}
    for s in ranked:
        best.setdefault(s.doc_id, s.score)
    top = ranked[0].score
    return [s for s in ranked if best[s.doc_id] >= DOC_SHARE * top]


def _key(iso: str) -> int:
    """Sort key of an ISO date at any precision; "2024" sorts before "2024-01-05"."""
    return date_number(iso)

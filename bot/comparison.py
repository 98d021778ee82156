"""Side-by-side comparisons: "compare X and Y", "how do X and Y differ on Z".

One column per instrument named in the question, one row per aspect asked (scope, binding
force, who it applies to and enforcement when none is named). Each cell is the evidence
sentence, from that instrument's own documents, that best addresses the aspect, cited; or
"not stated in the documents" when none does. A cell never borrows another instrument's
sentence: a table that quietly mixes sources is worse than an honest gap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.quoting import cite
from bot.records import Citation, Passage

NOT_STATED = "not stated in the documents"
# aspect -> (what the aspect means, for the embedding; word stems that signal it)
ASPECTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "scope": (
        "its scope: which activities, AI systems and territory it covers",
        ("scope", "cover", "appl", "activit", "systems", "exclud", "territor"),
    ),
    "binding force": (
        "whether it is legally binding law or a voluntary commitment",
        ("binding", "voluntary", "treaty", "regulation", "law", "obligat", "commitment"),
    ),
    "who it applies to": (
        "who it applies to: providers, deployers, states, parties, companies",
        ("provider", "deployer", "parties", "states", "compan", "developer", "signator"),
    ),
    "enforcement": (
        "how it is enforced: fines, penalties, supervision, oversight, monitoring",
        ("enforc", "fine", "penalt", "supervis", "oversight", "monitor", "sanction", "complian"),
    ),
}
MIN_CLOSENESS = 0.4  # a cell's sentence must come this close to the aspect, or name it

_PATTERNS = [
    re.compile(
        r"\bcompare\s+(?P<a>.+?)\s+(?:and|with|to|against)\s+(?P<b>.+?)"
        r"(?:\s+(?:on|in terms of|regarding|with respect to|as to)\s+(?P<z>.+?))?\s*[?.!]*$",
        re.I,
    ),
    re.compile(
        r"\bhow\s+(?:do|does|did)\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s+(?:differ|compare)"
        r"(?:\s+(?:on|in|over|regarding|about|as to|in terms of)\s+(?P<z>.+?))?\s*[?.!]*$",
        re.I,
    ),
    re.compile(
        r"\bdifferences?\s+between\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)"
        r"(?:\s+(?:on|in|regarding|in terms of)\s+(?P<z>.+?))?\s*[?.!]*$",
        re.I,
    ),
    re.compile(
        r"^(?P<a>.+?)\s+(?:vs\.?|versus)\s+(?P<b>.+?)(?:\s+on\s+(?P<z>.+?))?\s*[?.!]*$", re.I
    ),
]
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)
_WORD = re.compile(r"[a-z0-9]+")
_STOP = {"the", "of", "on", "and", "for", "a", "an", "to", "in", "ai", "s"}


@dataclass
class ComparisonCell:
    text: str  # the cited sentence, or NOT_STATED
    citation: int | None = None
    doc_id: str = ""


@dataclass
class Comparison:
    instruments: list[str]  # column headings, as the question names them
    aspects: list[str]  # row headings
    rows: list[list[ComparisonCell]] = field(default_factory=list)  # rows[aspect][instrument]
    doc_ids: list[list[str]] = field(default_factory=list)  # each instrument's documents


def comparison_request(question: str) -> tuple[list[str], list[str]] | None:
    """(instruments, aspects) when the question asks to compare two instruments, else None."""
    text = " ".join(question.split())
    for pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            a, b = (_ARTICLE.sub("", match.group(k).strip(" ,")) for k in ("a", "b"))
            aspects = _aspects(match.group("z") or "")
            if a and b:
                return [a, b], aspects
    return None


def _aspects(raw: str) -> list[str]:
    raw = _ARTICLE.sub("", raw.strip(" ?.")).strip()
    if not raw:
        return list(ASPECTS)
    parts = [p.strip() for p in re.split(r",|\band\b|&", raw) if p.strip()]
    return [_ARTICLE.sub("", p) for p in parts] or list(ASPECTS)


def _terms(text: str) -> set[str]:
    return {w.rstrip("s") for w in _WORD.findall(text.lower()) if w not in _STOP}


def instrument_documents(name: str, passages: Sequence[Passage]) -> list[str]:
    """The retrieved documents whose title shares the most words with ``name`` (all ties)."""
    wanted = _terms(name)
    scores: dict[str, int] = {}
    for passage in passages:
        chunk = passage.chunk
        scores.setdefault(chunk.doc_id, len(wanted & _terms(f"{chunk.title} {chunk.doc_id}")))
    best = max(scores.values(), default=0)
    return [d for d, s in scores.items() if best and s == best]


def build_comparison(
    question: str,
    sentences: Sequence,
    vectors: np.ndarray,
    passages: Sequence[Passage],
    citations: list[Citation],
    cache,
) -> Comparison | None:
    """The table for a comparison question (``citations`` gains what its cells quote), else
    None. ``vectors`` are the evidence sentences' vectors; ``cache`` embeds the aspects."""
    request = comparison_request(question)
    if request is None or not sentences:
        return None
    instruments, aspects = request
    docs = [instrument_documents(name, passages) for name in instruments]
    if not all(docs) or set(docs[0]) == set(docs[1]):
        return None  # the documents do not tell the two apart: no honest table
    targets = cache.vectors([_describe(aspect) for aspect in aspects])
    rows: list[list[ComparisonCell]] = []
    used: list[set[int]] = [set() for _ in instruments]  # a sentence fills one cell per column
    for a, aspect in enumerate(aspects):
        row = []
        for i in range(len(instruments)):
            row.append(
                _cell(aspect, targets[a], docs[i], sentences, vectors, passages, citations, used[i])
            )
        rows.append(row)
    return Comparison(instruments, aspects, rows, docs)


def _describe(aspect: str) -> str:
    return ASPECTS[aspect][0] if aspect in ASPECTS else aspect


def _cell(aspect, target, docs, sentences, vectors, passages, citations, used) -> ComparisonCell:
    stems = ASPECTS[aspect][1] if aspect in ASPECTS else tuple(_terms(aspect))
    best, best_value, best_row = None, -1.0, -1
    for row, sentence in enumerate(sentences):
        if sentence.doc_id not in docs or row in used:
            continue
        closeness = float(vectors[row] @ target)
        named = any(stem in sentence.text.lower() for stem in stems)
        if closeness < MIN_CLOSENESS and not named:
            continue
        value = closeness + 0.15 * named + 0.1 * sentence.score
        if value > best_value:
            best, best_value, best_row = sentence, value, row
    if best is None:
        return ComparisonCell(NOT_STATED)
    used.add(best_row)
    return ComparisonCell(best.text, cite(citations, passages, best), best.doc_id)

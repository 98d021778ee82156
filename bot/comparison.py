"""Side-by-side comparisons: "compare X and Y", "how do X and Y differ on Z".

One column per instrument named in the question, one row per aspect asked (when none is named:
scope, legal force, who it binds, obligations, oversight and enforcement, status and dates).
Each instrument's evidence comes from a search scoped to its own documents (``Bot`` asks one
part per instrument, bot/decompose.py); each cell is the sentence of that instrument's
documents that best answers the aspect, cited, or "not stated in the documents" when none
does. A cell never borrows another instrument's
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
# aspect -> (what a reader asks about it, for the selector and the embedding; word stems that
# signal it). The default rows are the ones a policy reader expects of any instrument.
ASPECTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "scope": (
        "What does it cover: which activities, AI systems, sectors and territory are in its "
        "scope, and what is excluded?",
        ("scope", "cover", "appl", "activit", "exclud", "territor", "lifecycle"),
    ),
    "legal force": (
        "Is it legally binding law, a treaty or regulation, or a voluntary, non-binding "
        "commitment?",
        ("binding", "voluntary", "treaty", "regulation", "law", "non-binding", "political"),
    ),
    "who it binds": (
        "Who does it apply to or who signed it: states, parties, providers, deployers, "
        "companies?",
        ("provider", "deployer", "parties", "states", "compan", "developer", "signator",
         "endorse", "countries", "governments", "members"),
    ),
    "obligations": (
        "What does it require or commit them to do: its main obligations and commitments?",
        ("shall", "must", "require", "commit", "obligat", "duty", "duties", "ensure"),
    ),
    "oversight and enforcement": (
        "How is it enforced or overseen: fines, penalties, supervision, monitoring, reporting?",
        ("enforc", "fine", "penalt", "supervis", "oversight", "monitor", "sanction",
         "complian", "report", "follow-up"),
    ),
    "status and dates": (
        "When was it adopted, signed or opened for signature, and when does it take effect?",
        ("adopt", "sign", "entry into force", "entered into force", "took effect", "apply from",
         "launched", "published", "agreed"),
    ),
}  # fmt: skip
# A reader's words for a default aspect: the row keeps the reader's label.
ALIASES = {
    "binding force": "legal force", "binding": "legal force", "legal status": "legal force",
    "bindingness": "legal force", "who it applies to": "who it binds", "coverage": "scope",
    "application": "scope", "enforcement": "oversight and enforcement",
    "oversight": "oversight and enforcement", "monitoring": "oversight and enforcement",
    "dates": "status and dates", "status": "status and dates", "timing": "status and dates",
    "commitments": "obligations", "requirements": "obligations", "duties": "obligations",
}  # fmt: skip
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
            z = match.group("z") or ""
            if _ARTICLE.sub("", z.strip())[:1].isupper():  # "… on the Ethics of AI": a name
                b = f"{b} {text[match.end('b') : match.end('z')].strip()}"
                b, z = _ARTICLE.sub("", b.strip(" ?.!")), ""
            aspects = _aspects(z)
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


def instrument_documents(
    name: str, documents: Sequence[tuple[str, str]], share: float = 0.0
) -> list[str]:
    """Of ``documents`` (doc_id, title), those whose title shares the most words with
    ``name`` (all ties); none when no title shares a word, or fewer than ``share`` of the
    name's words (a long description is not a title: it must not narrow a search)."""
    wanted = _terms(name)
    scores = {d: len(wanted & _terms(f"{title} {d.replace('-', ' ')}")) for d, title in documents}
    best = max(scores.values(), default=0)
    if not best or best < share * len(wanted):
        return []
    return [d for d, s in scores.items() if s == best]


def _retrieved(passages: Sequence[Passage]) -> list[tuple[str, str]]:
    return list(dict.fromkeys((p.chunk.doc_id, p.chunk.title) for p in passages))


def build_comparison(
    question: str,
    sentences: Sequence,
    vectors: np.ndarray,
    passages: Sequence[Passage],
    citations: list[Citation],
    cache,
    score=None,
) -> Comparison | None:
    """The table for a comparison question (``citations`` gains what its cells quote), else
    None. ``vectors`` are the evidence sentences' vectors; ``cache`` embeds the aspects;
    ``score(question, sentences)`` (the answer-sentence selector, when on) says how well each
    sentence answers an aspect's question, in place of the embedding's closeness."""
    request = comparison_request(question)
    if request is None or not sentences:
        return None
    instruments, aspects = request
    docs = [instrument_documents(name, _retrieved(passages)) for name in instruments]
    if not all(docs) or set(docs[0]) == set(docs[1]):
        return None  # the documents do not tell the two apart: no honest table
    targets = cache.vectors([_describe(aspect) for aspect in aspects])
    rows: list[list[ComparisonCell]] = []
    used: list[set[int]] = [set() for _ in instruments]  # a sentence fills one cell per column
    for a, aspect in enumerate(aspects):
        row = []
        for i, name in enumerate(instruments):
            mine = [r for r, s in enumerate(sentences) if s.doc_id in docs[i] and r not in used[i]]
            closeness = vectors[mine] @ targets[a] if mine else np.zeros(0)
            if score is not None and mine:
                asked = f"{name}: {_describe(aspect)}"
                fit = np.asarray(score(asked, [sentences[r] for r in mine]), dtype=float)
            else:
                fit = closeness
            row.append(
                _cell(aspect, mine, closeness, fit, sentences, passages, citations, used[i])
            )
        rows.append(row)
    return Comparison(instruments, aspects, rows, docs)


def _known(aspect: str) -> str:
    aspect = aspect.lower()
    return aspect if aspect in ASPECTS else ALIASES.get(aspect, "")


def _describe(aspect: str) -> str:
    known = _known(aspect)
    return ASPECTS[known][0] if known else f"What does it say about {aspect}?"


def _cell(aspect, mine, closeness, fit, sentences, passages, citations, used) -> ComparisonCell:
    """The sentence that best answers the aspect: close enough to it or naming it, then the
    best fit, with a little weight for naming it and for answering the question."""
    known = _known(aspect)
    stems = ASPECTS[known][1] if known else tuple(_terms(aspect))
    best, best_value, best_row = None, -np.inf, -1
    for k, row in enumerate(mine):
        sentence = sentences[row]
        named = any(stem in sentence.text.lower() for stem in stems)
        if float(closeness[k]) < MIN_CLOSENESS and not named:
            continue
        value = float(fit[k]) + 0.15 * named + 0.05 * min(1.0, sentence.score)
        if value > best_value:
            best, best_value, best_row = sentence, value, row
    if best is None:
        return ComparisonCell(NOT_STATED)
    used.add(best_row)
    return ComparisonCell(best.text, cite(citations, passages, best), best.doc_id)

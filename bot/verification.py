"""Check every answer sentence against the passages it cites.

A language model can cite a passage and still state something the passage does not say: a
wrong number, a date or a name from elsewhere, or a claim loosely on the same topic. Each
sentence is scored two ways:

- **meaning**: MiniLM cosine between the sentence and the best sentence (or pair of adjacent
  sentences, for a claim that joins two) of the cited passages; below the calibrated threshold
  (``Settings.support_threshold``, from ``python -m evals --calibrate``) it is unsupported;
- **facts**: every number, year and name the sentence states must appear in a cited passage
  (or its document's title and metadata). One missing fact makes the sentence unsupported
  however close its meaning, since a fluent sentence with the wrong number scores high.

A sentence with no citation at all is reported as uncited. Extractive answers go through the
same check; their sentences are copied from the passages, so they pass unless something broke.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise

import numpy as np

from bot.evidence import Sentence, VectorCache
from bot.records import Passage
from bot.text import sentence_spans

MARKER = re.compile(r"\s?\[(\d+(?:\s*,\s*\d+)*)\]")
_AFTER_MARKER = re.compile(r"\[\d+(?:\s*,\s*\d+)*\](?:\s*\[\d+(?:\s*,\s*\d+)*\])*[.!?]?[\"'”’)]*")
_LEADING_MARKERS = re.compile(r"((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)\s*")

_WORD_NUMBERS = {
    w: n
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}  # fmt: skip
_NUMBER_WORD = re.compile(
    r"\b(?:(" + "|".join(_TENS) + r")(?:[-\s](" + "|".join(list(_WORD_NUMBERS)[1:10]) + r"))?"
    r"|(" + "|".join(list(_WORD_NUMBERS)[2:]) + r"))\b",
    re.IGNORECASE,
)
# 10 000 · 10,000 · 10^26 · 1.5 · 2024 — digits with their thousands separators.
_DIGITS = re.compile(r"\d{1,3}(?:[ ,\u00a0\u202f]\d{3})+(?![\d])|\d+(?:\.\d+)?")
_WORD = re.compile(r"[A-Za-z][\w'’\-]*")
# Capitalised words that open sentences or clauses without naming anything.
_NOT_NAMES = frozenset(
    """a an and as at but by for from he her his however i if in it its many most my no not of
    on or our she so some such that the their then there these they this those to under we
    what when where which while who why with yes you also after before both each every
    first second third finally further moreover overall one""".split()
)
_MONTHS = frozenset(
    "january february march april may june july august september october november december".split()
)


@dataclass
class SentenceCheck:
    """One answer sentence and what its citations say about it."""

    text: str  # the sentence without its markers
    citations: list[int]  # citation numbers it carries
    support: float  # 0..1, meaning match to the best cited sentence
    supported: bool
    reason: str = ""  # why it is not supported ("" when it is)
    start: int = 0  # offsets of the sentence (markers included) in the answer text
    end: int = 0
    missing: list[str] = field(default_factory=list)  # facts its cited passages do not state
    attributed: bool = False  # the model gave no citation; Accord found the passage that holds it

    def to_dict(self) -> dict:
        return asdict(self)


def numbers(text: str) -> set[str]:
    """Numbers a text states, normalised: '10 000' == '10,000' == '10000', 'five' == '5'."""
    found = set()
    for match in _DIGITS.finditer(text):
        raw = re.sub(r"[ ,\u00a0\u202f]", "", match.group(0))
        found.add(raw.lstrip("0") or "0" if "." not in raw else raw)
    for match in _NUMBER_WORD.finditer(text):
        tens, unit, single = match.groups()
        if single:
            value = _WORD_NUMBERS[single.lower()]
        else:
            value = _TENS[tens.lower()] + (_WORD_NUMBERS[unit.lower()] if unit else 0)
        found.add(str(value))
    return found


def names(text: str) -> set[str]:
    """Capitalised words that are not the first word of the sentence, plus acronyms anywhere:
    the people, bodies, places and months a sentence names."""
    words = _WORD.findall(text)
    found = set()
    for i, word in enumerate(words):
        clean = re.sub(r"['’]s$", "", word).strip("-'’")
        if len(clean) < 2 or not clean[0].isupper():
            continue
        if clean.isupper() and len(clean) <= 6:
            found.add(clean)
        elif i > 0 and clean.lower() not in _NOT_NAMES:
            found.add(clean)
    return found


def _initialisms(text: str) -> set[str]:
    """'European Union' -> EU, 'Organisation for Economic Co-operation and Development' -> OECD."""
    found = set()
    run: list[str] = []
    for word in [*_WORD.findall(text), "."]:
        if word[0].isupper():
            run.extend(p for p in word.split("-") if p)
            continue
        if word.lower() in ("for", "of", "and", "on", "the") and run:
            continue
        if len(run) >= 2:
            for size in range(2, len(run) + 1):
                for i in range(len(run) - size + 1):
                    found.add("".join(w[0].upper() for w in run[i : i + size]))
        run = []
    return found


class FactIndex:
    """What a set of passages states, for the lexical half of the check."""

    def __init__(self, texts: Sequence[str]) -> None:
        joined = "\n".join(texts)
        self.numbers = numbers(joined)
        lowered = joined.lower().replace("’", "'")
        self.words = {re.sub(r"'s$", "", w) for w in re.findall(r"[a-z][\w'\-]*", lowered)}
        self.acronyms = {w for w in _WORD.findall(joined) if w.isupper()} | _initialisms(joined)

    def missing(self, sentence: str) -> list[str]:
        out = [n for n in sorted(numbers(sentence)) if n not in self.numbers]
        for name in sorted(names(sentence)):
            low = name.lower().replace("’", "'")
            if low in self.words or (name.isupper() and name in self.acronyms):
                continue
            if low in _MONTHS or len(low) < 5 or not any(w.startswith(low[:5]) for w in self.words):
                out.append(name)
        return out


def split_claims(text: str, at_markers: bool = False) -> list[tuple[int, int, str, list[int]]]:
    """(start, end, text without markers, cited numbers) for each sentence of an answer. A
    marker that opens the next sentence ("… signed. [2] The …") belongs to the one before.

    ``at_markers`` cuts after each marker instead: an extractive answer quotes whole source
    sentences, and a quoted one that holds a full stop ("Independent evaluations. The …")
    is still one citation's worth of text."""
    if at_markers:
        return _units(text)
    claims: list[tuple[int, int, str, list[int]]] = []
    for start, end in sentence_spans(text):
        lead = _LEADING_MARKERS.match(text, start, end)
        if lead and claims:
            s, _, t, c = claims[-1]
            moved = [int(n) for group in MARKER.findall(lead.group(0)) for n in group.split(",")]
            claims[-1] = (s, lead.end(1), t, list(dict.fromkeys([*c, *moved])))
            start = lead.end()
            if start >= end:
                continue
        piece = text[start:end]
        cited = [int(n) for group in MARKER.findall(piece) for n in group.split(",")]
        plain = " ".join(MARKER.sub("", piece).split())
        if not re.search(r"\w", plain):
            continue
        claims.append((start, end, plain, list(dict.fromkeys(cited))))
    return claims


def _units(text: str) -> list[tuple[int, int, str, list[int]]]:
    """The answer cut right after each marker (and the punctuation closing it)."""
    units, start = [], 0
    ends = [m.end() for m in _AFTER_MARKER.finditer(text)]
    for end in [*ends, len(text)]:
        piece = text[start:end]
        plain = " ".join(MARKER.sub("", piece).split())
        if re.search(r"\w", plain):
            cited = [int(n) for group in MARKER.findall(piece) for n in group.split(",")]
            lead = len(piece) - len(piece.lstrip())
            units.append((start + lead, end, plain, list(dict.fromkeys(cited))))
        start = end
    return units


def verify(
    text: str,
    cited_passages: dict[int, int],
    passages: Sequence[Passage],
    sentences: Sequence[Sentence],
    cache: VectorCache,
    threshold: float,
    quoted: bool = False,
) -> tuple[list[SentenceCheck], dict[int, dict[int, Sentence]]]:
    """Check each sentence of ``text``; ``cited_passages`` maps citation number -> passage index.
    ``quoted``: the answer quotes its sources (extractive), checked per cited quote.

    Also returns, per citation number, the passage sentences that best matched the claims
    citing it (keyed by their start), which become the citation's quotes."""
    claims = split_claims(text, at_markers=quoted)
    quotes: dict[int, dict[int, Sentence]] = {n: {} for n in cited_passages}
    if not claims:
        return [], quotes
    claim_vectors = cache.vectors([c[2] for c in claims])
    indexes: dict[tuple[int, ...], FactIndex] = {}

    def facts_of(cited: tuple[int, ...]) -> FactIndex:  # built once per set of passages
        if cited not in indexes:
            indexes[cited] = FactIndex([_facts_text(passages[i]) for i in cited])
        return indexes[cited]

    by_passage: dict[int, list[Sentence]] = {}
    for s in sentences:
        by_passage.setdefault(s.passage, []).append(s)
    checks = []
    for row, (start, end, plain, cited) in enumerate(claims):
        known = [n for n in cited if n in cited_passages]
        if not known:
            reason = "no citation" if not cited else "cites a source that was not retrieved"
            checks.append(SentenceCheck(plain, cited, 0.0, False, reason, start, end))
            continue
        best, pair_best = 0.0, 0.0
        for number in known:
            candidates = by_passage.get(cited_passages[number], [])
            if not candidates:
                continue
            sims = cache.vectors([c.text for c in candidates]) @ claim_vectors[row]
            top = int(np.argmax(sims))
            quotes[number][candidates[top].start] = candidates[top]
            best = max(best, float(sims[top]))
            if len(candidates) > 1 and best < threshold:
                # A claim that joins two adjacent sentences matches neither one alone.
                pairs = [f"{a.text} {b.text}" for a, b in pairwise(candidates)]
                pair_sims = cache.vectors(pairs) @ claim_vectors[row]
                pair_best = max(pair_best, float(pair_sims.max()))
        support = round(max(best, pair_best, 0.0), 4)
        missing = facts_of(tuple(sorted(cited_passages[n] for n in known))).missing(plain)
        reason = ""
        if missing:
            listed = ", ".join(f"“{m}”" for m in missing)
            reason = f"{_numbers_label(known)} does not state {listed}"
        elif support < threshold:
            reason = (
                f"{_numbers_label(known)} says something different "
                f"(support {support:.2f} < {threshold:.2f})"
            )
        checks.append(SentenceCheck(plain, cited, support, not reason, reason, start, end, missing))
    return checks, quotes


def _numbers_label(numbers_: Sequence[int]) -> str:
    return "the cited passage " + "".join(f"[{n}]" for n in numbers_)


def _facts_text(passage: Passage) -> str:
    chunk = passage.chunk
    meta = chunk.metadata
    extra = [str(meta.get(k) or "") for k in ("date", "updated", "issuer")]
    return "\n".join([chunk.title, *chunk.headings, *extra, chunk.text])


def attribute(
    text: str,
    passages: Sequence[Passage],
    sentences: Sequence[Sentence],
    cache: VectorCache,
    threshold: float,
) -> tuple[str, list[str]]:
    """Markers for the sentences a model left uncited, where one retrieved passage supports
    them by the same test :func:`verify` applies; ``text``'s markers are passage positions.
    Returns the new text and the sentences that were given a source this way. A sentence no
    passage supports stays uncited, and is reported so."""
    uncited = [  # a marker outside 1..len(passages) is dropped later: no citation either
        c for c in split_claims(text) if not any(1 <= n <= len(passages) for n in c[3])
    ]
    if not uncited or not sentences:
        return text, []
    pool = cache.vectors([s.text for s in sentences])
    claim_vectors = cache.vectors([c[2] for c in uncited])
    inserts: list[tuple[int, int]] = []
    attributed = []
    for (_, end, plain, _), vector in zip(uncited, claim_vectors, strict=True):
        sims = pool @ vector
        for i in np.argsort(-sims)[:5]:  # the closest sentences whose passage states its facts
            if sims[i] < threshold:
                break
            passage = sentences[int(i)].passage
            if not FactIndex([_facts_text(passages[passage])]).missing(plain):
                inserts.append((end, passage + 1))
                attributed.append(plain)
                break
    for end, number in sorted(inserts, reverse=True):
        piece = text[:end]
        match = re.search(r"([.!?][\"'”’)]*)$", piece)
        at = match.start() if match else end
        text = f"{text[:at]} [{number}]{text[at:]}"
    return text, attributed

"""Questions that ask several things at once, split into one sub-question per ask.

"Who presented X, and how many governments backed Y?" searched as one query finds passages
about whichever half has the rarer words, and the answer covers that half. Split, each part is
searched on its own, the answer is composed from the evidence of all of them (``Bot``), and a
part the documents do not cover is named instead of sinking the whole question. The rules
read the cues readers use: ", and what …", "when … and who …", "A or B?", "what did A and B
each …". Background sentences ("The Seoul pledges set a deadline.") go with every part, since
a part often leans on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_PARTS = 4
_ASK = (
    r"what|when|where|who|whom|whose|which|how|why|whether|did|does|do|is|are|was|were|has|"
    r"have|had|can|could|will|would|should|from what|on what|in what|at what|by what|since when"
)
# ", and when …", " and who …", "; how …": a new ask starts after the conjunction.
_JOIN = re.compile(rf"(?:,|;)?\s+(?:and|but)\s+(?=(?:{_ASK})\b)|;\s+(?=(?:{_ASK})\b)", re.I)
_SENTENCE = re.compile(r"(?<=[.?!])\s+(?=[A-Z])")
# "Give the numbers." and the like: how to answer, not a new ask.
_INSTRUCTION = re.compile(
    r"^(?:please\s+)?(?:give|state|include|list|name|say|quote|cite)\b.{0,40}"
    r"\b(?:numbers?|figures?|dates?|counts?|totals?|names?|sources?)\b",
    re.I,
)
_STARTS_ASK = re.compile(
    rf"^(?:{_ASK}|please|give|name|list|say|explain|describe|compare|tell)\b", re.I
)
# "Which drew broader backing, A or B?"
_EITHER = re.compile(
    r"^(?P<stem>(?:which|who|what)\b[^,?]*?),\s*(?P<a>[^,?]+?)\s+or\s+(?P<b>[^,?]+?)\?$", re.I
)
_BOTH_SIDES = re.compile(r"\b(?:the two|two|both|each|either|them|they)\b", re.I)


@dataclass
class Part:
    text: str  # the ask as the reader wrote it, to name it when it cannot be answered
    query: str  # what is searched: the ask with the question's background sentences
    doc_ids: list[str] = field(default_factory=list)  # searched only there (one instrument's)
    k: int = 0  # passages to retrieve for it (0: the setting)


def split_question(question: str) -> list[Part]:
    """The question's asks, or one part (the question itself) when it asks one thing. An ask
    that leans on those before it ("… and who led it?", "on what date?", "how close are the
    two?") is searched with them beside it."""
    from bot.retrieval import looks_like_followup

    text = " ".join(question.split())
    sentences = [s for s in _SENTENCE.split(text) if s.strip()]
    background, asks, instructions = [], [], []
    for sentence in sentences:
        if _INSTRUCTION.search(sentence):
            instructions.append(sentence)
        elif sentence.endswith("?") or _STARTS_ASK.search(sentence):
            asks.append(sentence)
        else:
            background.append(sentence)
    pieces: list[str] = []
    alone: set[int] = set()  # one side of "A or B" / "A and B each": it names its subject
    for ask in asks:
        for piece in _joined(ask):
            sides = _alternatives(piece)
            if len(sides) > 1:
                alone.update(range(len(pieces), len(pieces) + len(sides)))
            pieces += sides
    if len(pieces) < 2 or len(pieces) > MAX_PARTS:
        return [Part(text, text)]
    parts = []
    for n, piece in enumerate(pieces):
        leans = n > 0 and n not in alone and (
            looks_like_followup(piece) or len(piece.split()) < 5 or _BOTH_SIDES.search(piece)
        )
        lead = [*background, *(pieces[:n] if leans else [])]
        query = " ".join(x for x in (*lead, piece, *instructions) if x)
        parts.append(Part(piece, query))
    return parts


def _joined(ask: str) -> list[str]:
    """"When was X set up, and how many members did it start with?" -> its two asks."""
    pieces = [p.strip(" ,;") for p in _JOIN.split(ask) if p and p.strip(" ,;")]
    pieces = [p if p.endswith("?") else f"{p}?" for p in pieces]
    if len(pieces) > 1 and all(len(p.split()) >= 2 for p in pieces):
        return [p[0].upper() + p[1:] for p in pieces]
    return [ask]


def _alternatives(ask: str) -> list[str]:
    """"Which drew more backing, A or B?" and "What did A and B each say?": one ask per side."""
    either = _EITHER.match(ask)
    if either:
        stem = either.group("stem")
        return [f"{stem}: {either.group(o).strip()}?" for o in ("a", "b")]
    from bot.thread import names

    found = []
    for name in names(ask):  # "OECD and UNESCO" reads as one name: its halves are the pair
        found += name.split(" and ") if re.search(r"\b(?:each|both)\b", ask) else [name]
    for first, second in zip(found, found[1:], strict=False):
        pair = re.search(
            rf"\b(?P<both>both\s+)?(?:the\s+)?{re.escape(first)}\s+and\s+(?:the\s+)?"
            rf"{re.escape(second)}(?P<each>\s+(?:each|both)\b)?",
            ask,
        )
        if pair and (pair.group("both") or pair.group("each")):
            return [_one_of(ask, pair, name) for name in (first, second)]
    return [ask]


def _one_of(ask: str, pair: re.Match, name: str) -> str:
    """The ask about one side of the pair: "What did the OECD and UNESCO each say?" ->
    "What did the OECD say?"."""
    out = f"{ask[: pair.start()]}{_article(pair.group(), name)}{name}{ask[pair.end() :]}"
    return " ".join(out.split())


def _article(said: str, name: str) -> str:
    return "the " if re.search(rf"\bthe\s+{re.escape(name)}", said) else ""

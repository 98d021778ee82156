"""What a conversation carries from one turn to the next: the documents an answer cited and
the instrument or body it was about.

A follow-up ("who were its co-chairs?") names nothing itself. Searching it with the previous
question's words at half weight loses the thread to any passage that mentions co-chairs; what
a reader means is "the co-chairs of the thing we were just talking about". So each answer
records its cited documents and main entities (``Thread``), a follow-up that names nothing new
is searched with its reference put back ("the High-level Advisory Body's co-chairs") and with
the previous turn's documents strongly preferred, and a question that names a new instrument
starts a new thread. Clients that only keep plain text (role and content) still get this: the
thread is then read back from the previous question and answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# Words that, capitalised, start a question or a sentence rather than a name.
_NOT_NAMES = {
    "a", "an", "and", "are", "as", "at", "but", "by", "can", "could", "did", "do", "does",
    "for", "from", "give", "had", "has", "have", "he", "her", "his", "how", "i", "if", "in",
    "is", "it", "its", "list", "many", "much", "name", "not", "of", "on", "once", "or", "say",
    "she", "so", "tell", "that", "the", "their", "then", "there", "these", "they", "this",
    "those", "to", "under", "was", "we", "were", "what", "when", "where", "whether", "which",
    "who", "whom", "whose", "why", "will", "with", "would", "yes", "you", "also", "each",
    "both", "according", "since", "after", "before", "while", "compare", "explain",
    "describe", "summarise", "summarize", "please",
}  # fmt: skip
_MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
}  # fmt: skip
_GENERIC = {"ai", "un", "us", "eu", "uk", "g7", "g20", "artificial", "intelligence"}
# Nouns that make a lower-case tail part of an instrument's name ("Hiroshima code of conduct").
INSTRUMENT_NOUNS = (
    "act", "accord", "agency", "agreement", "alliance", "body", "board", "charter", "code",
    "commission", "commitments", "committee", "compact", "convention", "council",
    "declaration", "dialogue", "directive", "executive order", "forum", "framework",
    "guidelines", "guiding principles", "initiative", "institute", "memorandum", "network",
    "office", "order", "panel", "partnership", "pledge", "plan", "principles", "process",
    "protocol", "recommendation", "regulation", "report", "resolution", "rule", "statement",
    "strategy", "summit", "treaty",
)  # fmt: skip
_TOKEN = re.compile(r"[A-Za-z0-9][\w/.\-–]*(?:['’]s)?")
_CONNECTORS = {"of", "on", "for", "and", "the", "de"}
_NUMBERED = re.compile(
    r"\b(?:resolution|executive order|order|regulation|decision|convention|cets)\s+(?:no\.?\s*)?"
    r"\d[\w/.\-]*",
    re.IGNORECASE,
)
_TAIL = re.compile(
    r"^\s+((?:(?![a-z]+ed\s)[a-z\-]+\s+)?(?:" + "|".join(INSTRUMENT_NOUNS) + r")s?"
    r"(?:\s+(?:of|on|for)\s+(?:conduct|action|ai|artificial intelligence|the ethics of ai))?)\b"
)


@dataclass
class Thread:
    """One answered turn's documents (cited first) and the names it was about (main first)."""

    doc_ids: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[str]]:
        return {"doc_ids": list(self.doc_ids), "entities": list(self.entities)}

    @classmethod
    def of(cls, value: Any) -> Thread | None:
        """A thread from a turn's metadata as an API client passes it back; None when it holds
        none (anything malformed is ignored: the plain text still says what was asked)."""
        if isinstance(value, Thread):
            return value
        if not isinstance(value, dict):
            return None
        docs, entities = value.get("doc_ids"), value.get("entities")
        docs = [d for d in docs if isinstance(d, str) and d] if isinstance(docs, list) else []
        if not isinstance(entities, list):
            entities = []
        entities = [e for e in entities if isinstance(e, str) and e.strip()]
        return cls(docs, entities) if docs or entities else None


def names(text: str) -> list[str]:
    """The proper names in ``text``, in order: runs of capitalised words (with "of", "on",
    "the"… inside them), acronyms and numbered instruments ("Resolution 78/265"), each with
    the instrument noun that follows it ("Hiroshima code of conduct")."""
    tokens = list(_TOKEN.finditer(text))
    found: list[str] = []
    i = 0
    while i < len(tokens):
        if not _capital(tokens[i].group()):
            i += 1
            continue
        j = i
        while j + 1 < len(tokens):
            nxt = tokens[j + 1]
            gap = text[tokens[j].end() : nxt.start()]
            if gap.strip() not in ("", "-"):
                break
            if _capital(nxt.group(), inside=True):
                j += 1
                continue
            # "Council of Europe": a connector counts when a capitalised word follows it.
            if nxt.group().lower() in _CONNECTORS and j + 2 < len(tokens):
                after = tokens[j + 2]
                between = text[nxt.end() : after.start()]
                if between.strip() == "" and _capital(after.group()):
                    j += 2
                    continue
            break
        start, end = tokens[i].start(), tokens[j].end()
        tail = _TAIL.match(text[end:])
        if tail:
            end += tail.end()
        name = re.sub(r"['’]s$", "", text[start:end].strip(" -.,;:"))
        if name and not _possessive_only(name):
            found.append(name)
        i = j + 1
    found += [m.group() for m in _NUMBERED.finditer(text)]
    return list(dict.fromkeys(found))


def _capital(token: str, inside: bool = False) -> bool:
    word = re.sub(r"['’]s$", "", token).rstrip(".")
    if not word or not (word[0].isupper() or (word[0].isdigit() and inside)):
        return False
    if word.lower() in _MONTHS:
        return False
    if word.lower() in _NOT_NAMES and (not inside or word.lower() in _CONNECTORS):
        return word.isupper() and len(word) > 1 and word.lower() not in ("i", "a")
    return True


def _possessive_only(name: str) -> bool:
    return re.sub(r"['’]s$", "", name).lower() in _NOT_NAMES


def significant(name: str) -> bool:
    """A name that identifies an instrument or body: several words, an acronym that is not
    a bare "AI"/"EU", or a word with an instrument noun; a lone "China" or "Washington" is
    a party to the thread, not a new subject."""
    core = re.sub(r"['’]s\b", "", name)
    words = core.split()
    if any(noun in core.lower() for noun in INSTRUMENT_NOUNS) and len(words) >= 2:
        return True
    content = [w for w in words if w.lower() not in _CONNECTORS | _GENERIC]
    if len(content) >= 2:
        return True
    return any(w.isupper() and len(w) >= 3 and w.lower() not in _GENERIC for w in content)


def main_entity(question: str, answer: str = "") -> str:
    """What a turn was about: the most specific name its question gives, else the first one
    its answer gives (a question may only describe what the answer names: "the first
    binding AI treaty" -> "the Council of Europe Framework Convention"), else ""."""
    for text in (question, _first_sentence(answer)):
        found = [n for n in names(text) if significant(n)]
        if found:
            return max(found, key=_specificity)
    return ""


def _specificity(name: str) -> tuple[bool, bool, int]:
    """Instrument nouns and acronyms first ("REAIM summit" over "Seoul in September"), then
    the longer name."""
    lower = name.lower()
    return (
        any(re.search(rf"\b{noun}", lower) for noun in INSTRUMENT_NOUNS),
        any(w.isupper() and len(w) >= 3 for w in name.split()),
        len(name.split()),
    )


def instrument_like(name: str, noun: bool = False) -> bool:
    """A name with an instrument noun (``noun``), or also one with an acronym: what "it" in
    a follow-up points at."""
    specific = _specificity(name)
    return specific[0] or (not noun and specific[1])


def _first_sentence(text: str) -> str:
    text = re.sub(r"\s*\[\d+(?:,\s*\d+)*\]", "", text or "")
    return re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)[0] if text else ""


def new_subject(question: str, history_text: str) -> bool:
    """Whether ``question`` names an instrument or body the conversation has not mentioned:
    then it starts a new thread even when it reads like a follow-up ("what about the EU AI
    Act?")."""
    known = _squash(history_text)
    for name in names(question):
        if significant(name) and _squash(re.sub(r"['’]s\b", "", name)) not in known:
            return True
    return False


def _squash(text: str) -> str:
    return " ".join(re.sub(r"[^\w/]+", " ", text.lower().replace("’", "'")).split())


def previous_turn(history: Sequence[dict]) -> tuple[str, str, Thread | None]:
    """The last question, the answer that followed it, and that answer's thread when the
    client passed it back (``metadata``: {"doc_ids": [...], "entities": [...]})."""
    question = answer = ""
    thread = None
    for turn in reversed(history):
        if turn.get("role") == "assistant" and not question and not answer:
            answer = str(turn.get("content") or "")
            thread = Thread.of(turn.get("metadata"))
        elif turn.get("role") == "user":
            question = str(turn.get("content") or "")
            break
    return question, answer, thread


def turn_entities(question: str, answer: str) -> list[str]:
    """What an answered turn was about, main first: the referent a follow-up's "it" takes."""
    from bot.retrieval import referent

    main = referent(question, answer)
    named = [n for n in names(question) + names(_first_sentence(answer)) if significant(n)]
    return list(dict.fromkeys([main, *named]))[:5]


def history_text(history: Sequence[dict]) -> str:
    return " ".join(str(t.get("content") or "") for t in history[-6:])

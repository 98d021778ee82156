"""Deciding not to answer: the question names something the documents never mention, or the
best evidence does not carry what the question asks.

A refusal says what was missing ("The documents never mention “AI Basic Act”"), so a reader
knows whether to rephrase or to ingest another document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bot.ranking import Question

# Diplomatic shorthand: a capital standing for a government or institution is not an unknown
# name when the institution itself is in the corpus.
METONYMS = {
    "brussels": "European Union",
    "strasbourg": "Council of Europe",
    "washington": "United States",
    "beijing": "China",
    "london": "United Kingdom",
    "moscow": "Russia",
    "tokyo": "Japan",
    "delhi": "India",
    "ottawa": "Canada",
    "berlin": "Germany",
    "whitehall": "United Kingdom",
    "pentagon": "Department of Defense",
    "french": "France",
    "dutch": "Netherlands",
}
_SALIENT = re.compile(r"\b(?:[A-Z][\w&.-]*[A-Za-z]|[A-Z]{2,}|\d[\d/.-]*\d{2,}[\d/.-]*)\b")
# A run of capitalised words (with small joining words): a title or a proper name.
_NAME = re.compile(
    r"\b[A-Z][\w’']*[A-Za-z](?:\s+(?:(?:of|for|on|and|&)\s+(?:the\s+)?)?[A-Z][\w’']*[A-Za-z0-9])+\b(?!-)"
)
_POSSESSIVE = re.compile(r"[’']s\b")


def salient_words(question: str) -> list[str]:
    """Names, acronyms and long numbers: the words a question cannot do without.

    A capitalised word counts unless it opens a sentence (where everything is capitalised).
    """
    words = []
    for match in _SALIENT.finditer(question):
        before = question[: match.start()].rstrip()
        if not before or before[-1] in '.?!:"“(':
            continue
        words.append(match.group(0))
    return words


def names(question: str) -> list[str]:
    """Multi-word names and titles ("AI Basic Act", "Frontier AI Safety Commitments"), without a
    leading question word and split at possessives ("Korea's AI Basic Act" -> "AI Basic Act")."""
    out = []
    text = _POSSESSIVE.sub(" |", question)  # same length: a possessive ends a name
    for match in _NAME.finditer(text):
        words = match.group(0).split()
        before = text[: match.start()].rstrip()
        if not before or before[-1] in '.?!:"“(':
            words = words[1:]  # the sentence's first word is capitalised anyway
        while words and words[0].lower() in ("the", "of", "and", "for", "on", "&"):
            words = words[1:]
        if len(words) >= 2:
            out.append(" ".join(words))
    return out


def unknown_words(question: str, keyword, chunk_texts: Callable[[], Sequence[str]]) -> list[str]:
    """Salient words of the question that no indexed chunk contains.

    If a question names something the documents never mention ("Colorado", "PL 2338"), the
    documents cannot answer it, however close the remaining words come. Only names, acronyms
    and numbers are checked, and each is read the ways a writer may put it: an acronym spelled
    out ("SDGs": "Sustainable Development Goals"), a nationality by its country ("Japanese":
    "Japan"), a capital by its government ("Washington"), and a compound by its parts
    ("Italy-UNDP").
    """
    from bot.keyword import terms

    def known(word: str) -> bool:
        stems = terms(word)
        if not stems or all(keyword.known(t) for t in stems):
            return True
        alias = METONYMS.get(word.lower())
        if alias and all(keyword.known(t) for t in terms(alias)):
            return True
        if any(all(keyword.known(t) for t in terms(c)) for c in _countries(word)):
            return True
        return _spelled_out(word, chunk_texts())

    unknown = []
    for word in salient_words(question):
        if _SYMBOL.match(word):
            continue  # a document symbol is checked whole (unknown_symbols), not by its parts
        if known(word) or all(known(part) for part in word.split("-") if part):
            continue
        unknown.append(word)
    return unknown


# A document symbol, "78/311" or "2338/2023": known only as written, since its numbers alone
# occur everywhere.
_SYMBOL = re.compile(r"^\d+/\d+$")


def unknown_symbols(question: str, phrase_found: Callable[[str], bool]) -> list[str]:
    """Document symbols ("resolution 78/311") that no chunk holds as written."""
    symbols = [w for w in salient_words(question) if _SYMBOL.match(w)]
    return [s for s in dict.fromkeys(symbols) if not phrase_found(s)]


# How a nationality is made from its country's name: "Japanese" from "Japan", "British" from
# "Britain", "Italian" from "Italy", "Kenyan" from "Kenya", "Israeli" from "Israel".
_NATIONALITY = (
    ("ese", ("", "a")),
    ("ish", ("ain", "and", "ey", "en")),
    ("ian", ("", "a", "ia", "y")),
    ("an", ("a", "o", "y", "e")),
    ("i", ("",)),
)


def _countries(word: str) -> list[str]:
    """The country names a capitalised word would be the nationality of, if it is one."""
    if len(word) < 5 or not word.isalpha() or not word[0].isupper() or word.isupper():
        return []
    for suffix, endings in _NATIONALITY:
        if word.endswith(suffix):
            return [word[: -len(suffix)] + e for e in endings]
    return []


def unknown_names(question: str, phrase_found: Callable[[str], bool]) -> list[str]:
    """Names of three or more words that share no word pair with the documents, although each
    word may be known: "AI Basic Act" is unknown even where "AI", "Basic" and "Act" occur, while
    "New Delhi AI summit" is known from "New Delhi". Two-word names are left to the word check:
    "South Korea" may be written "Republic of Korea"."""
    unknown = []
    for name in names(question):
        words = name.split()
        capitals = [i for i, w in enumerate(words) if w[0].isupper()]
        if len(capitals) < 3 or phrase_found(name):
            continue
        # Each pair of neighbouring capitalised words with what joins them: "Council of Europe".
        pairs = [" ".join(words[a : b + 1]) for a, b in zip(capitals, capitals[1:], strict=False)]
        if not any(phrase_found(p) for p in pairs):
            unknown.append(name)
    return unknown


_FUNCTION_WORDS = set(
    "did does do done many much which what who whom whose when where why how there any some "
    "main actually really first one two also just get got put take took make made go went "
    "isn't wasn't aren't don't doesn't didn't wouldn't can't won't".split()
)
_FILLER = r"(?:(?:of|and|the|for|on|in|to|&)\s+)?"


def _spelled_out(word: str, texts: Sequence[str]) -> bool:
    """Whether the documents write the acronym out, one word per letter, a two-letter acronym
    standing for two of them: "NAIRR" is "National AI Research Resource"."""
    letters = word[:-1] if word.endswith("s") and word[:-1].isupper() else word
    if not (2 <= len(letters) <= 6 and letters.isalpha() and letters.isupper()):
        return False
    pattern = re.compile(r"\b(?:" + "|".join(_spellings(letters)) + ")", re.IGNORECASE)
    return any(pattern.search(text) for text in texts)


def _spellings(letters: str) -> list[str]:
    """Patterns for the word runs an acronym may abbreviate: each letter starts a word, or two
    letters are a two-letter acronym of their own ("AI", "UN", "EU")."""
    if not letters:
        return [""]
    gap = r"[\s-]+" + _FILLER
    options = [(letters[0] + r"\w*", letters[1:])]
    if len(letters) >= 2:
        options.append((letters[:2] + r"\b", letters[2:]))
    out = []
    for head, rest in options:
        for tail in _spellings(rest):
            out.append(head + (gap + tail if tail else ""))
    return out


def missing_terms(question: Question, text: str, limit: int = 3) -> list[str]:
    """The question's rarest words that the evidence lacks, as the question spells them."""
    from bot.keyword import terms

    have = set(terms(text))
    words = []
    for word in re.findall(r"[\w’'-]+", question.text):
        if word.lower() in _FUNCTION_WORDS:
            continue
        stems = terms(word)
        if stems and not set(stems) & have and all(s in question.terms for s in stems):
            weight = max(question.terms[s] for s in stems)
            words.append((weight, word))
    seen: list[str] = []
    for _, word in sorted(words, key=lambda w: -w[0]):
        if word.lower() not in (s.lower() for s in seen):
            seen.append(word)
    return seen[:limit]

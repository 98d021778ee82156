"""The label of the part of a document a quote comes from: "Article 53(1)(a)", "operative
paragraph 6", "Frontier AI Safety Commitments › Outcome 1".

A citation to a whole treaty sends a reader hunting; lawyers and diplomats cite provisions.
The label is read from the chunk's heading path and from the numbered paragraphs and lettered
points written in the text before the quote, so it needs nothing but the chunk itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_ARTICLE = re.compile(r"^\s*(Article|Art\.|Section|Sec\.|Rule|Principle)\s+(\d+[A-Za-z]?)\b", re.I)
_ANNEX = re.compile(r"^\s*(Annex|Appendix)\s+([IVXLC\d]+)\b", re.I)
# A numbered paragraph or lettered point opening a line: "1. ", "2) ", "(a) ", "(iv) ", "a) ".
_PARAGRAPH = re.compile(r"^[ \t]*(?:\*\*)?(\d{1,3})(?:\.(?!\d)|\))[ \t]+", re.M)
_POINT = re.compile(r"^[ \t]*[-*]?[ \t]*\(([a-z]{1,4})\)[ \t]+|^[ \t]*([a-z])\)[ \t]+", re.M)
_DOTTED = re.compile(r"^[ \t]*(\d{1,2}(?:\.\d{1,2})+)\.?[ \t]+", re.M)  # "4.2. ", "4.2.1 "
_ROMAN = re.compile(r"^(?:i|ii|iii|iv|v|vi|vii|viii|ix|x|xi|xii)$")
_SEP = " › "


def section_label(
    headings: Sequence[str], before: str, title: str = "", resolution: bool | None = None
) -> str:
    """The label for a quote whose chunk has ``headings`` and whose chunk text before it is
    ``before``. ``resolution`` (default: guessed from ``title``) names numbered paragraphs
    "operative paragraph n", as UN resolutions number only their operative part."""
    path = [h.strip() for h in headings if h and h.strip()]
    if path and title and _same(path[0], title):
        path = path[1:]  # the document's own title heading says nothing new
    if resolution is None:
        resolution = "resolution" in title.lower()
    base = ""
    for heading in reversed(path):
        match = _ARTICLE.match(heading) or _ANNEX.match(heading)
        if match:
            word = {"art.": "Article", "sec.": "Section"}.get(match.group(1).lower())
            base = f"{word or match.group(1).title()} {match.group(2)}"
            break
    number, point = _last_numbers(before)
    if base:
        return base + (f"({number})" if number else "") + (f"({point})" if point else "")
    if number and resolution:
        label = f"operative paragraph {number}" + (f"({point})" if point else "")
    elif number:
        label = f"paragraph {number}" + (f"({point})" if point else "")
    else:
        label = ""
    named = _SEP.join(_short(h) for h in path[-2:])
    if label and named:
        return f"{named}{_SEP}{label}"
    return label or named


def _last_numbers(before: str) -> tuple[str, str]:
    """The last numbered paragraph opened before the quote, and the last lettered point opened
    after it (a point under an earlier paragraph does not count)."""
    number, at = "", -1
    for match in _PARAGRAPH.finditer(before):
        number, at = match.group(1), match.start()
    dotted = list(_DOTTED.finditer(before))
    if dotted and dotted[-1].start() > at:
        number, at = dotted[-1].group(1), dotted[-1].start()
    point = ""
    for match in _POINT.finditer(before):
        if match.start() > at:
            letter = match.group(1) or match.group(2)
            if number or not _ROMAN.match(letter) or not point:
                point = letter
    return number, point


def _short(heading: str) -> str:
    heading = re.sub(r"[*_`#]+", "", heading).strip()
    return heading if len(heading) <= 80 else heading[:77].rstrip() + "…"


def _same(a: str, b: str) -> bool:
    def squash(s: str) -> str:
        return re.sub(r"\W+", " ", s.lower()).strip()

    return squash(a) == squash(b) or squash(b).startswith(squash(a))


def label_for(chunk, start: int) -> str:
    """The label of the quote that starts at document offset ``start`` in ``chunk``."""
    before = chunk.text[: max(0, start - chunk.start)]
    return section_label(chunk.headings, before, chunk.title)

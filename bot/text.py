"""Sentence boundaries with character offsets, shared by chunking, composing and evaluation."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (optionally followed by a closing quote or bracket) before whitespace
# and a capital, digit, quote or bracket. Common abbreviations are protected below.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_ABBREVIATIONS = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Sen|Rep|Gen|Jr|Sr|No|Art|Arts|para|paras|Vol|vs|etc|e\.g|i\.e"
    r"|U\.S|U\.K|U\.N|E\.U|Inc|Ltd|Co|Corp|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
    r"|\b[A-Z])\.$"
)


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each sentence in ``text``, shifted by ``offset``; whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        candidate = text[start : match.start()]
        if _ABBREVIATIONS.search(candidate.rstrip("\"'”’)]")):
            continue
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    result = []
    for s, e in spans:
        piece = text[s:e]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece) - len(piece.rstrip())
        if e - trail > s + lead:
            result.append((offset + s + lead, offset + e - trail))
    return result


# A block ends at a blank line or at the end of the text (trailing newlines included).
_PARAGRAPH = re.compile(r"\S(?:.*?\S)?(?=[ \t]*\n[ \t]*\n|\s*\Z)", re.DOTALL)


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each blank-line separated block, whitespace trimmed."""
    return [(m.start(), m.end()) for m in _PARAGRAPH.finditer(text)]


_LIST_ITEM = re.compile(r"\n(?=[ \t]*(?:[-*+]|\d+[.)]|\([a-z0-9]+\))[ \t]+)")


def block_spans(text: str) -> list[tuple[int, int]]:
    """Paragraphs, with markdown list items split out: each item reads as its own block.

    Plain line breaks inside a paragraph (hard-wrapped PDF text) do not split it.
    """
    blocks = []
    for start, end in paragraph_spans(text):
        cut = start
        for match in _LIST_ITEM.finditer(text, start, end):
            blocks.append((cut, match.start()))
            cut = match.end()
        blocks.append((cut, end))
    return [(s, e) for s, e in blocks if text[s:e].strip()]

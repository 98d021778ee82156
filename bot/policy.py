"""What a policy reader needs beyond the answer text, in one call for ``Bot.stream``: the date
the answer is current to, a timeline for a question about a process, a table for a
comparison. Each part lives in its own module; this only puts them in order."""

from __future__ import annotations

from typing import Any

from bot.asof import date_note
from bot.comparison import build_comparison
from bot.timeline import build_timeline


def enrich(
    question: str, text: str, citations: list, found, filters, cache, score=None
) -> tuple[str, dict]:
    """The answer text (with its "As of" date when due) and the extra ``Answer`` fields.
    ``citations`` gains the sources the timeline and the table quote; ``score`` rates table
    cells (bot/comparison.py)."""
    text, current = date_note(question, text, citations, found.passages, filters.as_of, cache)
    extras: dict[str, Any] = {"current_to": current}
    extras["timeline"] = build_timeline(question, found.sentences, found.passages, citations)
    extras["comparison"] = build_comparison(
        question, found.sentences, found.vectors, found.passages, citations, cache, score
    )
    return text, extras

"""Answers and conversations as Markdown and JSON, sources kept.

Copying an answer from a chat page usually drops its citations; a briefing needs them. Each
``[n]`` marker becomes a Markdown footnote whose text carries everything a reader needs to
find the source again: title, issuer, date, section, link and the quoted sentence.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

_MARKER = re.compile(r"\[(\d+)\]")


def _ref(number: int | str, prefix: str) -> str:
    return f"[^{prefix}{number}]"


def footnote(citation: Mapping[str, Any], prefix: str = "") -> str:
    """``[^n]: Title — issuer, date, section. <link> “quote”``"""
    return f"{_ref(citation['number'], prefix)}: {source_line(citation)}"


def source_line(citation: Mapping[str, Any]) -> str:
    """``Title — issuer, date, section. <link> “quote”``: what a reader needs to find it."""
    facts = [str(citation.get(k) or "") for k in ("issuer", "date", "section")]
    facts = [f for f in facts if f]
    head = str(citation.get("title") or citation.get("doc_id") or "")
    if facts:
        head += " — " + ", ".join(facts)
    source = str(citation.get("source") or "")
    link = (
        f" <{source}>"
        if source.startswith(("http://", "https://"))
        else (f" ({source.rsplit('/', 1)[-1]})" if source else "")
    )
    quote = " ".join(str(citation.get("quote") or "").split())
    said = f" “{quote}”" if quote else ""
    return f"{head}.{link}{said}"


SOURCES_HEADING = "**Sources**"


def sources_block(citations: Sequence[Mapping[str, Any]]) -> str:
    """The citations as a block to append to an answer whose text keeps its ``[n]`` markers,
    for clients that show only text: ``**Sources**`` then ``- [n] Title — …`` per source
    ("" when nothing is cited)."""
    if not citations:
        return ""
    lines = [f"- [{c['number']}] {source_line(c)}" for c in citations]
    return f"{SOURCES_HEADING}\n\n" + "\n".join(lines)


def strip_sources(text: str) -> str:
    """An answer as a client sends it back in a conversation, without its sources block."""
    at = text.find(f"\n\n{SOURCES_HEADING}\n")
    return (text[:at] if at >= 0 else text).strip()


def cited(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An answer's citations (``Answer.to_dict()``) as a client needs them, without the
    passage text and offsets the page uses for highlighting."""
    keys = ("number", "doc_id", "title", "issuer", "date", "section", "source", "quote")
    return [{k: c.get(k, "") for k in keys} for c in answer.get("citations") or []]


def sentence_checks(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each answer sentence's check, as the MCP tools and the OpenAI API return it."""
    keys = ("text", "citations", "supported", "reason")
    return [{k: s[k] for k in keys} for s in answer.get("sentences") or []]


def checked(answer: Mapping[str, Any]) -> str:
    """One line on verification: how many sentences their citations support."""
    sentences = answer.get("sentences") or []
    if answer.get("abstained") or not sentences:
        return ""
    supported = sum(1 for s in sentences if s.get("supported"))
    return (
        f"{supported} of {len(sentences)} sentences checked against the passages they cite "
        "and found supported."
    )


def answer_markdown(answer: Mapping[str, Any], prefix: str = "", question: bool = True) -> str:
    """One answer (``Answer.to_dict()``) as Markdown with footnoted sources. ``prefix`` keeps
    footnote labels apart when several answers share one document."""
    parts = []
    if question and answer.get("question"):
        parts.append(f"**Question:** {answer['question']}")
    text = str(answer.get("text") or "")
    parts.append(_MARKER.sub(lambda m: _ref(m.group(1), prefix), text))
    timeline = answer.get("timeline") or []
    if timeline:
        lines = [f"- **{e['date']}** — {e['text']} {_ref(e['citation'], prefix)}" for e in timeline]
        parts.append("**Timeline**\n\n" + "\n".join(lines))
    table = answer.get("comparison")
    if table:
        parts.append(_table(table, prefix))
    notes = [footnote(c, prefix) for c in answer.get("citations") or []]
    if notes:
        parts.append("\n".join(notes))
    return "\n\n".join(parts) + "\n"


def _table(table: Mapping[str, Any], prefix: str) -> str:
    def cell(c: Mapping[str, Any]) -> str:
        text = str(c.get("text") or "").replace("|", "\\|")
        return f"{text} {_ref(c['citation'], prefix)}" if c.get("citation") else f"*{text}*"

    head = "| Aspect | " + " | ".join(table["instruments"]) + " |"
    rule = "|---" * (len(table["instruments"]) + 1) + "|"
    rows = [
        f"| {aspect} | " + " | ".join(cell(c) for c in row) + " |"
        for aspect, row in zip(table["aspects"], table["rows"], strict=True)
    ]
    return "\n".join([head, rule, *rows])


def conversation_markdown(turns: Sequence[Mapping[str, Any]], title: str = "Accord") -> str:
    """A conversation (answers as ``Answer.to_dict()``) as one Markdown document; each answer's
    footnotes are labelled by its turn ("[^2.1]")."""
    out = [f"# {title}: conversation\n"]
    for i, answer in enumerate(turns, start=1):
        out.append(f"## {i}. {answer.get('question', '')}\n")
        out.append(answer_markdown(answer, prefix=f"{i}.", question=False))
    return "\n".join(out)


def conversation_json(turns: Sequence[Mapping[str, Any]]) -> str:
    """The same conversation as JSON: ``{"turns": [Answer.to_dict(), ...]}``."""
    return json.dumps({"turns": list(turns)}, ensure_ascii=False, indent=2)

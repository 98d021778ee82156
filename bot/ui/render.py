"""The chat's HTML: pure functions, data in, HTML out.

Answers arrive as ``Answer.to_dict()`` (plus the filters they were answered under); each
message is one HTML block with no blank line in it, so the chat's own markdown renderer never
interprets document text. Gradio's sanitizer stays on as a second layer.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bot.ui.markup import (
    esc,
    flagged_markdown_html,
    highlight,
    http_url,
    markdown_html,
    merge_spans,
)

EXCERPT_CHARS = 700  # passages longer than this show a window around the quote
CONTEXT_CHARS = 240  # characters of context either side of the quoted span(s)
CLOSEST_SHOWN = 3

HEADER = (
    "<div><h1>Accord</h1><p>Answers on AI diplomacy and governance &mdash; every claim cited "
    "to a passage you can check.</p></div>"
)


# ---------------------------------------------------------------- sources and passages


def _link(url: str) -> str:
    host = urlparse(url).netloc.removeprefix("www.")
    return (
        f'<a class="accord-link" href="{html.escape(url, quote=True)}" target="_blank" '
        f'rel="noopener noreferrer nofollow" title="{html.escape(url, quote=True)}">'
        f"{html.escape(host)}&nbsp;↗</a>"
    )


def source_links(source: str, metadata: Mapping[str, Any] | None = None) -> str:
    """The document's URL (or the local file's name) and the first reference it declares."""
    metadata = metadata or {}
    parts = []
    url = http_url(source)
    if url:
        parts.append(_link(url))
    elif source:
        name = Path(str(source)).name
        parts.append(f'<span class="accord-file" title="local file">{html.escape(name)}</span>')
    refs = metadata.get("sources") or []
    if isinstance(refs, str):
        refs = [refs]
    refs = [u for u in (http_url(r) for r in refs if isinstance(r, str)) if u and u != url]
    if refs:
        more = f' <span class="accord-more-refs">+{len(refs) - 1}</span>' if len(refs) > 1 else ""
        parts.append(_link(refs[0]) + more)
    return " · ".join(parts)


def _window(passage: str, spans: list[tuple[int, int]]) -> tuple[int, int]:
    """The part of a long passage to show: the quoted spans with context, cut at spaces."""
    if spans:
        lo = max(0, spans[0][0] - CONTEXT_CHARS)
        hi = min(len(passage), spans[-1][1] + CONTEXT_CHARS)
    else:
        lo, hi = 0, min(len(passage), EXCERPT_CHARS // 2)
    if lo > 0:
        cut = passage.find(" ", lo)
        lo = cut + 1 if 0 <= cut < (spans[0][0] if spans else hi) else lo
    if hi < len(passage):
        cut = passage.rfind(" ", spans[-1][1] if spans else lo, hi)
        hi = cut if cut > lo else hi
    return lo, hi


def passage_html(passage: str, spans: Sequence[tuple[int, int]]) -> str:
    """The cited passage, quoted spans highlighted; long passages show a window around them
    with the whole passage one click away."""
    spans = merge_spans(spans, len(passage))
    if len(passage) <= EXCERPT_CHARS:
        return f'<div class="accord-passage">{highlight(passage, spans)}</div>'
    lo, hi = _window(passage, spans)
    window = highlight(passage[lo:hi], [(s - lo, e - lo) for s, e in spans])
    lead = "… " if lo > 0 else ""
    tail = " …" if hi < len(passage) else ""
    return (
        f'<div class="accord-passage">{lead}{window}{tail}</div>'
        '<details class="accord-whole"><summary>Show the whole passage</summary>'
        f'<div class="accord-passage">{highlight(passage, spans)}</div></details>'
    )


def _card(
    item: Mapping[str, Any],
    card_id: str,
    number: str,
    body: str,
    refs_from: Mapping[str, Any] | None = None,
    closest: bool = False,
) -> str:
    """A source card: number, title, issuer · date · links, then the passage. The document's
    references (``sources``) are read from ``refs_from``, or from ``item`` itself."""
    bits = []
    if item.get("issuer"):
        bits.append(f'<span class="accord-issuer">{esc(item["issuer"])}</span>')
    if item.get("date"):
        bits.append(f'<span class="accord-date">{esc(item["date"])}</span>')
    if item.get("section"):
        bits.append(f'<span class="accord-section">{esc(item["section"])}</span>')
    refs = item if refs_from is None else refs_from
    links = source_links(str(item.get("source") or ""), refs)
    if links:
        bits.append(links)
    meta = f'<div class="accord-meta">{" · ".join(bits)}</div>' if bits else ""
    kind = "accord-card accord-closest" if closest else "accord-card"
    num = "accord-num accord-num-muted" if closest else "accord-num"
    return (
        f'<article class="{kind}" id="{card_id}">'
        f'<div class="accord-card-head"><span class="{num}">{number}</span>'
        f'<span class="accord-title">{esc(item.get("title") or item["doc_id"])}</span></div>'
        f"{meta}{body}</article>"
    )


def citation_card(
    citation: Mapping[str, Any], uid: str, passage: Mapping[str, Any] | None = None
) -> str:
    """Card n of answer ``uid``: the cited passage with the quote marked; ``passage`` (the
    closest passage it came from) adds the document's references."""
    number = int(citation["number"])
    text = str(citation.get("passage") or citation.get("quote") or "")
    offset = int(citation.get("passage_start") or 0)
    spans = [(int(s) - offset, int(e) - offset) for s, e in citation.get("spans") or []]
    quote = citation.get("quote")
    if not spans and quote and quote in text:
        at = text.index(quote)
        spans = [(at, at + len(quote))]
    body = passage_html(text, spans)
    return _card(citation, f"{uid}-{number}", str(number), body, passage or {})


def closest_card(passage: Mapping[str, Any], uid: str, rank: int) -> str:
    """A passage (``Passage.to_dict()``) shown when the bot abstained, nothing highlighted."""
    body = passage_html(str(passage.get("text") or ""), [])
    return _card(passage, f"{uid}-p{rank}", str(rank), body, closest=True)


# ---------------------------------------------------------------- messages


def answer_text_html(
    text: str,
    uid: str,
    tips: Mapping[int, str] | None = None,
    flags: Sequence[tuple[int, int, str]] = (),
) -> str:
    """The answer's markdown as HTML, each [n] marker a link to card n of this answer, each
    ``flags`` span (a sentence its citation does not support) marked with its reason."""
    body = (
        flagged_markdown_html(text, flags, uid, tips) if flags else markdown_html(text, uid, tips)
    )
    return f'<div class="accord-text">{body}</div>'


def _flags(answer: Mapping[str, Any]) -> list[tuple[int, int, str]]:
    return [
        (int(s["start"]), int(s["end"]), str(s.get("reason") or "not supported"))
        for s in answer.get("sentences") or []
        if not s.get("supported")
    ]


def verification_html(answer: Mapping[str, Any]) -> str:
    """What the check of each sentence against its citation found: a quiet line when every
    sentence holds, else each unsupported sentence with the reason (and what strict mode
    removed)."""
    checked = answer.get("sentences") or []
    dropped = answer.get("dropped") or []
    if not checked and not dropped:
        return ""
    bad = [s for s in checked if not s.get("supported")]
    ok = len(checked) - len(bad)
    found = sum(1 for s in checked if s.get("attributed"))
    note = (
        f" The model cited no source for {found} of them; Accord found the passage that "
        "states each one."
        if found
        else ""
    )
    if not bad and not dropped:
        return (
            '<div class="accord-verify accord-verify-ok">✓ Every sentence checked against the '
            f"passage it cites.{esc(note)}</div>"
        )
    items = "".join(
        f"<li><q>{esc(s.get('text', ''))}</q> — {esc(s.get('reason', ''))}</li>" for s in bad
    )
    removed = "".join(
        f"<li><q>{esc(s.get('text', ''))}</q> — {esc(s.get('reason', ''))}</li>" for s in dropped
    )
    parts = []
    if bad:
        parts.append(
            f"<strong>{len(bad)} of {len(checked)} sentences not verified</strong> "
            f"(marked in the answer; {ok} verified).{esc(note)}<ul>{items}</ul>"
        )
    if removed:
        parts.append(
            f"<strong>Strict mode removed {len(dropped)} sentence"
            f"{'s' if len(dropped) != 1 else ''}</strong> its citations did not support:"
            f"<ul>{removed}</ul>"
        )
    return f'<div class="accord-verify accord-verify-warn" role="note">{"".join(parts)}</div>'


def _foot(answer: Mapping[str, Any]) -> str:
    """Who wrote the answer, how it checked out, how the question was searched, how long."""
    bits = []
    mode = str(answer.get("mode") or "")
    model = str(answer.get("model") or "")
    if mode:
        bits.append(
            f'<span class="accord-mode">{esc(mode)}{" · " + esc(model) if model else ""}</span>'
        )
    checked = answer.get("sentences") or []
    if checked:
        ok = sum(1 for s in checked if s.get("supported"))
        bits.append(f"{ok}/{len(checked)} sentences verified")
    seconds = (answer.get("timings") or {}).get("total")
    if seconds is not None:
        bits.append(f"{float(seconds):.1f} s")
    foot = f'<div class="accord-foot">{" · ".join(bits)}</div>' if bits else ""
    if answer.get("standalone"):
        foot += (
            f'<div class="accord-standalone">Searched as: <q>{esc(answer["standalone"])}</q></div>'
        )
    return foot


def question_html(text: str) -> str:
    return f'<div class="accord-q">{esc(text)}</div>'


def streaming_html(text: str, uid: str, chip: str) -> str:
    """The answer while it arrives (a placeholder before the first words)."""
    body = (
        answer_text_html(text, uid)
        if text.strip()
        else '<div class="accord-text"><p class="accord-working">Searching the documents…</p></div>'
    )
    return f'<div class="accord-answer accord-streaming" id="{uid}">{chip}{body}</div>'


def _abstained_html(answer: Mapping[str, Any], uid: str, chip: str) -> str:
    closest = answer.get("closest") or []
    cards = "".join(closest_card(p, uid, i) for i, p in enumerate(closest[:CLOSEST_SHOWN], 1))
    found = (
        '<div class="accord-sources"><div class="accord-sources-title">'
        f"Closest passages found (not enough to answer)</div>{cards}</div>"
        if cards
        else ""
    )
    return (
        f'<div class="accord-answer accord-abstained" id="{uid}">{chip}'
        '<div class="accord-abstain-note"><strong>No answer in the indexed documents.</strong> '
        f"{esc(answer.get('text', ''))}</div>{found}</div>"
    )


def answer_html(answer: Mapping[str, Any], uid: str, chip: str = "") -> str:
    """The final message for ``Answer.to_dict()``: text with markers and its source cards, or
    the abstention with the closest passages."""
    if answer.get("abstained"):
        return _abstained_html(answer, uid, chip)
    citations = answer.get("citations") or []
    passages = {p.get("chunk_id"): p for p in answer.get("closest") or []}
    tips = {
        int(c["number"]): f"{c.get('title', '')}: {c.get('quote', '')}".strip(": ")
        for c in citations
    }
    cards = "".join(citation_card(c, uid, passages.get(c.get("chunk_id"))) for c in citations)
    sources = (
        f'<div class="accord-sources"><div class="accord-sources-title">Sources</div>{cards}</div>'
        if cards
        else ""
    )
    text = answer_text_html(answer.get("text", ""), uid, tips, _flags(answer))
    return (
        f'<div class="accord-answer" id="{uid}">{chip}'
        f"{text}{verification_html(answer)}{policy_html(answer, uid)}{sources}{_foot(answer)}</div>"
    )


def _cite(number: Any, uid: str) -> str:
    n = int(number)
    return f'<a class="accord-cite" href="#{uid}-{n}" data-n="{n}">[{n}]</a>'


def timeline_html(events: Sequence[Mapping[str, Any]], uid: str) -> str:
    """The dated events of a timeline answer, in date order, each linked to its source card."""
    if not events:
        return ""
    items = "".join(
        f'<li><span class="accord-when">{esc(e["date"])}</span> {esc(e["text"])} '
        f"{_cite(e['citation'], uid)}</li>"
        for e in events
    )
    return (
        '<div class="accord-timeline"><div class="accord-sources-title">Timeline</div>'
        f"<ol>{items}</ol></div>"
    )


def comparison_html(table: Mapping[str, Any] | None, uid: str) -> str:
    """A comparison answer's table: one column per instrument, one row per aspect."""
    if not table:
        return ""
    head = "".join(f"<th>{esc(name)}</th>" for name in table["instruments"])
    rows = []
    for aspect, cells in zip(table["aspects"], table["rows"], strict=True):
        tds = "".join(
            f"<td>{esc(c['text'])} {_cite(c['citation'], uid)}</td>"
            if c.get("citation")
            else f'<td class="accord-not-stated">{esc(c["text"])}</td>'
            for c in cells
        )
        rows.append(f"<tr><th>{esc(aspect)}</th>{tds}</tr>")
    return (
        '<div class="accord-comparison"><table><thead><tr><th></th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def policy_html(answer: Mapping[str, Any], uid: str) -> str:
    """What a policy reader gets beyond the text: a timeline or a comparison table."""
    return timeline_html(answer.get("timeline") or [], uid) + comparison_html(
        answer.get("comparison"), uid
    )


def error_html(message: str) -> str:
    return (
        '<div class="accord-error" role="alert"><strong>Could not answer:</strong> '
        f"{esc(message)}</div>"
    )


# ---------------------------------------------------------------- filters, status, uploads


def filters_summary(filters: Mapping[str, Any], titles: Mapping[str, str] | None = None) -> str:
    """'issuer European Union · from 2024-01-01' — plain text, escape before display."""
    titles = titles or {}
    bits = []
    if filters.get("issuers"):
        label = "issuer" if len(filters["issuers"]) == 1 else "issuers"
        bits.append(f"{label} {', '.join(filters['issuers'])}")
    if filters.get("date_from"):
        bits.append(f"from {filters['date_from']}")
    if filters.get("date_to"):
        bits.append(f"to {filters['date_to']}")
    if filters.get("as_of"):
        bits.append(f"as of {filters['as_of']}")
    if filters.get("doc_ids"):
        names = [titles.get(d, d) for d in filters["doc_ids"]]
        label = "document" if len(names) == 1 else "documents"
        bits.append(f"{label} {'; '.join(names)}")
    return " · ".join(bits)


def filters_chip(filters: Mapping[str, Any], titles: Mapping[str, str]) -> str:
    """The note on an answer saying which filters it was answered under."""
    summary = filters_summary(filters, titles)
    if not summary:
        return ""
    return f'<div class="accord-filters-used">Filtered: {esc(summary)}</div>'


def active_filters_html(summary: str = "", error: str = "") -> str:
    """The banner above the question box: the filters the next question will use."""
    if error:
        return f'<div class="accord-banner accord-error">{esc(error)}</div>'
    if not summary:
        return ""
    return (
        '<div class="accord-banner"><strong>Filters on</strong> for the next question: '
        f"{esc(summary)}</div>"
    )


def status_html(status: Mapping[str, Any]) -> str:
    docs, chunks = int(status.get("documents") or 0), int(status.get("chunks") or 0)
    if not docs:
        return (
            '<div class="accord-status accord-status-empty">The index is empty: add documents '
            "below or run <code>python ingest.py</code>.</div>"
        )
    when = status.get("last_ingest") or "never"
    return (
        f'<div class="accord-status"><span>{docs:,} document{"s" if docs != 1 else ""}</span>'
        f" · <span>{chunks:,} chunks</span> · <span>last ingest {esc(when)}</span></div>"
    )


def upload_results_html(rows: Sequence[tuple[str, str, str]]) -> str:
    """rows: (file name, outcome, detail); outcome is added/updated/unchanged/failed."""
    if not rows:
        return ""
    body = "".join(
        f'<tr class="accord-up-{html.escape(outcome)}"><td>{esc(name)}</td>'
        f"<td>{'✗ failed' if outcome == 'failed' else '✓ ' + html.escape(outcome)}</td>"
        f"<td>{esc(detail)}</td></tr>"
        for name, outcome, detail in rows
    )
    ok = sum(1 for _, o, _ in rows if o != "failed")
    failed = len(rows) - ok
    head = f"{ok} of {len(rows)} file{'s' if len(rows) != 1 else ''} indexed"
    if failed:
        head += f"; {failed} failed"
    return (
        f'<div class="accord-upload-result"><div class="accord-upload-head">{head}</div>'
        f"<table><thead><tr><th>File</th><th>Result</th><th>Details</th></tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
    )

"""Text to safe HTML: escaping, the markdown answers and documents use, highlighted spans.

Markdown is rendered by markdown-it-py (CommonMark) with raw HTML off, so every tag in a
document or answer is shown as text; its own link check refuses ``javascript:``, ``data:`` and
the like, and :func:`_safe_links` then keeps a link's target only when it is http(s) (other
links and every image become their text: nothing is fetched). Indented code, fences and
reference definitions are off: answers and passages are prose, and a ``[1]: url`` line in a
document must not turn citation markers into links.

Nothing rendered here holds a newline, so a chat message stays one HTML block that the chat's
own markdown renderer never re-reads.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from typing import Any
from urllib.parse import urlparse

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

OPEN, CLOSE = "\ue000", "\ue001"  # a quoted span's edges while its passage is rendered
FLAG_OPEN, FLAG_CLOSE = "\ue002", "\ue003"  # an unchecked answer sentence's edges
MARK_OPEN, MARK_CLOSE = '<mark class="accord-quote">', "</mark>"
_PIECES = re.compile(f"(<[^>]*>|{OPEN}|{CLOSE})")
_BLOCK_TAG = re.compile(r"</?(?:p|ul|ol|li|h[1-6]|blockquote|table|tr|td|th)\b")
_FLAG_PIECES = re.compile(f"(<[^>]*>|{FLAG_OPEN}|{FLAG_CLOSE})")
_HEADING = re.compile(rf"([\s{OPEN}{CLOSE}]*)#{{1,6}}[ \t]+(.*)")
_CITE = re.compile(r"\[(\d{1,3})\]")


def esc(text: Any) -> str:
    """Escape text for HTML and turn newlines into <br> (a message must hold no blank line)."""
    out = html.escape(str(text), quote=True)
    out = re.sub(r"\n{3,}", "\n\n", out.replace("\r", ""))
    return out.replace("\n", "<br>")


def http_url(value: Any) -> str:
    """``value`` when it is an absolute http(s) URL, else ""."""
    if not isinstance(value, str):
        return ""
    parsed = urlparse(value.strip())
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return value.strip()
    return ""


# ---------------------------------------------------------------- the markdown renderer


def _link_filter(tokens: Iterable[Token]) -> Iterator[Token]:
    """http(s) links open in a new tab; other links and every image become their text."""
    kept: list[bool] = []
    for token in tokens:
        if token.type == "link_open":
            kept.append(bool(http_url(str(token.attrGet("href") or ""))))
            if not kept[-1]:
                continue
            token.attrSet("class", "accord-link")
            token.attrSet("target", "_blank")
            token.attrSet("rel", "noopener noreferrer nofollow")
        elif token.type == "link_close" and not kept.pop():
            continue
        elif token.type == "image":
            yield from _link_filter(token.children or [])
            continue
        yield token


def _safe_links(state: StateCore) -> None:
    for token in state.tokens:
        if token.type == "inline" and token.children:
            token.children = list(_link_filter(token.children))


def _text(self, tokens: Sequence[Token], idx: int, options, env: Mapping[str, Any]) -> str:
    """Escaped text; with a ``uid`` in env each [n] becomes a link to card n of that answer."""
    out = escapeHtml(tokens[idx].content)
    uid = env.get("uid") if env else ""
    if not uid:
        return out
    tips = env.get("tips") or {}

    def marker(match: re.Match) -> str:
        n = int(match.group(1))
        tip = html.escape(tips.get(n, f"Source {n}"), quote=True)
        return (
            f'<a class="accord-cite" href="#{uid}-{n}" title="{tip}" '
            f'aria-label="source {n}">[{n}]</a>'
        )

    return _CITE.sub(marker, out)


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "xhtmlOut": False})
    md.disable(["code", "fence", "reference"])
    md.core.ruler.push("accord_links", _safe_links)
    md.add_render_rule("text", _text)
    return md


def markdown_html(text: str, uid: str = "", tips: Mapping[int, str] | None = None) -> str:
    """Markdown (paragraphs, lists, emphasis, links) as HTML; with ``uid`` each [n] marker
    links to card n of that answer, titled with ``tips[n]``."""
    return _markdown().render(text, {"uid": uid, "tips": tips or {}}).replace("\n", "")


def flagged_markdown_html(
    text: str,
    flags: Sequence[tuple[int, int, str]],
    uid: str = "",
    tips: Mapping[int, str] | None = None,
) -> str:
    """:func:`markdown_html` with each ``(start, end, reason)`` span of ``text`` wrapped in a
    span marked as not supported by its citation, the reason as its tooltip."""
    text = re.sub(f"[{FLAG_OPEN}{FLAG_CLOSE}]", "\ufffd", text)
    pieces, pos = [], 0
    for s, e, _ in sorted(flags):
        if s < pos:
            continue
        pieces += [text[pos:s], FLAG_OPEN, text[s:e], FLAG_CLOSE]
        pos = e
    pieces.append(text[pos:])
    rendered = markdown_html("".join(pieces), uid, tips)
    reasons = iter(html.escape(r, quote=True) for _, _, r in sorted(flags))
    out, tag = [], ""
    for piece in _FLAG_PIECES.split(rendered):
        if piece == FLAG_OPEN:
            tag = f'<span class="accord-unsupported" title="Not verified: {next(reasons, "")}">'
            out.append(tag)
        elif piece == FLAG_CLOSE:
            out.append("</span>" if tag else "")
            tag = ""
        elif tag and _BLOCK_TAG.match(piece):
            out += ["</span>", piece, tag]  # a span never crosses a paragraph or list item
        else:
            out.append(piece)
    return re.sub(r'<span class="accord-unsupported" title="[^"]*"></span>', "", "".join(out))


# ---------------------------------------------------------------- passages with quoted spans


def merge_spans(spans: Sequence[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Spans clipped to ``[0, length)``, sorted, overlaps merged, empty ones dropped."""
    clipped = sorted((max(0, s), min(length, e)) for s, e in spans if e > s)
    merged: list[tuple[int, int]] = []
    for s, e in clipped:
        if s >= e:
            continue
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _passage_line(line: str) -> str:
    """One line of a passage, inline markdown only; '## Timeline' becomes a small heading."""
    heading = _HEADING.fullmatch(line)
    if heading:
        edges = re.sub(r"\s", "", heading.group(1))
        text = _markdown().renderInline(heading.group(2))
        return f'{edges}<span class="accord-h">{text}</span>'
    return _markdown().renderInline(line)


def _marks(rendered: str) -> str:
    """Span edges to <mark> tags, closed and reopened around every tag in between so each
    mark sits inside one element (a quote may start in bold text or run over a line break)."""
    out, inside = [], False
    for piece in _PIECES.split(rendered):
        if piece == OPEN:
            out.append("" if inside else MARK_OPEN)
            inside = True
        elif piece == CLOSE:
            out.append(MARK_CLOSE if inside else "")
            inside = False
        elif inside and piece.startswith("<"):
            out += [MARK_CLOSE, piece, MARK_OPEN]
        else:
            out.append(piece)
    if inside:
        out.append(MARK_CLOSE)
    return "".join(out).replace(MARK_OPEN + MARK_CLOSE, "")


def highlight(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with its inline markdown rendered and each span (offsets into ``text``)
    marked; its lines are joined by single line breaks (blank lines dropped) to keep cards
    compact."""
    text = text.replace(OPEN, "\ufffd").replace(CLOSE, "\ufffd")
    pieces, pos = [], 0
    for s, e in merge_spans(spans, len(text)):
        pieces += [text[pos:s], OPEN, text[s:e], CLOSE]
        pos = e
    pieces.append(text[pos:])
    lines, carry = [], ""
    for line in "".join(pieces).replace("\r", "").split("\n"):
        if not line.strip(f" \t{OPEN}{CLOSE}"):
            carry += re.sub(f"[^{OPEN}{CLOSE}]", "", line)  # keep a blank line's span edges
            continue
        lines.append(_passage_line(carry + line))
        carry = ""
    return _marks("<br>".join(lines) + carry)

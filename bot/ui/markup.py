"""Text to safe HTML: escaping, the markdown the documents use, and highlighted spans.

Every piece of document or user text goes through :func:`esc` (or the markdown renderer, which
escapes too) before any markup is added; links keep their target only when it is http(s).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse


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


def _headings(rendered: str) -> str:
    """'## Timeline' inside a quoted passage reads better as a small heading line."""
    return re.sub(r"(^|<br>)[ \t]*#{1,6} ([^<]*)", r'\1<span class="accord-h">\2</span>', rendered)


_MD_IMAGE = re.compile(r"!\[([^\]<>]*)\]\(([^()\s<>]*)\)")
_MD_LINK = re.compile(r"\[([^\]<>]+)\]\(([^()\s<>]+)\)")
_MD_BOLD = re.compile(r"\*\*(?=\S)([^*<>]+?)(?<=\S)\*\*")
_MD_EM = re.compile(r"(?<![\w*])\*(?=\S)([^*<>]+?)(?<=\S)\*(?![\w*])")
_MD_CODE = re.compile(r"`([^`<>]+)`")


def inline_markdown(escaped: str) -> str:
    """Emphasis (``**`` and ``*`` only: underscores occur in identifiers), code and links from
    markdown sources, on text that is already escaped.

    Only fixed tags are added; an image becomes its alt text (nothing is fetched) and a link
    keeps its target only when it is http(s). Pairs that would straddle a tag stay literal.
    """

    def link(match: re.Match) -> str:
        url = http_url(html.unescape(match.group(2)))
        if not url:
            return match.group(1)
        return (
            f'<a class="accord-link" href="{html.escape(url, quote=True)}" target="_blank" '
            f'rel="noopener noreferrer nofollow">{match.group(1)}</a>'
        )

    out = _MD_IMAGE.sub(lambda m: m.group(1), escaped)
    out = _MD_LINK.sub(link, out)
    out = _MD_CODE.sub(r"<code>\1</code>", out)
    out = _MD_BOLD.sub(r"<strong>\1</strong>", out)
    return _MD_EM.sub(r"<em>\1</em>", out)


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


def highlight(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """Escaped ``text`` with each span (offsets into ``text``) wrapped in <mark>; blank lines
    between paragraphs become single line breaks to keep cards compact."""
    out, pos = [], 0
    for s, e in merge_spans(spans, len(text)):
        out.append(esc(text[pos:s]))
        out.append(f'<mark class="accord-quote">{esc(text[s:e])}</mark>')
        pos = e
    out.append(esc(text[pos:]))
    rendered = re.sub(r"<br>(?:[ \t]*<br>)+", "<br>", "".join(out))
    return _headings(inline_markdown(rendered))

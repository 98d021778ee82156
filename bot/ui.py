"""The chat page: a Gradio Blocks app over :class:`bot.Bot`.

Everything shown in the chat is HTML built here from escaped text: answers, questions, source
cards and passages are passed through :func:`html.escape` before any markup is added, and each
chat message is one HTML block with no blank line in it, so the chat's markdown renderer never
interprets document text (no markdown images fetched from remote hosts, no raw tags). Gradio's
own sanitizer stays on as a second layer.

The page logic lives in :class:`ChatPage` (plain Python, testable without a server); gradio is
imported only inside :func:`build_app` and :func:`launch`.
"""

import datetime as dt
import html
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bot.errors import AccordError
from bot.feedback import record_answer_feedback
from bot.retrieval import Filters
from bot.sources import LOADERS

log = logging.getLogger(__name__)

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

SYSTEM_FONTS = (
    "system-ui",
    "-apple-system",
    "Segoe UI",
    "Roboto",
    "Helvetica Neue",
    "Arial",
    "Noto Sans",
    "Liberation Sans",
    "sans-serif",
)
MONO_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace")

# First-visit questions for the shipped corpus (build_app/launch take others).
EXAMPLES = (
    "What are AI safety institutes?",
    "What is the Council of Europe Framework Convention on AI?",
    "What is the G7 Hiroshima AI Process?",
    "What did Sam Altman propose in 2026?",
)

UPLOAD_SUFFIXES = tuple(LOADERS)  # the file types ingest can read
EXCERPT_CHARS = 700  # passages longer than this show a window around the quote
CONTEXT_CHARS = 240  # characters of context either side of the quoted span(s)
CLOSEST_SHOWN = 3
_CITE = re.compile(r"\[(\d{1,3})\]")


# --------------------------------------------------------------------------- rendering
# Pure functions: text in, HTML out. Every piece of document or user text goes through _esc.


def _esc(text: Any) -> str:
    """Escape text for HTML and turn newlines into <br> (a message must hold no blank line)."""
    out = html.escape(str(text), quote=True)
    out = re.sub(r"\n{3,}", "\n\n", out.replace("\r", ""))
    return out.replace("\n", "<br>")


def _headings(rendered: str) -> str:
    """'## Timeline' inside a quoted passage reads better as a small heading line."""
    return re.sub(r"(^|<br>)[ \t]*#{1,6} ([^<]*)", r'\1<span class="accord-h">\2</span>', rendered)


_MD_IMAGE = re.compile(r"!\[([^\]<>]*)\]\(([^()\s<>]*)\)")
_MD_LINK = re.compile(r"\[([^\]<>]+)\]\(([^()\s<>]+)\)")
_MD_BOLD = re.compile(r"\*\*(?=\S)([^*<>]+?)(?<=\S)\*\*")
_MD_EM = re.compile(r"(?<![\w*])\*(?=\S)([^*<>]+?)(?<=\S)\*(?![\w*])")
_MD_CODE = re.compile(r"`([^`<>]+)`")


def _inline_markdown(escaped: str) -> str:
    """Emphasis (``**`` and ``*`` only: underscores occur in identifiers), code and links from
    markdown sources, on text that is already escaped.

    Only fixed tags are added; an image becomes its alt text (nothing is fetched) and a link
    keeps its target only when it is http(s). Pairs that would straddle a tag stay literal.
    """

    def link(match: re.Match) -> str:
        url = _http_url(html.unescape(match.group(2)))
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


def _http_url(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    parsed = urlparse(value.strip())
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return value.strip()
    return ""


def _link(url: str) -> str:
    host = urlparse(url).netloc.removeprefix("www.")
    return (
        f'<a class="accord-link" href="{html.escape(url, quote=True)}" target="_blank" '
        f'rel="noopener noreferrer nofollow" title="{html.escape(url, quote=True)}">'
        f"{html.escape(host)}&nbsp;↗</a>"
    )


def source_links(source: str, metadata: dict[str, Any] | None = None) -> str:
    """The document's URL (or the local file's name) and the first reference it declares."""
    metadata = metadata or {}
    parts = []
    url = _http_url(source)
    if url:
        parts.append(_link(url))
    elif source:
        name = Path(str(source)).name
        parts.append(f'<span class="accord-file" title="local file">{html.escape(name)}</span>')
    refs = metadata.get("sources") or []
    if isinstance(refs, str):
        refs = [refs]
    refs = [u for u in (_http_url(r) for r in refs if isinstance(r, str)) if u and u != url]
    if refs:
        more = f' <span class="accord-more-refs">+{len(refs) - 1}</span>' if len(refs) > 1 else ""
        parts.append(_link(refs[0]) + more)
    return " · ".join(parts)


def _merge(spans: Sequence[tuple[int, int]], length: int) -> list[tuple[int, int]]:
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
    for s, e in _merge(spans, len(text)):
        out.append(_esc(text[pos:s]))
        out.append(f'<mark class="accord-quote">{_esc(text[s:e])}</mark>')
        pos = e
    out.append(_esc(text[pos:]))
    rendered = re.sub(r"<br>(?:[ \t]*<br>)+", "<br>", "".join(out))
    return _headings(_inline_markdown(rendered))


def passage_html(passage: str, spans: Sequence[tuple[int, int]]) -> str:
    """The cited passage, quoted spans highlighted; long passages show a window around them
    with the whole passage one click away."""
    spans = _merge(spans, len(passage))
    if len(passage) <= EXCERPT_CHARS:
        return f'<div class="accord-passage">{highlight(passage, spans)}</div>'
    if spans:
        lo = max(0, spans[0][0] - CONTEXT_CHARS)
        hi = min(len(passage), spans[-1][1] + CONTEXT_CHARS)
    else:
        lo, hi = 0, min(len(passage), EXCERPT_CHARS // 2)
    if lo > 0:  # start and end on word boundaries
        cut = passage.find(" ", lo)
        lo = cut + 1 if 0 <= cut < (spans[0][0] if spans else hi) else lo
    if hi < len(passage):
        cut = passage.rfind(" ", spans[-1][1] if spans else lo, hi)
        hi = cut if cut > lo else hi
    window = highlight(passage[lo:hi], [(s - lo, e - lo) for s, e in spans])
    lead = "… " if lo > 0 else ""
    tail = " …" if hi < len(passage) else ""
    return (
        f'<div class="accord-passage">{lead}{window}{tail}</div>'
        '<details class="accord-whole"><summary>Show the whole passage</summary>'
        f'<div class="accord-passage">{highlight(passage, spans)}</div></details>'
    )


def _meta_line(issuer: str, date: str, links: str) -> str:
    bits = []
    if issuer:
        bits.append(f'<span class="accord-issuer">{_esc(issuer)}</span>')
    if date:
        bits.append(f'<span class="accord-date">{_esc(date)}</span>')
    if links:
        bits.append(links)
    return f'<div class="accord-meta">{" · ".join(bits)}</div>' if bits else ""


def citation_card(citation: dict[str, Any], uid: str, metadata: dict | None = None) -> str:
    """One source card: number, title, issuer, date, link, passage with the quote marked."""
    number = int(citation["number"])
    passage = str(citation.get("passage") or citation.get("quote") or "")
    offset = int(citation.get("passage_start") or 0)
    spans = [(int(s) - offset, int(e) - offset) for s, e in citation.get("spans") or []]
    if not spans and citation.get("quote") and citation["quote"] in passage:
        at = passage.index(citation["quote"])
        spans = [(at, at + len(citation["quote"]))]
    links = source_links(str(citation.get("source") or ""), metadata)
    return (
        f'<article class="accord-card" id="{uid}-{number}">'
        f'<div class="accord-card-head"><span class="accord-num">{number}</span>'
        f'<span class="accord-title">{_esc(citation.get("title") or citation["doc_id"])}</span>'
        "</div>"
        f"{_meta_line(str(citation.get('issuer') or ''), str(citation.get('date') or ''), links)}"
        f"{passage_html(passage, spans)}"
        "</article>"
    )


def closest_card(passage: dict[str, Any], uid: str, rank: int) -> str:
    """A passage (``Passage.to_dict()``) shown when the bot abstained: what it found, nothing
    highlighted."""
    links = source_links(str(passage.get("source") or ""), passage)
    return (
        f'<article class="accord-card accord-closest" id="{uid}-p{rank}">'
        f'<div class="accord-card-head"><span class="accord-num accord-num-muted">{rank}</span>'
        f'<span class="accord-title">{_esc(passage.get("title") or passage["doc_id"])}</span>'
        "</div>"
        f"{_meta_line(str(passage.get('issuer') or ''), str(passage.get('date') or ''), links)}"
        f"{passage_html(str(passage.get('text') or ''), [])}"
        "</article>"
    )


def answer_text_html(text: str, uid: str, tips: dict[int, str] | None = None) -> str:
    """Escaped answer text in paragraphs, each [n] marker a link to card n of this answer."""
    tips = tips or {}

    def marker(match: re.Match) -> str:
        n = int(match.group(1))
        tip = html.escape(tips.get(n, f"Source {n}"), quote=True)
        return (
            f'<a class="accord-cite" href="#{uid}-{n}" title="{tip}" '
            f'aria-label="source {n}">[{n}]</a>'
        )

    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    body = "".join(f"<p>{_CITE.sub(marker, _inline_markdown(_esc(p)))}</p>" for p in paragraphs)
    return f'<div class="accord-text">{body}</div>'


def filters_summary(filters: dict[str, Any], titles: dict[str, str] | None = None) -> str:
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
    if filters.get("doc_ids"):
        names = [titles.get(d, d) for d in filters["doc_ids"]]
        label = "document" if len(names) == 1 else "documents"
        bits.append(f"{label} {'; '.join(names)}")
    return " · ".join(bits)


def _filters_chip(filters: dict[str, Any], titles: dict[str, str]) -> str:
    summary = filters_summary(filters, titles)
    if not summary:
        return ""
    return f'<div class="accord-filters-used">Filtered: {_esc(summary)}</div>'


def question_html(text: str) -> str:
    return f'<div class="accord-q">{_esc(text)}</div>'


def streaming_html(text: str, uid: str, chip: str) -> str:
    body = (
        answer_text_html(text, uid)
        if text.strip()
        else (
            '<div class="accord-text"><p class="accord-working">Searching the documents…</p></div>'
        )
    )
    return f'<div class="accord-answer accord-streaming" id="{uid}">{chip}{body}</div>'


def answer_html(answer: dict[str, Any], uid: str, chip: str = "") -> str:
    """The final message: answer text with markers and its source cards, or the abstention."""
    if answer.get("abstained"):
        closest = answer.get("closest") or []
        cards = "".join(
            closest_card(p, uid, i) for i, p in enumerate(closest[:CLOSEST_SHOWN], start=1)
        )
        found = (
            '<div class="accord-sources"><div class="accord-sources-title">'
            "Closest passages found (not enough to answer)</div>"
            f"{cards}</div>"
            if cards
            else ""
        )
        return (
            f'<div class="accord-answer accord-abstained" id="{uid}">{chip}'
            '<div class="accord-abstain-note"><strong>No answer in the indexed documents.</strong> '
            f"{_esc(answer.get('text', ''))}</div>{found}</div>"
        )
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
    seconds = (answer.get("timings") or {}).get("total")
    foot = ""
    if seconds is not None:
        foot = (
            f'<div class="accord-foot">{_esc(answer.get("mode", ""))} · '
            f"{float(seconds):.1f} s</div>"
        )
    return (
        f'<div class="accord-answer" id="{uid}">{chip}'
        f"{answer_text_html(answer.get('text', ''), uid, tips)}{sources}{foot}</div>"
    )


def error_html(message: str) -> str:
    return (
        '<div class="accord-error" role="alert"><strong>Could not answer:</strong> '
        f"{_esc(message)}</div>"
    )


def status_html(status: dict[str, Any]) -> str:
    docs, chunks = int(status.get("documents") or 0), int(status.get("chunks") or 0)
    if not docs:
        return (
            '<div class="accord-status accord-status-empty">The index is empty: add documents '
            "below or run <code>python ingest.py</code>.</div>"
        )
    when = status.get("last_ingest") or "never"
    return (
        f'<div class="accord-status"><span>{docs:,} document{"s" if docs != 1 else ""}</span>'
        f" · <span>{chunks:,} chunks</span> · <span>last ingest {_esc(when)}</span></div>"
    )


def upload_results_html(rows: Sequence[tuple[str, str, str]]) -> str:
    """rows: (file name, outcome, detail); outcome is added/updated/unchanged/failed."""
    if not rows:
        return ""
    body = "".join(
        f'<tr class="accord-up-{html.escape(outcome)}"><td>{_esc(name)}</td>'
        f"<td>{'✗ failed' if outcome == 'failed' else '✓ ' + html.escape(outcome)}</td>"
        f"<td>{_esc(detail)}</td></tr>"
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


def safe_filename(name: str) -> str:
    """A file name that cannot escape the uploads folder or hide itself."""
    name = Path(str(name).replace("\\", "/")).name
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = re.sub(r"[^A-Za-z0-9._ -]+", "_", stem).strip(" ._-")[:100] or "upload"
    suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix)[:10].lower()
    return f"{stem}.{suffix}" if suffix else stem


# --------------------------------------------------------------------------- page logic


class _ReadWriteLock:
    """Many questions at once, or one ingest: an upload never changes the index under a
    question that is being answered."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    @contextmanager
    def reading(self):
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def writing(self, timeout: float = 300.0):
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._writer or self._readers:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AccordError(
                        "the index is busy answering questions; try the upload again shortly"
                    )
                self._cond.wait(left)
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


def picked_day(value: Any) -> str:
    """A date picker's value as YYYY-MM-DD: datetimes and timestamps become days, a string
    keeps its day (a time after it is dropped); anything else is left for ``Filters.of`` to
    judge."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.date):  # datetime is a date too
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(float(value), dt.UTC).strftime("%Y-%m-%d")
    text = str(value).strip()
    return text[:10] if re.match(r"\d{4}-\d\d-\d\d(?:\D|$)", text) else text


def make_filters(issuers=None, date_from=None, date_to=None, doc_ids=None) -> dict[str, Any]:
    """The filter widgets' values as a filters dict holding only what is set, checked by
    ``Filters.of`` (a bad date raises an AccordError naming it)."""
    filters = Filters.of(
        {
            "issuers": [str(i) for i in issuers or []],
            "date_from": picked_day(date_from),
            "date_to": picked_day(date_to),
            "doc_ids": [str(d) for d in doc_ids or []],
        }
    )
    return {k: v for k, v in asdict(filters).items() if v}


class ChatPage:
    """What the page does, independent of Gradio: each method takes and returns plain data."""

    def __init__(self, bot, examples: Sequence[str] | None = None) -> None:
        self.bot = bot
        self.examples = tuple(examples or EXAMPLES)
        self.lock = _ReadWriteLock()

    @property
    def data_dir(self) -> Path:
        return Path(self.bot.settings.data_dir)

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    # ---- index facts
    def status(self) -> dict[str, Any]:
        status = self.bot.status()
        return {k: status[k] for k in ("documents", "chunks", "last_ingest", "issuers")}

    def document_choices(self) -> list[tuple[str, str]]:
        docs = self.bot.documents()
        return sorted(((d.title or d.doc_id, d.doc_id) for d in docs), key=lambda c: c[0].lower())

    def titles(self) -> dict[str, str]:
        return {doc_id: title for title, doc_id in self.document_choices()}

    # ---- chat
    @staticmethod
    def messages(log_: Sequence[dict]) -> list[dict[str, str]]:
        return [{"role": e["role"], "content": e["html"]} for e in log_]

    @staticmethod
    def history(log_: Sequence[dict]) -> list[dict[str, str]]:
        """The conversation the bot sees: answered turns only, plain text."""
        return [{"role": e["role"], "content": e["text"]} for e in log_ if e.get("ok")]

    def respond(
        self, question: str, log_: list[dict], filters: dict[str, Any] | None = None
    ) -> Iterator[list[dict]]:
        """Yield the conversation log after each change: the question, each streamed piece of
        the answer, then the final answer with its source cards (or the error)."""
        question = " ".join(str(question or "").split())
        log_ = list(log_ or [])
        if not question:
            return
        history = self.history(log_)
        user = {"role": "user", "text": question, "html": question_html(question), "ok": False}
        log_.append(user)
        uid = "a" + uuid.uuid4().hex[:10]
        filters = filters or {}
        chip = _filters_chip(filters, self.titles() if filters.get("doc_ids") else {})
        reply = {
            "role": "assistant",
            "text": "",
            "html": streaming_html("", uid, chip),
            "ok": False,
        }
        log_.append(reply)
        yield log_
        text, answer = "", None
        try:
            for event in self._events(question, history, filters):
                if isinstance(event, str):
                    text += event
                    reply = dict(reply, html=streaming_html(text, uid, chip))
                    log_[-1] = reply
                    yield log_
                else:
                    answer = event
        except AccordError as exc:
            log_[-1] = {
                "role": "assistant",
                "text": str(exc),
                "html": error_html(str(exc)),
                "ok": False,
            }
            yield log_
            return
        except Exception as exc:  # noqa: BLE001 - the page must say something, not hang
            log.exception("answering %r failed", question)
            message = (
                f"something went wrong inside Accord ({type(exc).__name__}); "
                "the details are in the server log"
            )
            log_[-1] = {
                "role": "assistant",
                "text": message,
                "html": error_html(message),
                "ok": False,
            }
            yield log_
            return
        data = answer_data(answer, filters)
        user["ok"] = True
        log_[-1] = {
            "role": "assistant",
            "text": answer.text,
            "ok": True,
            "answer": data,
            "html": answer_html(data, uid, chip),
        }
        yield log_

    def _events(self, question: str, history: list[dict], filters: dict[str, Any]) -> Iterator:
        """The bot's stream with the read lock held while the bot works on the next event and
        released before it is handed on: a reader who stops reading (a closed tab) holds
        nothing, and an upload waits only while an answer is being produced."""
        stream = self.bot.stream(question, history, filters or None)
        try:
            while True:
                with self.lock.reading():
                    event = next(stream, None)
                if event is None:
                    return
                yield event
        finally:
            stream.close()

    # ---- feedback
    def rate(
        self,
        log_: Sequence[dict],
        index: Any,
        liked: Any,
        comment: str = "",
        session: str = "",
    ) -> dict[str, Any] | None:
        """Append a feedback record for the assistant message at ``index``; None when that
        message is not an answer (an error, a question, a stale index)."""
        if isinstance(index, (list, tuple)):
            index = index[0] if index else -1
        try:
            index = int(index)
        except (TypeError, ValueError):
            return None
        if not 0 <= index < len(log_) or "answer" not in log_[index]:
            return None
        return record_answer_feedback(
            self.data_dir,
            log_[index]["answer"],
            rating=liked,
            comment=comment,
            message_index=index,
            kind="comment" if comment else "rating",
            session=session,
        )

    # ---- upload
    def ingest_uploads(self, paths: Sequence[str], progress=None) -> list[tuple[str, str, str]]:
        """Copy each file into <data_dir>/uploads, ingest it, and say what happened to it."""
        rows: list[tuple[str, str, str]] = []
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        paths = [str(p) for p in paths or [] if p]
        for i, path in enumerate(paths):
            original = Path(path).name
            name = safe_filename(original)
            if progress is not None:
                progress((i, len(paths)), desc=f"Indexing {name}", unit="files")
            if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
                rows.append(
                    (
                        original,
                        "failed",
                        f"unsupported file type "
                        f"{Path(name).suffix or '(none)'}; use {', '.join(UPLOAD_SUFFIXES)}",
                    )
                )
                continue
            target = self.uploads_dir / name
            backup = target.read_bytes() if target.exists() else None
            try:
                shutil.copyfile(path, target)
            except OSError as exc:
                rows.append((original, "failed", f"could not be saved ({exc.strerror})"))
                continue
            try:
                with self.lock.writing():
                    report = self.bot.ingest([target], prune=False)
            except AccordError as exc:
                report, error = None, str(exc)
            else:
                error = "; ".join(reason for _, reason in report.failed)
            if report is None or report.failed:
                # Keep uploads/ in step with the index: restore or drop the copy.
                if backup is None:
                    target.unlink(missing_ok=True)
                else:
                    target.write_bytes(backup)
                rows.append((original, "failed", error or "could not be indexed"))
            elif report.added or report.updated:
                outcome = "added" if report.added else "updated"
                doc_id = (report.added or report.updated)[0]
                detail = (
                    f"{report.chunks} chunk{'s' if report.chunks != 1 else ''}, as {doc_id}"
                    if report.chunks
                    else f"as {doc_id}, but no text in it could be indexed"
                )
                rows.append((original, outcome, detail))
            else:
                rows.append((original, "unchanged", "already indexed with the same content"))
        if progress is not None and paths:
            progress((len(paths), len(paths)), desc="Done", unit="files")
        return rows

    # ---- API
    def ask_api(self, question: str, history: Any = None, filters: Any = None) -> dict:
        history = _json_arg(history, "history", list) or []
        filters = _json_arg(filters, "filters", dict) or None
        with self.lock.reading():
            answer = self.bot.ask(question, history, filters)
        return answer_data(answer, asdict(Filters.of(filters)) if filters else {})


def answer_data(answer, filters: dict[str, Any]) -> dict[str, Any]:
    """What the page keeps of an Answer and ``/ask`` returns: ``Answer.to_dict()`` and the
    filters it was answered under."""
    return dict(answer.to_dict(), filters=dict(filters))


def _json_arg(value: Any, name: str, kind: type) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise AccordError(f"{name} is not valid JSON") from None
    if not isinstance(value, kind):
        raise AccordError(f"{name} must be a JSON {'list' if kind is list else 'object'}")
    return value


# --------------------------------------------------------------------------- page assets

CSS = """
#accord-header { align-items: flex-end; gap: 8px 16px; }
#accord-header h1 { font-size: 1.45rem; margin: 0; line-height: 1.2; }
#accord-header p { margin: 2px 0 0; color: var(--body-text-color-subdued); font-size: .92rem; }
.accord-status { font-size: .85rem; color: var(--body-text-color-subdued); text-align: right; }
.accord-status-empty { color: var(--color-accent); }
#accord-chat { min-height: 360px; }
#accord-chat .message-content { overflow-wrap: anywhere; }
.accord-q { white-space: normal; }
.accord-text p { margin: 0 0 .55em; line-height: 1.55; }
.accord-text p:last-child { margin-bottom: 0; }
.accord-working { color: var(--body-text-color-subdued); font-style: italic; }
.accord-streaming .accord-text p:last-child::after {
  content: "▍"; margin-left: 2px; color: var(--color-accent);
  animation: accord-blink 1s steps(2) infinite;
}
@keyframes accord-blink { 50% { opacity: 0; } }
a.accord-cite {
  display: inline-block; text-decoration: none !important; font-size: .78em; font-weight: 600;
  line-height: 1.25; padding: 0 .3em; margin: 0 .08em; border-radius: 5px; vertical-align: .2em;
  background: var(--color-accent-soft); color: var(--color-accent) !important; cursor: pointer;
}
a.accord-cite:hover, a.accord-cite:focus {
  background: var(--color-accent); color: #fff !important;
}
.accord-filters-used, #accord-active-filters .accord-banner {
  font-size: .8rem; border-radius: 6px; padding: 3px 8px; margin-bottom: 6px;
  display: inline-block;
  background: var(--color-accent-soft); color: var(--body-text-color);
}
#accord-active-filters .accord-banner { display: block; margin: 0; padding: 6px 10px; }
.accord-sources { margin-top: .8em; display: grid; gap: .55em; }
.accord-sources-title {
  font-size: .75rem; text-transform: uppercase; letter-spacing: .06em; font-weight: 600;
  color: var(--body-text-color-subdued);
}
.accord-card {
  border: 1px solid var(--border-color-primary); border-radius: 10px; padding: .6em .8em;
  background: var(--background-fill-primary); scroll-margin: 16px;
  transition: box-shadow .25s, border-color .25s;
}
.accord-card.accord-flash {
  border-color: var(--color-accent); box-shadow: 0 0 0 3px var(--color-accent-soft);
}
.accord-card-head { display: flex; gap: .5em; align-items: baseline; }
.accord-num {
  flex: none; min-width: 1.5em; height: 1.5em; border-radius: 50%; display: inline-flex;
  align-items: center; justify-content: center; font-size: .78em; font-weight: 700;
  background: var(--color-accent); color: #fff;
}
.accord-num-muted { background: var(--body-text-color-subdued); }
.accord-title { font-weight: 600; line-height: 1.3; }
.accord-meta { font-size: .8em; color: var(--body-text-color-subdued); margin: .2em 0 .4em; }
.accord-meta a { color: var(--link-text-color); }
.accord-passage {
  font-size: .86em; line-height: 1.5; color: var(--body-text-color); overflow-wrap: anywhere;
  border-left: 3px solid var(--border-color-primary); padding-left: .6em;
}
.accord-passage mark.accord-quote {
  background: #fde68a; color: #1f2937; padding: 0 .1em; border-radius: 3px;
}
.accord-whole { margin-top: .35em; font-size: .8em; }
.accord-whole summary { cursor: pointer; color: var(--body-text-color-subdued); }
.accord-whole .accord-passage {
  font-size: 1em; margin-top: .35em; max-height: 18em; overflow: auto;
}
.accord-h { font-weight: 600; color: var(--body-text-color-subdued); }
.accord-foot { font-size: .72em; color: var(--body-text-color-subdued); margin-top: .5em; }
.accord-abstain-note {
  border-left: 4px solid #d97706; background: rgba(217, 119, 6, .08); padding: .5em .75em;
  border-radius: 6px; line-height: 1.5;
}
.accord-error {
  border-left: 4px solid #dc2626; background: rgba(220, 38, 38, .08); padding: .5em .75em;
  border-radius: 6px;
}
.accord-upload-result { font-size: .85rem; }
.accord-upload-head { font-weight: 600; margin-bottom: 4px; }
.accord-upload-result table { width: 100%; border-collapse: collapse; }
.accord-upload-result td, .accord-upload-result th {
  text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--border-color-primary);
  vertical-align: top; overflow-wrap: anywhere;
}
.accord-upload-result td:first-child { word-break: break-all; }
.accord-upload-result td:nth-child(2) { white-space: nowrap; }
.accord-up-failed td { color: #b91c1c; }
#accord-input-row { align-items: stretch; }
#accord-feedback { padding: 8px; }
@media (max-width: 720px) {
  .main.app { padding: 8px 6px !important; }
  #accord-header { flex-direction: column; align-items: flex-start; }
  #accord-header h1 { font-size: 1.2rem; }
  .accord-status { text-align: left; }
  #accord-chat { min-height: 300px; }
  .accord-card { padding: .5em .6em; }
  .accord-passage { font-size: .84em; }
}
"""

# Hovering (briefly) or clicking an [n] marker scrolls its card into view and flashes it.
HEAD = """
<meta name="viewport" content="width=device-width, initial-scale=1">
<script>
(() => {
  if (window.__accordCites) return;
  window.__accordCites = true;
  let timer = null;
  const marker = (event) => event.target && event.target.closest
    ? event.target.closest("a.accord-cite") : null;
  const show = (link) => {
    const id = (link.getAttribute("href") || "").slice(1);
    const card = id ? document.getElementById(id) : null;
    if (!card) return;
    card.scrollIntoView({ behavior: "smooth", block: "nearest" });
    card.classList.add("accord-flash");
    setTimeout(() => card.classList.remove("accord-flash"), 1400);
  };
  document.addEventListener("click", (event) => {
    const link = marker(event);
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    show(link);
  }, true);
  document.addEventListener("mouseover", (event) => {
    const link = marker(event);
    if (!link) return;
    clearTimeout(timer);
    timer = setTimeout(() => show(link), 250);
  });
  document.addEventListener("mouseout", (event) => {
    if (marker(event)) clearTimeout(timer);
  });
  document.addEventListener("focusin", (event) => {
    const link = marker(event);
    if (link) show(link);
  });
  // Follow the answer while it streams; when it is complete, show its beginning (not the
  // bottom of its source cards), so the reader starts with the answer text.
  const shown = new Set();
  let pending = false;
  const follow = () => {
    pending = false;
    const log = document.querySelector("#accord-chat [role=log]");
    if (!log) return;
    if (log.querySelector(".accord-streaming")) {
      log.scrollTop = log.scrollHeight;
      return;
    }
    const answers = log.querySelectorAll(".accord-answer, .accord-error");
    const last = answers[answers.length - 1];
    const key = last && (last.id || last.textContent.slice(0, 80));
    if (!last || shown.has(key)) return;
    shown.add(key);
    const base = log.getBoundingClientRect().top;
    const questions = log.querySelectorAll(".accord-q");
    const question = questions[questions.length - 1];
    let top = last.getBoundingClientRect().top - base - 48;
    if (question) {  // start at the question when it fits comfortably above the answer
      const fromQuestion = question.getBoundingClientRect().top - base - 16;
      if (top - fromQuestion < log.clientHeight / 3) top = fromQuestion;
    }
    log.scrollTop += top;
  };
  new MutationObserver(() => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(follow);
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
</script>
"""

HEADER = """
<div><h1>Accord</h1>
<p>Answers on AI diplomacy and governance &mdash; every claim cited to a passage you can check.</p>
</div>
"""


def theme():
    import gradio as gr

    return gr.themes.Default(
        primary_hue="indigo",
        neutral_hue="slate",
        font=list(SYSTEM_FONTS),
        font_mono=list(MONO_FONTS),
    )


# --------------------------------------------------------------------------- the app


def build_app(bot, examples: Sequence[str] | None = None):
    """The Gradio Blocks page for ``bot``. Launch it with :func:`launch` (which passes the
    theme, CSS and head script: in Gradio 6 those are arguments of ``launch``)."""
    # Gradio keeps uploads and caches in GRADIO_TEMP_DIR (read when the app is built); keep
    # them under the data dir unless the deployment chose a place.
    os.environ.setdefault(
        "GRADIO_TEMP_DIR", str(Path(bot.settings.data_dir).resolve() / "cache" / "gradio")
    )
    import gradio as gr

    page = ChatPage(bot, examples)

    def refresh(issuers_now=None, docs_now=None):
        status = page.status()
        choices = page.document_choices()
        known_docs = {c[1] for c in choices}
        return (
            status_html(status),
            gr.Dropdown(
                choices=status["issuers"],
                value=[i for i in issuers_now or [] if i in status["issuers"]],
            ),
            gr.Dropdown(choices=choices, value=[d for d in docs_now or [] if d in known_docs]),
        )

    def active_filters(issuers, date_from, date_to, doc_ids):
        try:
            filters = make_filters(issuers, date_from, date_to, doc_ids)
        except AccordError as exc:
            return gr.HTML(
                f'<div class="accord-banner accord-error">{_esc(exc)}</div>', visible=True
            )
        summary = filters_summary(filters, page.titles() if filters.get("doc_ids") else {})
        if not summary:
            return gr.HTML("", visible=False)
        return gr.HTML(
            '<div class="accord-banner"><strong>Filters on</strong> for the next question: '
            f"{_esc(summary)}</div>",
            visible=True,
        )

    def respond(question, log_, issuers, date_from, date_to, doc_ids):
        log_ = list(log_ or [])
        if not str(question or "").strip():
            gr.Warning("Type a question first.")
            yield page.messages(log_), log_, question
            return
        try:
            filters = make_filters(issuers, date_from, date_to, doc_ids)
        except AccordError as exc:
            log_ = log_ + [
                {"role": "user", "text": question, "html": question_html(question), "ok": False},
                {"role": "assistant", "text": str(exc), "html": error_html(str(exc)), "ok": False},
            ]
            yield page.messages(log_), log_, question
            return
        for current in page.respond(question, log_, filters):
            yield page.messages(current), current, ""

    def use_example(data: gr.SelectData):
        value = data.value
        return value.get("text", "") if isinstance(value, dict) else str(value or "")

    def new_chat():
        return [], [], "", gr.Group(visible=False), None

    def on_like(log_, data: gr.LikeData, request: gr.Request):
        session = getattr(request, "session_hash", "") or ""
        try:
            record = page.rate(log_, data.index, data.liked, session=session)
        except AccordError as exc:
            gr.Warning(str(exc))
            return gr.Group(visible=False), None, ""
        if record is None:
            return gr.Group(visible=False), None, ""
        if record["rating"] == "cleared":
            return gr.Group(visible=False), None, ""
        thanks = "Thanks for the 👍." if record["rating"] == "up" else "Thanks for the 👎."
        pending = {"index": record["message_index"], "rating": record["rating"]}
        return (gr.Group(visible=True), pending, f"{thanks} Add a comment to say why (optional):")

    def on_comment(comment, pending, log_, request: gr.Request):
        if not pending:
            gr.Warning("Rate an answer first (thumbs up or down under it).")
            return comment, gr.Group(visible=False), None
        if not str(comment or "").strip():
            gr.Warning("The comment is empty.")
            return comment, gr.Group(visible=True), pending
        try:
            page.rate(
                log_,
                pending["index"],
                pending["rating"],
                comment=comment,
                session=getattr(request, "session_hash", "") or "",
            )
        except AccordError as exc:
            gr.Warning(str(exc))
            return comment, gr.Group(visible=True), pending
        gr.Info("Comment saved. Thank you.")
        return "", gr.Group(visible=False), None

    def on_upload(files, issuers_now, docs_now, progress=gr.Progress()):  # noqa: B008
        paths = [getattr(f, "name", f) for f in (files or [])]
        rows = page.ingest_uploads(paths, progress=progress)
        status, issuers_dd, docs_dd = refresh(issuers_now, docs_now)
        return upload_results_html(rows), status, issuers_dd, docs_dd, None

    def clear_filters():
        return [], None, None, []

    def api_ask(question: str, history: list | None = None, filters: dict | None = None) -> dict:
        """Answer a question from the indexed documents.

        question: the question. history: earlier turns as [{"role": "user"|"assistant",
        "content": str}]. filters: {"issuers": [...], "date_from": "YYYY-MM-DD",
        "date_to": "YYYY-MM-DD", "doc_ids": [...]}. Returns the answer text with [n] markers,
        "citations" (number, title, source, date, issuer, quote, passage, spans...),
        "abstained", and the closest passages.
        """
        try:
            return page.ask_api(question, history, filters)
        except AccordError as exc:
            raise gr.Error(str(exc)) from None

    def api_status() -> dict:
        """Documents, chunks, last ingest time and issuers in the index."""
        return page.status()

    def api_documents() -> list:
        """The indexed documents: doc_id, title, issuer, date, source, chunks."""
        return [
            {
                "doc_id": d.doc_id,
                "title": d.title,
                "issuer": d.metadata.get("issuer", ""),
                "date": str(d.metadata.get("date", "")),
                "source": d.source,
                "chunks": d.chunks,
            }
            for d in bot.documents()
        ]

    with gr.Blocks(title="Accord — cited answers on AI governance", analytics_enabled=False) as app:
        log_state = gr.State([])
        pending = gr.State(None)
        with gr.Row(elem_id="accord-header"):
            gr.HTML(HEADER, elem_id="accord-title")
            status = gr.HTML(elem_id="accord-status-line")
        with gr.Row(elem_id="accord-main", equal_height=False):
            with gr.Column(scale=3, min_width=330, elem_id="accord-chat-col"):
                chatbot = gr.Chatbot(
                    elem_id="accord-chat",
                    label="Conversation",
                    show_label=False,
                    height="62vh",
                    min_height=360,
                    examples=[{"text": q} for q in page.examples],
                    placeholder=(
                        "**Ask about AI diplomacy and governance.** Answers quote the indexed "
                        "documents; every claim carries a numbered source you can check."
                    ),
                    latex_delimiters=[],
                    # No "share" (it posts to Hugging Face) and no "copy" (it would copy
                    # the message's HTML); the trash icon still clears the chat.
                    buttons=[],
                    sanitize_html=True,
                    render_markdown=True,
                    feedback_options=("Like", "Dislike"),
                    group_consecutive_messages=False,
                    autoscroll=False,  # the head script scrolls (to the answer's start)
                    layout="panel",
                )
                active = gr.HTML(visible=False, elem_id="accord-active-filters")
                with gr.Row(elem_id="accord-input-row"):
                    question = gr.Textbox(
                        show_label=False,
                        label="Question",
                        lines=1,
                        max_lines=4,
                        scale=6,
                        placeholder="Ask about AI diplomacy or governance…",
                        elem_id="accord-question",
                        autofocus=True,
                    )
                    ask = gr.Button(
                        "Ask", variant="primary", scale=1, min_width=72, elem_id="accord-ask"
                    )
                with gr.Row():
                    new = gr.Button(
                        "New chat", size="sm", variant="secondary", elem_id="accord-new-chat"
                    )
                with gr.Group(visible=False, elem_id="accord-feedback") as feedback_box:
                    feedback_note = gr.Markdown(elem_id="accord-feedback-note")
                    comment = gr.Textbox(
                        label="Comment (optional)", lines=2, max_lines=6, elem_id="accord-comment"
                    )
                    send_comment = gr.Button(
                        "Send comment", size="sm", elem_id="accord-send-comment"
                    )
            with gr.Column(scale=1, min_width=280, elem_id="accord-side"):
                with gr.Accordion("Filters", open=True, elem_id="accord-filters"):
                    issuers = gr.Dropdown(
                        label="Issuer",
                        multiselect=True,
                        choices=[],
                        elem_id="accord-issuers",
                        info="Only these issuers' documents are searched",
                    )
                    date_from = gr.DateTime(
                        label="Dated from",
                        include_time=False,
                        type="string",
                        elem_id="accord-date-from",
                    )
                    date_to = gr.DateTime(
                        label="Dated to",
                        include_time=False,
                        type="string",
                        elem_id="accord-date-to",
                    )
                    docs = gr.Dropdown(
                        label="Documents", multiselect=True, choices=[], elem_id="accord-docs"
                    )
                    clear = gr.Button("Clear filters", size="sm", elem_id="accord-clear-filters")
                with gr.Accordion("Add documents", open=False, elem_id="accord-add"):
                    files = gr.File(
                        label="Markdown, text, HTML or PDF files",
                        file_count="multiple",
                        elem_id="accord-upload",
                        height=140,
                    )
                    upload_result = gr.HTML(elem_id="accord-upload-result")

        filter_inputs = [issuers, date_from, date_to, docs]
        chat_outputs = [chatbot, log_state, question]

        app.load(
            refresh, None, [status, issuers, docs], api_name="refresh", api_visibility="private"
        )
        gr.on(
            triggers=[question.submit, ask.click],
            fn=respond,
            inputs=[question, log_state, *filter_inputs],
            outputs=chat_outputs,
            api_name="chat",
            api_visibility="private",
            concurrency_limit=4,
            concurrency_id="accord-ask",
            show_progress="minimal",
        )
        chatbot.example_select(
            use_example,
            None,
            question,
            api_name="use_example",
            api_visibility="private",
            show_progress="hidden",
        ).then(
            respond,
            [question, log_state, *filter_inputs],
            chat_outputs,
            api_name="chat_example",
            api_visibility="private",
            concurrency_limit=4,
            concurrency_id="accord-ask",
            show_progress="minimal",
        )
        new.click(
            new_chat,
            None,
            [chatbot, log_state, question, feedback_box, pending],
            api_name="new_chat",
            api_visibility="private",
            show_progress="hidden",
        )
        chatbot.clear(
            new_chat,
            None,
            [chatbot, log_state, question, feedback_box, pending],
            api_name="clear_chat",
            api_visibility="private",
            show_progress="hidden",
        )
        gr.on(
            triggers=[c.change for c in filter_inputs],
            fn=active_filters,
            inputs=filter_inputs,
            outputs=active,
            api_name="active_filters",
            api_visibility="private",
            show_progress="hidden",
        )
        clear.click(
            clear_filters,
            None,
            filter_inputs,
            api_name="clear_filters",
            api_visibility="private",
            show_progress="hidden",
        )
        chatbot.like(
            on_like,
            log_state,
            [feedback_box, pending, feedback_note],
            api_name="like",
            api_visibility="private",
            show_progress="hidden",
        )
        gr.on(
            triggers=[send_comment.click, comment.submit],
            fn=on_comment,
            inputs=[comment, pending, log_state],
            outputs=[comment, feedback_box, pending],
            api_name="comment",
            api_visibility="private",
            show_progress="hidden",
        )
        files.upload(
            on_upload,
            [files, issuers, docs],
            [upload_result, status, issuers, docs, files],
            api_name="upload",
            api_visibility="private",
            concurrency_limit=1,
            concurrency_id="accord-ingest",
            show_progress="full",
        )
        gr.api(api_ask, api_name="ask", concurrency_limit=4, concurrency_id="accord-ask")
        gr.api(api_status, api_name="status")
        gr.api(api_documents, api_name="documents")
    app.accord_page = page  # for tests and embedding
    return app


def launch_options() -> dict[str, Any]:
    """The keyword arguments that make the page self-contained: system fonts, local CSS and
    script, no analytics, no share link, nothing fetched from a CDN."""
    return {
        "theme": theme(),
        "css": CSS,
        "head": HEAD,
        "share": False,
        "ssr_mode": False,
        "pwa": False,
        "mcp_server": False,
        "enable_monitoring": False,
        "footer_links": ["api"],
        "max_file_size": "50mb",
    }


def launch(
    bot,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
    examples: Sequence[str] | None = None,
):
    """Build and serve the page; returns the Blocks (with ``.local_url``) when not blocking."""
    app = build_app(bot, examples)
    app.queue(default_concurrency_limit=4)
    app.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="Accord: sign in with the user and password from ACCORD_AUTH.",
        prevent_thread_lock=prevent_thread_lock,
        quiet=quiet,
        **launch_options(),
    )
    return app

"""Files and URLs become :class:`Document` records.

One loader per file type, picked from ``LOADERS`` by suffix; each turns raw bytes into text plus
metadata and raises :class:`SourceError` with a reason a user can act on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import SourceError
from bot.records import Document

# A loader turns raw bytes into (text, metadata); metadata may carry "title".
Loader = Callable[[bytes, str], tuple[str, dict[str, Any]]]

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)

# Where an article's subject stands: an instrument (proposed → adopted/signed → in-force →
# superseded), an event or a body's finished work (concluded), a running body or process
# (ongoing), or an idea or debate (analysis). The README lists them.
STATUSES = (
    "proposed",
    "adopted",
    "signed",
    "in-force",
    "superseded",
    "concluded",
    "ongoing",
    "analysis",
)
_ISO_DAY = re.compile(r"\d{4}(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?)?")


def _decode(raw: bytes, name: str) -> str:
    if b"\x00" in raw[:8192]:
        raise SourceError(f"{name}: looks like a binary file, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{name}: not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_text(raw: bytes, name: str) -> tuple[str, dict[str, Any]]:
    return _decode(raw, name), {}


def load_markdown(raw: bytes, name: str) -> tuple[str, dict[str, Any]]:
    import yaml

    text = _decode(raw, name)
    meta: dict[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            reason = str(exc).splitlines()[0]
            raise SourceError(f"{name}: malformed YAML front matter ({reason})") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise SourceError(f"{name}: front matter must be a YAML mapping of key: value")
        meta = {str(k): _plain(v) for k, v in (loaded or {}).items()}
        text = text[match.end() :]
    if "title" not in meta:
        h1 = _H1.search(text)
        if h1:
            meta["title"] = h1.group(1)
    return text, meta


def load_html(raw: bytes, name: str) -> tuple[str, dict[str, Any]]:
    import trafilatura

    html = raw.decode("utf-8", errors="replace")
    text = trafilatura.extract(
        html, output_format="markdown", include_comments=False, include_tables=True
    )
    if not text:
        text = _html_fallback(html)
    if not text or not text.strip():
        raise SourceError(f"{name}: no readable text found in the HTML")
    meta: dict[str, Any] = {}
    info = trafilatura.extract_metadata(html)
    if info is not None:
        if info.title:
            meta["title"] = info.title
        if info.date:
            meta["date"] = info.date
        if info.sitename or info.author:
            meta["issuer"] = info.sitename or info.author
    return text, meta


def _html_fallback(html: str) -> str:
    """Short pages that trafilatura judges to have no main content still have text."""
    import lxml.html

    try:
        tree = lxml.html.fromstring(html)
    except Exception:  # noqa: BLE001 - lxml raises several types for garbage
        return ""
    for bad in tree.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    return re.sub(r"\n\s*\n+", "\n\n", tree.text_content()).strip()


def load_pdf(raw: bytes, name: str) -> tuple[str, dict[str, Any]]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(raw))
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise SourceError(f"{name}: not a readable PDF ({exc})") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise SourceError(f"{name}: the PDF has no extractable text (scanned images?)")
    meta: dict[str, Any] = {}
    if info is not None and info.title:
        meta["title"] = str(info.title)
    return text, meta


LOADERS: dict[str, Loader] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".text": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
}


@dataclass
class Discovered:
    """A source found on disk or given as a URL, before it is read."""

    source: str
    root: str  # the folder it was found under ("" for files and URLs named directly)


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def discover(inputs: Iterable[str | Path]) -> tuple[list[Discovered], list[tuple[str, str]]]:
    """Expand folders recursively. Returns the sources and the inputs that do not exist."""
    found: list[Discovered] = []
    missing: list[tuple[str, str]] = []
    for item in inputs:
        value = str(item)
        if is_url(value):
            found.append(Discovered(value, ""))
            continue
        path = Path(value).expanduser()
        if path.is_dir():
            root = str(path.resolve())
            found.extend(Discovered(str(p), root) for p in _walk(path))
        elif path.is_file():
            found.append(Discovered(str(path.resolve()), ""))
        else:
            missing.append((value, "no such file or folder"))
    return found, missing


def _walk(folder: Path) -> Iterator[Path]:
    """Supported files under a folder; hidden files and the folder's own README are skipped."""
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if not path.is_file() or path.suffix.lower() not in LOADERS:
            continue
        if path.stem.lower() == "readme":
            continue
        yield path.resolve()


def slugify(value: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    return slug[:120] or "document"


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def read_bytes(source: str, *, timeout: float, max_bytes: int) -> tuple[bytes, str]:
    """Raw bytes and the file type (a LOADERS key) of a path or URL."""
    if is_url(source):
        return _fetch(source, timeout=timeout, max_bytes=max_bytes)
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in LOADERS:
        raise SourceError(
            f"{path.name}: unsupported file type {suffix or '(none)'}; "
            f"supported: {', '.join(sorted(LOADERS))}"
        )
    try:
        return path.read_bytes(), suffix
    except OSError as exc:
        raise SourceError(f"{path.name}: cannot be read ({exc.strerror})") from None


def _fetch(url: str, *, timeout: float, max_bytes: int) -> tuple[bytes, str]:
    request = urllib.request.Request(url, headers={"User-Agent": "Accord/0.1 (+ingest)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(max_bytes + 1)
            ctype = response.headers.get_content_type()
    except urllib.error.HTTPError as exc:
        raise SourceError(f"{url}: the server answered HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SourceError(f"{url}: could not be fetched ({reason})") from None
    if len(raw) > max_bytes:
        raise SourceError(
            f"{url}: larger than the limit of {max_bytes:,} bytes (ACCORD_URL_MAX_BYTES)"
        )
    if ctype == "application/pdf" or url.lower().endswith(".pdf"):
        return raw, ".pdf"
    if ctype in ("text/plain",):
        return raw, ".txt"
    if ctype in ("text/markdown", "text/x-markdown"):
        return raw, ".md"
    return raw, ".html"


def load(source: str, *, timeout: float = 15.0, max_bytes: int = 5_000_000) -> Document:
    """Read one path or URL into a Document, or raise SourceError saying why not."""
    raw, kind = read_bytes(source, timeout=timeout, max_bytes=max_bytes)
    return parse(source, raw, kind)


def parse(source: str, raw: bytes, kind: str) -> Document:
    name = source if is_url(source) else Path(source).name
    text, meta = LOADERS[kind](raw, name)
    if not text.strip():
        raise SourceError(f"{name}: the file is empty")
    if is_url(source):
        meta.setdefault("source_url", source)
        stem = re.sub(r"^https?://", "", source)
    else:
        stem = Path(source).stem
    check_lifecycle(meta, name)
    title = str(meta.pop("title", "") or "").strip() or stem
    meta.setdefault("file_type", kind.lstrip("."))
    return Document(
        doc_id=slugify(stem),
        title=title,
        text=text,
        source=source,
        content_hash=content_hash(raw),
        metadata=meta,
    )


def check_lifecycle(meta: dict[str, Any], name: str) -> None:
    """``status`` and ``updated`` are optional, but a wrong one would silently mislead "as of"
    answers, so it stops the file with the values that would be accepted."""
    status = meta.get("status")
    if status is not None and str(status).strip().lower() not in STATUSES:
        raise SourceError(
            f"{name}: status {status!r} is not one of {', '.join(STATUSES)}; "
            "fix or remove it in the front matter"
        )
    if status is not None:
        meta["status"] = str(status).strip().lower()
    updated = meta.get("updated")
    if updated is not None:
        text = str(updated).strip()
        if not _ISO_DAY.fullmatch(text):
            raise SourceError(
                f"{name}: updated {updated!r} is not an ISO date; write YYYY-MM-DD "
                "(or YYYY-MM, YYYY when the article gives no day)"
            )
        meta["updated"] = text


def _plain(value: Any) -> Any:
    """YAML dates become ISO strings so metadata stays JSON- and Chroma-friendly."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value

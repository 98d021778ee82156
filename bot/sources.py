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
from html.parser import HTMLParser
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
        _check_scalars(meta, name)
        text = text[match.end() :]
    if "title" not in meta:
        h1 = _H1.search(text)
        if h1:
            meta["title"] = h1.group(1)
    return text, meta


# Front-matter fields shown on the page and filtered on: one value each, not a list or mapping.
SCALAR_FIELDS = ("title", "date", "issuer", "source_url", "summary")


def _check_scalars(meta: dict[str, Any], name: str) -> None:
    for key in SCALAR_FIELDS:
        value = meta.get(key)
        if isinstance(value, (list, dict)):
            kind = "a list" if isinstance(value, list) else "a mapping"
            example = "2024-05-01" if key == "date" else "one line of text"
            raise SourceError(
                f"{name}: front matter `{key}` is {kind}; give one value (e.g. {example})"
            )
        if value is not None and not isinstance(value, str):
            meta[key] = str(value)  # `title: 1984` or `date: 2024` are numbers to YAML


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
    """Short pages that trafilatura judges to have no main content still have text; so do
    pages nested deeper than lxml's tree limit. The standard library's event-based parser
    reads both, whatever the depth or the damage."""
    parser = _TextOnly()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - html.parser is lenient, but never let it stop a batch
        pass
    text = "".join(parser.parts)
    return re.sub(r"\n\s*\n+", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()


class _TextOnly(HTMLParser):
    """Collects character data outside script, style and noscript elements."""

    _SKIP = frozenset(("script", "style", "noscript", "template"))
    _BLOCK = frozenset(
        "p div br li tr h1 h2 h3 h4 h5 h6 section article table ul ol blockquote pre".split()
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def load_pdf(raw: bytes, name: str) -> tuple[str, dict[str, Any]]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not _unlocked(reader):
            raise SourceError(
                f"{name}: the PDF is password-protected; save a copy without a password "
                "and add that"
            )
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


def _unlocked(reader) -> bool:
    """Many PDFs are encrypted with an empty password (only to restrict printing); those open."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # noqa: BLE001 - pypdf raises several kinds for unknown ciphers
        return False


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
    """Expand folders recursively. Returns the sources, and the inputs that do not exist or
    are refused (with why): links that lead out of the folder they were found in."""
    found: list[Discovered] = []
    missing: list[tuple[str, str]] = []
    for item in inputs:
        value = str(item)
        if is_url(value):
            found.append(Discovered(value, ""))
            continue
        path = Path(value).expanduser()
        if path.is_dir():
            root = path.resolve()
            for file, refused in _walk(path, root):
                if refused:
                    missing.append((str(file), refused))
                else:
                    found.append(Discovered(str(file), str(root)))
        elif path.is_file():
            found.append(Discovered(str(path.resolve()), ""))
        else:
            missing.append((value, "no such file or folder"))
    return found, missing


def _walk(folder: Path, root: Path) -> Iterator[tuple[Path, str]]:
    """Supported files under a folder, each with "" or the reason it is refused. Hidden files
    and the folder's own README are skipped silently; a link to a file outside the folder is
    refused, so a folder cannot pull in what its owner did not put there (folder links are
    never descended)."""
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if not path.is_file() or path.suffix.lower() not in LOADERS:
            continue
        if path.stem.lower() == "readme":
            continue
        target = path.resolve()
        if not target.is_relative_to(root):
            yield path, "a link to a file outside the folder; not followed"
            continue
        yield target, ""


def slugify(value: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    return slug[:120] or "document"


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def read_bytes(
    source: str, *, timeout: float, max_bytes: int, max_file_bytes: int | None = None
) -> tuple[bytes, str]:
    """Raw bytes and the file type (a LOADERS key) of a path or URL. A file larger than
    ``max_file_bytes`` is refused before it is read."""
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
        size = path.stat().st_size
        if max_file_bytes is not None and size > max_file_bytes:
            raise SourceError(
                f"{path.name}: {size:,} bytes is over the limit of {max_file_bytes:,} "
                "(ACCORD_MAX_FILE_BYTES); split the file or raise the limit"
            )
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
    try:
        text, meta = LOADERS[kind](raw, name)
    except SourceError:
        raise
    except Exception as exc:  # noqa: BLE001
        # A parser library failing in a way nobody foresaw must cost this file, not the batch.
        raise SourceError(
            f"{name}: could not be read ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None
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

"""Files added on the page: a safe name, a copy under ``<data_dir>/uploads``, an ingest, and one
result per file. A file that cannot be indexed leaves the folder as it was (the previous copy
is restored), so ``uploads/`` stays in step with the index. While another ingest holds the index
(``ingest.py``, another upload), the upload waits and says so in its progress."""

from __future__ import annotations

import functools
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from bot.errors import AccordError
from bot.records import IngestReport
from bot.sources import LOADERS

UPLOAD_SUFFIXES = tuple(LOADERS)  # the file types ingest can read


class UploadResult(NamedTuple):
    name: str  # the file's name as the user gave it
    outcome: str  # added, updated, unchanged or failed
    detail: str


def safe_filename(name: str) -> str:
    """A file name that cannot escape the uploads folder or hide itself."""
    name = Path(str(name).replace("\\", "/")).name
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = re.sub(r"[^A-Za-z0-9._ -]+", "_", stem).strip(" ._-")[:100] or "upload"
    suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix)[:10].lower()
    return f"{stem}.{suffix}" if suffix else stem


def _outcome(original: str, report: IngestReport) -> UploadResult:
    if report.added or report.updated:
        outcome = "added" if report.added else "updated"
        doc_id = (report.added or report.updated)[0]
        chunks = report.chunks
        detail = (
            f"{chunks} chunk{'s' if chunks != 1 else ''}, as {doc_id}"
            if chunks
            else f"as {doc_id}, but no text in it could be indexed"
        )
        return UploadResult(original, outcome, detail)
    return UploadResult(original, "unchanged", "already indexed with the same content")


def ingest_upload(
    bot: Any, folder: Path, path: str | Path, on_wait: Callable[[str], None] | None = None
) -> UploadResult:
    """Copy one file into ``folder`` and ingest it; ``on_wait`` hears why, if the ingest has
    to wait for another one."""
    original = Path(path).name
    name = safe_filename(original)
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        kinds = ", ".join(UPLOAD_SUFFIXES)
        return UploadResult(
            original, "failed", f"unsupported file type {suffix or '(none)'}; use {kinds}"
        )
    limit = getattr(bot.settings, "max_file_bytes", None)
    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        return UploadResult(original, "failed", f"could not be read ({exc.strerror})")
    if limit is not None and size > limit:
        return UploadResult(
            original,
            "failed",
            f"{size:,} bytes is over the limit of {limit:,} (ACCORD_MAX_FILE_BYTES)",
        )
    target = folder / name
    if target.resolve().parent != folder.resolve():  # a link planted in the folder
        return UploadResult(original, "failed", "refused: the name leads out of the uploads folder")
    backup = target.read_bytes() if target.exists() else None
    try:
        shutil.copyfile(path, target)
    except OSError as exc:
        return UploadResult(original, "failed", f"could not be saved ({exc.strerror})")
    try:
        report = bot.ingest([target], prune=False, on_wait=on_wait)
    except AccordError as exc:
        report, error = None, str(exc)
    else:
        error = "; ".join(reason for _, reason in report.failed)
    if report is None or report.failed:
        if backup is None:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(backup)
        return UploadResult(original, "failed", error or "could not be indexed")
    return _outcome(original, report)


def ingest_uploads(
    bot: Any,
    folder: Path,
    paths: Sequence[str | Path],
    progress: Callable[..., Any] | None = None,
) -> list[UploadResult]:
    """Each file in turn (see :func:`ingest_upload`), reporting progress as it goes."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [str(p) for p in paths or [] if p]
    results = []
    for i, path in enumerate(paths):
        on_wait = None
        if progress is not None:
            desc = f"Indexing {safe_filename(Path(path).name)}"
            progress((i, len(paths)), desc=desc, unit="files")
            on_wait = functools.partial(_waiting, progress, (i, len(paths)))
        results.append(ingest_upload(bot, folder, path, on_wait))
    if progress is not None and paths:
        progress((len(paths), len(paths)), desc="Done", unit="files")
    return results


def _waiting(progress: Callable[..., Any], done: tuple[int, int], message: str) -> None:
    progress(done, desc=message[:1].upper() + message[1:], unit="files")

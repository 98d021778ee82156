"""Reader feedback on answers: one JSON object per line in ``<data_dir>/feedback.jsonl``.

Each record carries what is needed to judge the answer later without the index: the question,
the answer text, its citations, the filters in force and the rating (and comment, if any).
Appends are serialised with a lock inside the process and ``flock`` across processes, and
each record is written with a single ``write`` so a reader never sees half a line.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.errors import AccordError

try:  # POSIX only; elsewhere the in-process lock is all we have.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

FEEDBACK_FILE = "feedback.jsonl"
RATINGS = ("up", "down", "cleared")
MAX_COMMENT_CHARS = 4000

_lock = threading.Lock()


def feedback_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / FEEDBACK_FILE


def normalise_rating(value: Any) -> str:
    """Gradio's like event says True/False (or None when a rating is withdrawn)."""
    if value is True or value in ("up", "like", "Like", "liked"):
        return "up"
    if value is False or value in ("down", "dislike", "Dislike", "disliked"):
        return "down"
    if value is None or value == "" or value == "cleared":
        return "cleared"
    raise AccordError(f"rating must be one of {', '.join(RATINGS)}, got {value!r}")


def record_feedback(
    data_dir: str | Path,
    *,
    rating: Any,
    question: str,
    answer: str,
    citations: Sequence[Mapping[str, Any]] = (),
    comment: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """Append one feedback record and return it (as written)."""
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise AccordError(
            f"the comment is {len(comment):,} characters long; keep it under {MAX_COMMENT_CHARS:,}"
        )
    record: dict[str, Any] = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rating": normalise_rating(rating),
        "comment": comment,
        "question": question,
        "answer": answer,
        "citations": [dict(c) for c in citations],
    }
    record.update(extra)
    line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
    path = feedback_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, open(path, "a", encoding="utf-8") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            handle.write(line)
            handle.flush()
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return record


# What a record keeps of each citation: enough to find the passage again, not the passage.
LOGGED_CITATION_KEYS = (
    "number",
    "doc_id",
    "title",
    "source",
    "date",
    "issuer",
    "quote",
    "chunk_id",
    "start",
    "end",
    "score",
    "spans",
)


def record_answer_feedback(
    data_dir: str | Path,
    answer: Mapping[str, Any],
    *,
    rating: Any,
    comment: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """Feedback on an answer given as ``Answer.to_dict()`` (with the ``filters`` in force)."""
    return record_feedback(
        data_dir,
        rating=rating,
        question=answer["question"],
        answer=answer["text"],
        citations=[{k: c.get(k) for k in LOGGED_CITATION_KEYS} for c in answer["citations"]],
        comment=comment,
        abstained=answer["abstained"],
        filters=dict(answer.get("filters") or {}),
        mode=answer["mode"],
        **extra,
    )


def read_feedback(data_dir: str | Path) -> list[dict[str, Any]]:
    """All records, oldest first; a damaged line is skipped rather than failing the read."""
    path = feedback_path(data_dir)
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records

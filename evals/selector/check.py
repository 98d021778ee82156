"""Validate selector label files against the documents they quote.

Runs on a bare Python 3 (no project dependencies) so that whoever writes
labels can check them while writing.

    python3 evals/selector/check.py evals/selector/labels/some-doc.jsonl ...
    python3 evals/selector/check.py            # every label file
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LABELS = Path(__file__).resolve().parent / "labels"
SOURCES = {
    "training-docs": ROOT.parent / "shared" / "training-docs",
    "corpus": ROOT / "corpus",
    "governance-docs": ROOT.parent / "shared" / "governance-docs",
}
MIN_QUOTE_WORDS = 4


def squash(text: str) -> str:
    """Whitespace-insensitive form: documents wrap lines, quotes do not."""
    return re.sub(r"\s+", " ", text).strip()


def document_text(source: str, doc_id: str) -> str | None:
    folder = SOURCES.get(source)
    if folder is None:
        return None
    for suffix in (".md", ".txt"):
        path = folder / f"{doc_id}{suffix}"
        if path.exists():
            return squash(path.read_text(encoding="utf-8"))
    return None


def problems(path: Path) -> list[str]:
    found: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{path.name}:{number}"
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            found.append(f"{where}: not JSON ({error})")
            continue
        for key in ("id", "source", "doc_id", "question", "answerable", "answers", "negatives"):
            if key not in item:
                found.append(f"{where}: missing {key!r}")
        if any(key not in item for key in ("id", "source", "doc_id", "answers", "negatives")):
            continue
        if item["id"] in seen:
            found.append(f"{where}: duplicate id {item['id']}")
        seen.add(item["id"])
        text = document_text(item["source"], item["doc_id"])
        if text is None:
            found.append(f"{where}: no document {item['source']}/{item['doc_id']}")
            continue
        answers, negatives = item["answers"], item["negatives"]
        if item.get("answerable") and not answers:
            found.append(f"{where}: answerable but no answer quote")
        if not item.get("answerable") and answers:
            found.append(f"{where}: unanswerable but has answer quotes")
        if len(negatives) < 2:
            found.append(f"{where}: needs at least 2 negatives")
        for quote in answers + negatives:
            if len(quote.split()) < MIN_QUOTE_WORDS:
                found.append(f"{where}: quote too short: {quote!r}")
            elif squash(quote) not in text:
                found.append(f"{where}: quote not in document: {quote[:90]!r}")
        if set(map(squash, answers)) & set(map(squash, negatives)):
            found.append(f"{where}: a quote is both answer and negative")
    return found


def main(argv: list[str]) -> int:
    paths = [Path(arg) for arg in argv] or sorted(LABELS.glob("*.jsonl"))
    total = 0
    bad: list[str] = []
    for path in paths:
        total += sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
        bad.extend(problems(path))
    for line in bad:
        print(line)
    print(f"{total} items in {len(paths)} files, {len(bad)} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

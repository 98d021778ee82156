"""Token-aware chunking that prefers markdown headings and paragraph ends as boundaries.

Every chunk is an exact slice of the document text (``text[start:end]``), so a citation can
point a reader at the very characters it quotes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.errors import ConfigError
from bot.offline import encoding
from bot.records import Chunk, Document
from bot.text import paragraph_spans, sentence_spans

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass
class _Unit:
    start: int
    end: int
    tokens: int
    headings: tuple[str, ...]
    kind: str  # "heading", "paragraph" (first sentence of a paragraph) or "sentence"


def count_tokens(text: str) -> int:
    return len(encoding().encode_ordinary(text))


def chunk_document(doc: Document, max_tokens: int = 400, overlap: int = 60) -> list[Chunk]:
    return _chunks(doc, max_tokens, overlap, structure=False)


def structure_chunks(doc: Document, max_tokens: int = 400, overlap: int = 60) -> list[Chunk]:
    """Token windows that follow the text's own divisions: articles, sections, annexes."""
    return _chunks(doc, max_tokens, overlap, structure=True)


def _chunks(doc: Document, max_tokens: int, overlap: int, structure: bool) -> list[Chunk]:
    units = list(_units(doc.text, max_tokens, structure))
    groups = _group(units, max_tokens, overlap)
    return [
        _chunk(doc, index, group[0].start, group[-1].end, list(group[0].headings))
        for index, group in enumerate(groups)
    ]


def _chunk(doc: Document, index: int, start: int, end: int, headings: list[str]) -> Chunk:
    text = doc.text[start:end]
    return Chunk(
        chunk_id=f"{doc.doc_id}-{doc.content_hash[:8]}-{index:04d}",
        doc_id=doc.doc_id,
        index=index,
        text=text,
        start=start,
        end=end,
        tokens=count_tokens(text),
        headings=headings,
        title=doc.title,
        metadata=dict(doc.metadata),
    )


# The usual LangChain recipe, kept as the eval suite's `naive` baseline: every gain is measured
# against it in the same run.
NAIVE_CHARS = 1000
NAIVE_OVERLAP = 200


def recursive_chunks(doc: Document, max_tokens: int = 0, overlap: int = 0) -> list[Chunk]:
    """``RecursiveCharacterTextSplitter`` at 1,000 characters with 200 of overlap."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=NAIVE_CHARS, chunk_overlap=NAIVE_OVERLAP, add_start_index=True
    )
    chunks = []
    for index, piece in enumerate(splitter.create_documents([doc.text])):
        start = piece.metadata["start_index"]
        chunks.append(_chunk(doc, index, start, start + len(piece.page_content), []))
    return chunks


Chunker = Callable[[Document, int, int], list[Chunk]]
CHUNKERS: dict[str, Chunker] = {
    "structure": structure_chunks,
    "tokens": chunk_document,
    "recursive": recursive_chunks,
}


def get_chunker(name: str) -> Chunker:
    try:
        return CHUNKERS[name]
    except KeyError:
        raise ConfigError(
            f"unknown chunker {name!r}; available: {', '.join(sorted(CHUNKERS))}"
        ) from None


def _units(text: str, max_tokens: int, structure: bool = False):
    """Headings, and paragraphs cut into sentences (and sentences into word runs if huge).

    With ``structure``, official texts' own divisions count as headings too: a title line
    under a heading ("### Article 53" + "Obligations for providers…"), "Sec. 4. Title." and
    "4.1. Title." openings of executive orders, "Article 5" or "ANNEX III" lines.
    """
    stack: list[tuple[int, str]] = []
    last_was_heading = False
    for p_start, p_end in paragraph_spans(text):
        block = text[p_start:p_end]
        lines = block.split("\n")
        heading = _HEADING.match(lines[0]) if len(lines) == 1 else None
        if heading:
            level = len(heading.group(1))
            stack = [(lv, t) for lv, t in stack if lv < level] + [(level, heading.group(2))]
            yield _Unit(p_start, p_end, count_tokens(block), _path(stack), "heading")
            last_was_heading = True
            continue
        if structure and len(lines) == 1:
            division = _DIVISION.match(block)
            if division or (
                last_was_heading and stack and stack[-1][0] >= 2 and _is_title_line(block)
            ):
                if division:
                    level = _DIVISION_LEVEL
                    stack = [(lv, t) for lv, t in stack if lv < level] + [(level, block)]
                else:  # the title of the article just above: "Article 53 – Obligations…"
                    level, title = stack[-1]
                    stack[-1] = (level, f"{title} – {block}")
                yield _Unit(p_start, p_end, count_tokens(block), _path(stack), "heading")
                last_was_heading = True
                continue
        last_was_heading = False
        kind = "paragraph"
        section = _SECTION.match(block) if structure else None
        if section:  # "Sec. 4. Ensuring the Safety…." opens a section inside a paragraph
            level = _SECTION_LEVEL + (0 if section.group(1) else 1)
            stack = [(lv, t) for lv, t in stack if lv < level] + [(level, section.group(0))]
            kind = "heading"
        for s, e in sentence_spans(block, p_start):
            for ws, we, tokens in _split_long(text, s, e, max_tokens):
                yield _Unit(ws, we, tokens, _path(stack), kind)
                kind = "sentence"


# Divisions of official texts written as plain lines or paragraph openings.
_DIVISION = re.compile(
    r"^(?:Article|ARTICLE|Annex|ANNEX|Chapter|CHAPTER|Part|PART|Title|TITLE|Section|SECTION)"
    r"\s+[0-9IVXLC]+[a-z]?(?:\s*[–—:.-]\s*[^\n]{0,120})?$"
)
_DIVISION_LEVEL = 7  # below any markdown heading
_SECTION = re.compile(r"(?:Sec\.|Section)\s+(\d+)\.\s+[^.]{3,150}\.|(\d+\.\d+)\.\s+[^.]{3,150}\.")
_SECTION_LEVEL = 8


def _is_title_line(block: str) -> bool:
    words = block.split()
    if not 1 <= len(words) <= 15 or re.search(r"[.;:,]$", block) or not block[0].isupper():
        return False
    return not re.search(r"treaty series|official journal|^distr\.", block, re.IGNORECASE)


def _path(stack: list[tuple[int, str]]) -> tuple[str, ...]:
    return tuple(t for _, t in stack)


def _split_long(text: str, start: int, end: int, max_tokens: int):
    tokens = count_tokens(text[start:end])
    if tokens <= max_tokens:
        yield start, end, tokens
        return
    # A run-on "sentence" (tables, lists without punctuation): cut between words.
    run_start, run_tokens, last_end = start, 0, start
    for word in re.finditer(r"\S+", text[start:end]):
        w_start, w_end = start + word.start(), start + word.end()
        w_tokens = count_tokens(word.group(0)) + 1
        if run_tokens + w_tokens > max_tokens and run_tokens:
            yield run_start, last_end, run_tokens
            run_start, run_tokens = w_start, 0
        run_tokens += w_tokens
        last_end = w_end
    yield run_start, last_end, run_tokens


def _group(units: list[_Unit], max_tokens: int, overlap: int) -> list[list[_Unit]]:
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    carried = 0  # how many leading units of `current` are overlap from the previous chunk
    min_tokens = max_tokens // 4

    def size(items: list[_Unit]) -> int:
        return sum(u.tokens for u in items)

    def emit(items: list[_Unit]) -> None:
        if any(u.kind != "heading" for u in items) or not groups:
            groups.append(items)
        else:  # headings with nothing under them (the end of a document): keep their text
            groups[-1] = groups[-1] + items

    for unit in units:
        if unit.kind == "heading" and len(current) > carried and size(current) >= min_tokens:
            emit(current)
            current, carried = [], 0
        while current and size(current) + unit.tokens > max_tokens and len(current) > carried:
            cut = _best_cut(current, max_tokens, carried)
            emit(current[:cut])
            tail = _overlap_tail(current[:cut], overlap)
            current = tail + current[cut:]
            carried = len(tail)
            if size(current) + unit.tokens > max_tokens and carried:
                current, carried = current[carried:], 0
        current.append(unit)
    if len(current) > carried:
        emit(current)
    return groups


def _best_cut(items: list[_Unit], max_tokens: int, carried: int) -> int:
    """Cut before the last paragraph or heading start that keeps the chunk at least half full."""
    total = 0
    best = len(items)
    for i, unit in enumerate(items):
        if i > carried and unit.kind in ("heading", "paragraph") and total >= max_tokens // 2:
            best = i
        total += unit.tokens
    return best


def _overlap_tail(items: list[_Unit], overlap: int) -> list[_Unit]:
    tail: list[_Unit] = []
    total = 0
    for unit in reversed(items):
        if unit.kind == "heading" or total + unit.tokens > overlap:
            break
        tail.insert(0, unit)
        total += unit.tokens
    return tail

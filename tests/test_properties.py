"""Property-based tests (hypothesis): any text in, valid chunks out; any bytes in, a Document
or a SourceError out (issue 11). Example counts are kept small so the file takes seconds."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.chunking import CHUNKERS
from bot.errors import SourceError
from bot.records import Document
from bot.sources import LOADERS, parse

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text shaped like documents: words, punctuation, headings, blank lines, list markers, the
# divisions the structure chunker looks for, and any other character now and then.
PIECES = st.sampled_from(
    ["word", "Article 5", "ANNEX III", "Sec. 4. Safety.", "4.1. Scope.", "# Heading",
     "## Sub", "- item", "1.", "shall:", ".", ",", " ", "  ", "\n", "\n\n", "\n\n\n", "\t",
     "—", "é", "名前", "🤖", "\u200b", "x" * 300]
)  # fmt: skip
DOC_TEXT = st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=120).map("".join)


def make_doc(text: str) -> Document:
    return Document("d", "Title", text, "/x/d.md", "0" * 64, {})


@pytest.mark.parametrize("name", ["structure", "tokens"])
@FAST
@given(text=DOC_TEXT, max_tokens=st.sampled_from([50, 120, 400]))
def test_chunks_are_slices_inside_the_document_and_lose_no_text(name, text, max_tokens):
    doc = make_doc(text)
    chunks = CHUNKERS[name](doc, max_tokens, max_tokens // 6)
    covered = [False] * len(text)
    for i, chunk in enumerate(chunks):
        assert chunk.index == i and chunk.doc_id == "d"
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.text.strip()
        for j in range(chunk.start, chunk.end):
            covered[j] = True
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    # Every non-blank character is in some chunk: nothing falls between two chunks.
    lost = [ch for ch, seen in zip(text, covered, strict=True) if not seen and not ch.isspace()]
    assert not lost, (lost[:20], text[:200])


@FAST
@given(raw=st.binary(max_size=400), suffix=st.sampled_from(sorted(LOADERS)))
def test_any_bytes_give_a_document_or_a_reason(raw, suffix):
    try:
        doc = parse(f"/x/file{suffix}", raw, suffix)
    except SourceError as exc:
        assert str(exc).startswith("file"), str(exc)
        return
    assert doc.text.strip() and doc.title and re.fullmatch(r"[a-z0-9-]+", doc.doc_id)


@FAST
@given(
    front=st.dictionaries(
        st.sampled_from(["title", "date", "issuer", "topics", "source_url", "x"]),
        st.one_of(
            st.none(),
            st.integers(),
            st.floats(allow_nan=False),
            st.text(max_size=10),
            st.lists(st.integers(), max_size=3),
            st.booleans(),
        ),  # fmt: skip
        max_size=4,
    ),
    body=st.text(min_size=1, max_size=80),
)
def test_any_front_matter_gives_a_document_or_a_reason(front, body):
    import yaml

    raw = f"---\n{yaml.safe_dump(front)}---\n{body}".encode("utf-8", "surrogatepass")
    try:
        doc = parse("/x/note.md", raw, ".md")
    except SourceError as exc:
        assert str(exc).startswith("note.md: "), str(exc)
        return
    assert isinstance(doc.title, str) and doc.title
    for key in ("date", "issuer", "source_url"):
        assert not isinstance(doc.metadata.get(key), (list, dict))

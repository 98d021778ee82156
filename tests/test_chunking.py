import pytest

from bot.chunking import chunk_document, count_tokens
from bot.records import Document


def make_doc(text: str, title: str = "A long report") -> Document:
    return Document("report", title, text, "/tmp/report.md", "0123456789abcdef", {"issuer": "X"})


def long_markdown() -> str:
    sections = []
    for s in range(1, 5):
        paragraphs = [
            " ".join(
                f"Section {s} paragraph {p} sentence {n} says delegates discussed "
                f"verification, compute reporting and model evaluations at length."
                for n in range(1, 7)
            )
            for p in range(1, 6)
        ]
        sections.append(f"## Part {s}\n\n" + "\n\n".join(paragraphs))
    return "# Report\n\nIntro sentence about the report.\n\n" + "\n\n".join(sections) + "\n"


@pytest.fixture
def chunks():
    return chunk_document(make_doc(long_markdown()), max_tokens=300, overlap=50)


def test_offsets_point_at_the_chunk_text(chunks):
    text = long_markdown()
    assert len(chunks) > 4
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.tokens == count_tokens(chunk.text)


def test_chunks_respect_the_token_budget(chunks):
    assert all(c.tokens <= 300 for c in chunks)
    assert sum(c.tokens for c in chunks) >= count_tokens(long_markdown()) * 0.9


def test_chunks_break_at_headings_and_keep_the_heading_path(chunks):
    starts = [c for c in chunks if c.text.startswith("## Part")]
    assert [c.headings for c in starts] == [["Report", f"Part {n}"] for n in range(2, 5)]
    # the one-line intro is too small to stand alone, so Part 1 joins it
    assert "## Part 1" in chunks[0].text and chunks[0].headings == ["Report"]
    for chunk in chunks:
        # every chunk's heading path names the section its first sentence belongs to
        part = chunk.headings[-1]
        assert part == "Report" or f"Section {part.split()[-1]} " in chunk.text


def test_consecutive_chunks_within_a_section_overlap(chunks):
    overlapping = [
        (a, b)
        for a, b in zip(chunks, chunks[1:], strict=False)
        if a.headings == b.headings and b.start < a.end
    ]
    assert overlapping, "expected sentence overlap between neighbours in one section"
    for a, b in overlapping:
        assert count_tokens(long_markdown()[b.start : a.end]) <= 60


def test_chunk_ids_are_stable_and_carry_the_content_hash(chunks):
    again = chunk_document(make_doc(long_markdown()), max_tokens=300, overlap=50)
    assert [c.chunk_id for c in again] == [c.chunk_id for c in chunks]
    assert chunks[0].chunk_id == "report-01234567-0000"


def test_context_text_has_title_and_heading_path(chunks):
    chunk = chunks[-1]
    assert chunk.context_text.startswith("A long report — Report > Part 4\n\n")
    assert chunk.context_text.endswith(chunk.text)


def test_a_huge_unpunctuated_block_is_still_cut_within_budget():
    text = "# Table\n\n" + " ".join(f"cell{n}" for n in range(3000))
    chunks = chunk_document(make_doc(text), max_tokens=200, overlap=20)
    assert len(chunks) > 5
    assert all(c.tokens <= 200 for c in chunks)
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_short_document_is_one_chunk_and_metadata_is_copied():
    doc = make_doc("Just one line of text about the OECD principles.")
    (chunk,) = chunk_document(doc)
    assert chunk.text == doc.text
    assert chunk.metadata == {"issuer": "X"}
    assert chunk.title == "A long report"

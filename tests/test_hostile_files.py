"""A folder of broken and hostile files beside good ones: one ingest, a clear outcome for every
file, and the good ones indexed all the same (issue 11)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from bot import Bot
from bot.errors import SourceError
from bot.sources import load

GOOD = "# {title}\n\nThe {title} asks every member to publish an audit register each spring.\n"


def encrypted_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("a-password", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# name → (content, the reason the report must give, or None when the file must be indexed)
HOSTILE: dict[str, tuple[bytes, str | None]] = {
    "empty.md": (b"", "the file is empty"),
    "blank.txt": (b" \n\t\n  ", "the file is empty"),
    "photo-renamed.md": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(300), "binary"),
    "random-bytes.md": (bytes(range(128, 256)) * 20, "not valid UTF-8"),
    "latin1.txt": ("caf\xe9 d\xe9j\xe0 vu".encode("latin-1"), "not valid UTF-8 (byte 3)"),
    "corrupt.pdf": (b"%PDF-1.7\n1 0 obj << /Type /Catalog", "not a readable PDF"),
    "locked.pdf": (b"", "password-protected"),  # written by the test (pypdf)
    "bad-yaml.md": (b"---\ntitle: [unclosed\n---\n\nBody text.\n", "malformed YAML"),
    "list-date.md": (b"---\ndate: [2024, 2025]\n---\n\nBody text.\n", "`date` is a list"),
    "map-issuer.md": (b"---\nissuer: {a: 1}\n---\n\nBody text.\n", "`issuer` is a mapping"),
    "number-title.md": (b"---\ntitle: 1984\ndate: 2024\n---\n\nOrwell's year.\n", None),
    "nested.html": (
        b"<html><body>" + b"<div>" * 5000 + b"Deeply nested compute pledge." + b"</div>" * 5000,
        None,
    ),
    "malformed.html": (
        b"<html><body><p>Unclosed <b>bold <table><tr><td>cell</p></div> text &bogus; <<<",
        None,
    ),
    "with spaces.md": (GOOD.format(title="Spaced charter").encode(), None),
    "-leading-dash.md": (GOOD.format(title="Dash charter").encode(), None),
    "ünïcödé-名前.md": (GOOD.format(title="Unicode charter").encode(), None),
    "copy-one.md": (GOOD.format(title="Twin charter").encode(), None),
    "copy-two.md": (GOOD.format(title="Twin charter").encode(), None),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, embedder):
    """One ingest of a folder holding every hostile file, a 50 MB text file, a link out of
    the folder and two good documents."""
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "docs"
    folder.mkdir()
    for name, (content, _) in HOSTILE.items():
        (folder / name).write_bytes(content)
    (folder / "locked.pdf").write_bytes(encrypted_pdf())
    for title in ("Good alpha", "Good beta"):
        (folder / f"{title.lower().replace(' ', '-')}.md").write_text(GOOD.format(title=title))
    with open(folder / "huge.txt", "wb") as out:  # 50 MB, refused before it is read
        line = b"The huge file repeats one sentence about compute thresholds.\n"
        for _ in range(50_000_000 // len(line) + 1):
            out.write(line)
    outside = root / "private"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n\nThe payroll password is hunter2.\n")
    os.symlink(outside / "secret.md", folder / "link-out.md")
    data = root / "data"
    bot = Bot(data_dir=data)
    report = bot.ingest([folder])
    return bot, report, folder


def _reason(report, name: str) -> str | None:
    reasons = [r for source, r in report.failed if Path(source).name == name]
    return reasons[0] if reasons else None


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_every_hostile_file_gets_its_own_outcome(hostile, name):
    bot, report, _ = hostile
    expected = HOSTILE[name][1]
    reason = _reason(report, name)
    if expected is None:
        assert reason is None, reason
        sources = {Path(d.source).name for d in bot.documents()}
        assert name in sources
    else:
        assert reason is not None and expected in reason, (name, reason)


def test_good_files_are_indexed_beside_the_bad_ones(hostile):
    bot, report, _ = hostile
    assert {"good-alpha", "good-beta"} <= set(report.added)
    refused = [n for n, (_, reason) in HOSTILE.items() if reason]
    assert len(report.failed) == len(refused) + 2, report.failed  # + huge.txt and the link
    answer = bot.ask("Which charter asks members to publish an audit register?")
    assert answer.citations and not answer.abstained


def test_a_50_mb_file_is_refused_with_its_size_before_it_is_read(hostile):
    _, report, _ = hostile
    reason = _reason(report, "huge.txt")
    assert reason and "over the limit of 20,000,000" in reason and "ACCORD_MAX_FILE_BYTES" in reason


def test_a_link_out_of_the_folder_is_not_followed(hostile):
    bot, report, folder = hostile
    assert _reason(report, "link-out.md") == "a link to a file outside the folder; not followed"
    assert all("private" not in d.source for d in bot.documents())
    assert not bot.search("payroll password hunter2", mode="bm25")


def test_odd_names_get_distinct_ids_and_keep_their_file_name(hostile):
    bot, _, _ = hostile
    docs = {Path(d.source).name: d for d in bot.documents()}
    ids = [d.doc_id for d in docs.values()]
    assert len(ids) == len(set(ids))
    assert docs["-leading-dash.md"].doc_id == "leading-dash"
    assert docs["with spaces.md"].doc_id == "with-spaces"
    assert docs["ünïcödé-名前.md"].title == "Unicode charter"


def test_unexpected_front_matter_types_become_text(hostile):
    bot, _, _ = hostile
    doc = {Path(d.source).name: d for d in bot.documents()}["number-title.md"]
    assert doc.title == "1984" and doc.metadata["date"] == "2024"


def test_the_same_document_under_two_names_is_indexed_once_per_name(hostile):
    """Both copies are kept (each is a file the user chose to add), each exactly once."""
    bot, _, _ = hostile
    twins = [d for d in bot.documents() if Path(d.source).name.startswith("copy-")]
    assert len(twins) == 2 and twins[0].content_hash == twins[1].content_hash
    chunks = [c for c in bot.snapshot().chunks.values() if c.doc_id in {t.doc_id for t in twins}]
    assert len(chunks) == 2


def test_html_too_deep_for_lxml_still_gives_its_text(hostile):
    bot, _, _ = hostile
    passages = bot.search("deeply nested compute pledge", mode="bm25")
    assert passages and passages[0].chunk.doc_id == "nested"


def test_a_parser_crash_costs_one_file_not_the_batch(tmp_path, monkeypatch):
    from bot import sources

    def explode(raw, name):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setitem(sources.LOADERS, ".html", explode)
    path = tmp_path / "page.html"
    path.write_text("<p>x</p>")
    with pytest.raises(SourceError, match="could not be read .RecursionError"):
        load(str(path))

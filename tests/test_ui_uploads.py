"""Files added on the page (bot/ui/uploads.py): names, copies, results, restores."""

from __future__ import annotations

import pytest

from bot.sources import LOADERS
from bot.ui import (
    UPLOAD_SUFFIXES,
    ChatPage,
    safe_filename,
)
from tests.ui_support import StubBot


def test_uploads_accept_exactly_what_the_loaders_read():
    assert set(UPLOAD_SUFFIXES) == set(LOADERS)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.md", "report.md"),
        ("../../etc/passwd", "passwd"),
        (".hidden.md", "hidden.md"),
        ("C:\\Users\\me\\notes.TXT", "notes.txt"),
        ("we ird<>name.pdf", "we ird_name.pdf"),
        ("", "upload"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_uploads_are_copied_then_ingested_with_a_result_per_file(data_dir, tmp_path):
    bot = StubBot(data_dir)
    page = ChatPage(bot)
    good = tmp_path / "good.md"
    good.write_text("# Good\n\nText.\n")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff")
    same = tmp_path / "same.md"
    same.write_text("x")
    odd = tmp_path / "notes.docx"
    odd.write_bytes(b"PK")
    progress = []
    rows = page.ingest_uploads(
        [good, bad, same, odd], progress=lambda *a, **k: progress.append(a[0])
    )
    assert rows == [
        ("good.md", "added", "2 chunks, as good"),
        ("bad.txt", "failed", "not valid UTF-8 (byte 3)"),
        ("same.md", "unchanged", "already indexed with the same content"),
        ("notes.docx", "failed", rows[3][2]),
    ]
    assert "unsupported file type .docx" in rows[3][2]
    assert bot.ingested == [data_dir / "uploads" / n for n in ("good.md", "bad.txt", "same.md")]
    assert sorted(p.name for p in (data_dir / "uploads").iterdir()) == ["good.md", "same.md"]
    assert progress[0] == (0, 4) and progress[-1] == (4, 4)


def test_a_failed_update_restores_the_previous_upload(data_dir, tmp_path):
    bot = StubBot(data_dir)
    uploads = data_dir / "uploads"
    uploads.mkdir(parents=True)
    (uploads / "doc.txt").write_text("old, indexed version")
    new = tmp_path / "doc.txt"
    new.write_bytes(b"\xff new broken version")
    rows = ChatPage(bot).ingest_uploads([new])
    assert rows[0][1] == "failed"
    assert (uploads / "doc.txt").read_text() == "old, indexed version"


def test_an_upload_that_waits_for_another_ingest_says_so_in_its_progress(data_dir, tmp_path):
    class WaitingBot(StubBot):
        def ingest(self, paths, prune=True, on_wait=None):
            on_wait("another ingest is running (pid 42); waiting up to 600 s for it to finish…")
            return super().ingest(paths, prune)

    doc = tmp_path / "doc.md"
    doc.write_text("# Doc\n\nText.\n")
    progress = []
    rows = ChatPage(WaitingBot(data_dir)).ingest_uploads(
        [doc], progress=lambda done, desc, unit: progress.append((done, desc))
    )
    assert rows[0][1] == "added"
    assert progress[1] == (
        (0, 1),
        "Another ingest is running (pid 42); waiting up to 600 s for it to finish…",
    )


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("..\\..\\evil.md", "evil.md"),
        ("-rf --no-preserve-root.md", "rf --no-preserve-root.md"),
        (".bashrc.md", "bashrc.md"),
        ("名前.md", "upload.md"),
        ("a" * 240 + ".md", "a" * 100 + ".md"),
        ("report.md\x00.txt", "report.md.txt"),
    ],
)
def test_hostile_upload_names_are_stored_under_the_uploads_folder(data_dir, tmp_path, name, stored):
    source = tmp_path / "incoming"
    source.mkdir()
    if "\x00" in name:  # no file system allows NUL: check the name alone
        assert safe_filename(name) == stored
        return
    path = source / name
    path.write_text("# Doc\n\nText.\n")
    bot = StubBot(data_dir)
    rows = ChatPage(bot).ingest_uploads([path])
    assert rows[0].outcome == "added", rows
    uploads = (data_dir / "uploads").resolve()
    assert [p.resolve().parent for p in bot.ingested] == [uploads]
    assert bot.ingested[0].name == stored
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and uploads not in p.parents]
    assert sorted(p.name for p in outside) == [path.name]  # only the original


def test_uploads_over_the_size_limit_or_of_other_types_are_refused_each_with_a_reason(
    data_dir, tmp_path
):
    from bot.settings import Settings

    bot = StubBot(data_dir)
    bot.settings = Settings(data_dir=data_dir, max_file_bytes=1_000)
    big = tmp_path / "big.md"
    big.write_bytes(b"word " * 1_000)
    exe = tmp_path / "setup.exe"
    exe.write_bytes(b"MZ")
    small = tmp_path / "small.md"
    small.write_text("# Small\n\nText.\n")
    rows = ChatPage(bot).ingest_uploads([big, exe, small])
    assert [r.outcome for r in rows] == ["failed", "failed", "added"]
    assert rows[0].detail == "5,000 bytes is over the limit of 1,000 (ACCORD_MAX_FILE_BYTES)"
    assert "unsupported file type .exe" in rows[1].detail
    assert bot.ingested == [data_dir / "uploads" / "small.md"]


def test_the_upload_route_keeps_files_in_gradio_s_folder(page_server, tmp_path):
    """Gradio's own upload route, with a name that tries to climb out: the file lands in
    GRADIO_TEMP_DIR (under the data dir when app.py runs) and nowhere else."""
    import os
    from pathlib import Path

    import httpx

    temp = Path(os.environ["GRADIO_TEMP_DIR"]).resolve()
    url = page_server.local_url.rstrip("/") + "/gradio_api/upload"
    response = httpx.post(url, files={"files": ("../../../escape-attempt.md", b"# x\n\ny\n")})
    assert response.status_code == 200, response.text
    (stored,) = response.json()
    assert temp in Path(stored).resolve().parents
    assert Path(stored).name == "escape-attempt.md"
    assert not (temp.parent / "escape-attempt.md").exists()

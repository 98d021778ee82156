"""Index snapshots on disk (bot/snapshot.py): saved whole, pointed at atomically, tidied."""

from __future__ import annotations

import pytest

from bot.records import Chunk
from bot.snapshot import Snapshot, SnapshotFiles


def chunks(*texts: str) -> list[Chunk]:
    return [
        Chunk(f"d-{i}", "d", i, text, 0, len(text), 3, ["Head"], "Doc", {"issuer": "G7"})
        for i, text in enumerate(texts)
    ]


def test_a_saved_snapshot_loads_back_equal(tmp_path):
    files = SnapshotFiles(tmp_path / "snapshots")
    assert files.current() is None
    snapshot = Snapshot.build("3", chunks("Export controls on chips.", "The Bletchley summit."))
    files.save(snapshot)
    assert files.current() == "3" and files.complete("3")
    loaded = files.load("3")
    assert loaded.generation == "3"
    assert loaded.chunks == snapshot.chunks
    assert loaded.keyword.ids == ["d-0", "d-1"]
    assert list(loaded.keyword.scores("chips")) == list(snapshot.keyword.scores("chips"))
    assert loaded.keyword.scores("chips")[0] > 0 == loaded.keyword.scores("chips")[1]


def test_an_empty_snapshot_round_trips(tmp_path):
    files = SnapshotFiles(tmp_path / "snapshots")
    files.save(Snapshot.build("1", []))
    empty = files.load("1")
    assert empty.chunks == {} and len(empty.keyword.scores("anything")) == 0


def test_the_pointer_moves_only_to_a_complete_snapshot(tmp_path, monkeypatch):
    files = SnapshotFiles(tmp_path / "snapshots")
    files.save(Snapshot.build("1", chunks("one")))

    def die(self, folder):
        raise KeyboardInterrupt  # the writer is stopped half-way through the next snapshot

    monkeypatch.setattr("bot.keyword.KeywordIndex.save", die)
    with pytest.raises(KeyboardInterrupt):
        files.save(Snapshot.build("2", chunks("one", "two")))
    assert files.current() == "1" and files.load("1").keyword.ids == ["d-0"]
    assert sorted(p.name for p in files.folder.iterdir()) == ["1", "current"]


def test_cleaning_keeps_what_it_is_told_and_removes_leftovers(tmp_path):
    files = SnapshotFiles(tmp_path / "snapshots")
    for generation in ("1", "2", "3"):
        files.save(Snapshot.build(generation, chunks(f"text {generation}")))
    (files.folder / "4.tmp-123-abcdef").mkdir()  # a writer that died
    (files.folder / "current.tmp-123-abcdef").write_text("4")
    files.clean(keep={"3", "2"})
    assert sorted(p.name for p in files.folder.iterdir()) == ["2", "3", "current"]


def test_a_damaged_snapshot_is_refused(tmp_path):
    files = SnapshotFiles(tmp_path / "snapshots")
    files.save(Snapshot.build("5", chunks("a", "b")))
    (files.folder / "5" / "keyword.json").write_text('{"ids": ["x"], "df": {}}')
    with pytest.raises(ValueError, match="disagree"):
        files.load("5")

"""Index snapshots: what one question reads, whole and unchanging, while an ingest writes the next.

A :class:`Snapshot` is one generation of the catalog: its chunks by id and the BM25 model built
from exactly those chunks. Questions only ever read a snapshot; an ingest builds the next one
in a folder of its own and then moves a small pointer file, so a reader sees either the old
snapshot or the new one, never half of each.

On disk, under ``<index>/snapshots``::

    current           the generation readers should load (replaced atomically)
    <generation>/     snapshot.json (generation, chunks) and the keyword index (keyword.json, bm25/)

Only the writer (who holds the index's write lock, :mod:`bot.locking`) creates or deletes
folders; it keeps the previous snapshot one round so a reader that has just read the pointer
can still load it. With a shared catalog (PostgreSQL) each process derives its own snapshots
into ``<index>/snapshots-<catalog id>`` instead, one at a time per data dir
(:meth:`bot.index.Index._derive`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bot import faults
from bot.keyword import KeywordIndex
from bot.records import Chunk

log = logging.getLogger(__name__)

SNAPSHOT_FILE = "snapshot.json"


@dataclass(frozen=True)
class Snapshot:
    """One consistent view of the index: a question reads one from start to end."""

    generation: str
    chunks: dict[str, Chunk] = field(repr=False)
    keyword: KeywordIndex = field(repr=False)

    @classmethod
    def build(cls, generation: str, chunks: list[Chunk], reuse: Path | None = None) -> Snapshot:
        """``reuse``: an earlier snapshot's folder, whose keyword work is reused where chunks
        are unchanged."""
        keyword = KeywordIndex.build(chunks, reuse)
        return cls(generation, {c.chunk_id: c for c in chunks}, keyword)


class SnapshotFiles:
    """The snapshots folder: read the current one; (writer only) save the next and tidy up."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pointer = folder / "current"

    def current(self) -> str | None:
        """The generation the pointer names, or None when no snapshot was ever completed."""
        try:
            return self.pointer.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def folder_of(self, generation: str | None) -> Path | None:
        """The folder of a complete snapshot, or None."""
        if generation and self.complete(generation):
            return self.folder / generation
        return None

    def complete(self, generation: str) -> bool:
        folder = self.folder / generation
        return (folder / SNAPSHOT_FILE).is_file() and (folder / "keyword.json").is_file()

    def load(self, generation: str) -> Snapshot:
        """Raises OSError or ValueError when the folder is missing or incomplete."""
        folder = self.folder / generation
        state = json.loads((folder / SNAPSHOT_FILE).read_text(encoding="utf-8"))
        if state["generation"] != generation:
            raise ValueError(f"{folder} holds generation {state['generation']}")
        documents = state.get("documents")
        if documents is None:  # written before documents were stored once
            chunks = [Chunk(**c) for c in state["chunks"]]
        else:
            chunks = [
                Chunk(**c, title=documents[c["doc_id"]][0], metadata=documents[c["doc_id"]][1])
                for c in state["chunks"]
            ]
        keyword = KeywordIndex.load(folder)
        if keyword.ids != [c.chunk_id for c in chunks]:
            raise ValueError(f"{folder}: the keyword index and the chunks disagree")
        return Snapshot(generation, {c.chunk_id: c for c in chunks}, keyword)

    def save(self, snapshot: Snapshot) -> None:
        """Write the snapshot's folder, then point readers at it. Writer only."""
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / snapshot.generation
        tmp = self.folder / f"{snapshot.generation}.tmp-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        tmp.mkdir()
        try:
            snapshot.keyword.save(tmp)
            faults.kill_point("keyword")
            # A document's title and metadata are written once and shared by its chunks when
            # loaded: per chunk they were most of a 100k-chunk snapshot's memory. vars(), not
            # asdict(): asdict deep-copies every field (1.1 s per 10k chunks).
            documents: dict[str, tuple[str, dict]] = {}
            rows = []
            for c in snapshot.chunks.values():
                documents.setdefault(c.doc_id, (c.title, c.metadata))
                rows.append({k: v for k, v in vars(c).items() if k not in ("title", "metadata")})
            state = {"generation": snapshot.generation, "documents": documents, "chunks": rows}
            (tmp / SNAPSHOT_FILE).write_text(json.dumps(state, ensure_ascii=False), "utf-8")
            if final.exists():  # left by a run that died before moving the pointer
                shutil.rmtree(final)
            tmp.rename(final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        faults.kill_point("pointer")
        self._point_at(snapshot.generation)

    def _point_at(self, generation: str) -> None:
        tmp = self.pointer.with_name(f"current.tmp-{os.getpid()}-{uuid.uuid4().hex[:6]}")
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(generation + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.pointer)

    def clean(self, keep: set[str]) -> None:
        """Delete every snapshot folder but ``keep``, and what interrupted writers left. Writer
        only: readers that already loaded an old snapshot keep it in memory."""
        if not self.folder.exists():
            return
        for path in self.folder.iterdir():
            if path.name == "current" or path.name in keep:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.name.startswith("current.tmp-"):
                path.unlink(missing_ok=True)

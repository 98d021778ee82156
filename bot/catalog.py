"""The catalog: which documents are indexed, their hashes, and their chunks (SQLite).

Chroma holds vectors; the catalog holds everything needed to diff an ingest, rebuild the
keyword index and show a citation without asking the vector store. One transaction per
document keeps an interrupted ingest consistent.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import faults
from bot.records import Chunk, Document

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, source TEXT UNIQUE NOT NULL, content_hash TEXT NOT NULL,
    title TEXT NOT NULL, metadata TEXT NOT NULL, chunks INTEGER NOT NULL, ingested_at REAL
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, idx INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, tokens INTEGER NOT NULL,
    headings TEXT NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass
class DocRecord:
    doc_id: str
    source: str
    content_hash: str
    title: str
    metadata: dict[str, Any]
    chunks: int
    ingested_at: float


class Catalog:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def documents(self) -> list[DocRecord]:
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT doc_id, source, content_hash, title, metadata, chunks, ingested_at "
                "FROM documents ORDER BY doc_id"
            ).fetchall()
        return [DocRecord(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6]) for r in rows]

    def put(self, doc: Document, chunks: list[Chunk]) -> None:
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc.doc_id,))
            db.execute(
                "DELETE FROM documents WHERE doc_id = ? OR source = ?", (doc.doc_id, doc.source)
            )
            db.execute(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    doc.doc_id,
                    doc.source,
                    doc.content_hash,
                    doc.title,
                    json.dumps(doc.metadata, ensure_ascii=False),
                    len(chunks),
                    time.time(),
                ),
            )
            db.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        c.chunk_id,
                        c.doc_id,
                        c.index,
                        c.start,
                        c.end,
                        c.tokens,
                        json.dumps(c.headings, ensure_ascii=False),
                        c.text,
                    )
                    for c in chunks
                ],
            )
            self._bump(db)
            faults.kill_point("catalog")

    def remove(self, doc_id: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
            db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
            self._bump(db)

    def chunks(self) -> list[Chunk]:
        """Every chunk, in document then position order, with its document's metadata."""
        return self.read()[1]

    def read(self) -> tuple[str, list[Chunk]]:
        """The generation and its chunks, read in one transaction so they belong together."""
        with closing(self._connect()) as db:
            db.execute("BEGIN")  # one read transaction: no writer commits in between
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            docs = {
                r[0]: (r[1], r[2], json.loads(r[3]))
                for r in db.execute("SELECT doc_id, source, title, metadata FROM documents")
            }
            rows = db.execute(
                'SELECT chunk_id, doc_id, idx, start, "end", tokens, headings, text '
                "FROM chunks ORDER BY doc_id, idx"
            ).fetchall()
            db.rollback()
        out = []
        for chunk_id, doc_id, idx, start, end, tokens, headings, text in rows:
            doc = docs.get(doc_id)
            if doc is None:
                continue
            source, title, metadata = doc
            out.append(
                Chunk(
                    chunk_id,
                    doc_id,
                    idx,
                    text,
                    start,
                    end,
                    tokens,
                    json.loads(headings),
                    title,
                    dict(metadata, source=source),
                )
            )
        return (row[0] if row else "0"), out

    def get_meta(self, key: str, default: str = "") -> str:
        with closing(self._connect()) as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def generation(self) -> str:
        """Changes whenever a document is added, replaced or removed."""
        return self.get_meta("generation", "0")

    def _bump(self, db: sqlite3.Connection) -> None:
        row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        value = str(int(row[0]) + 1 if row else 1)
        db.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (value,))

    def reset(self) -> None:
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM chunks")
            db.execute("DELETE FROM documents")
            db.execute("DELETE FROM meta WHERE key != 'generation'")
            self._bump(db)

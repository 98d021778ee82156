"""The catalog: which documents are indexed, their hashes, and their chunks.

Chroma holds vectors; the catalog holds everything needed to diff an ingest, rebuild the
keyword index and show a citation without asking the vector store. One transaction per
document keeps an interrupted ingest consistent.

Two backends behind one interface (:class:`Catalog`), chosen by ``settings.catalog_url``
(:func:`open_catalog`): the embedded SQLite file in the index folder (:class:`LocalCatalog`,
the default), or PostgreSQL shared by several page servers (``postgresql://...``,
:mod:`bot.catalog_pg`). Everything above them (ingest, recovery, snapshots) is one code path;
a shared catalog only tells the index to derive its snapshots itself (:attr:`Catalog.shared`).
"""

from __future__ import annotations

import json
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import faults
from bot.errors import ConfigError
from bot.locking import write_lock
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


def chunk_row(c) -> tuple:
    """A chunk as both catalogs store it: id, document, position, offsets, tokens, headings
    (JSON) and text."""
    return (
        c.chunk_id, c.doc_id, c.index, c.start, c.end, c.tokens,
        json.dumps(c.headings, ensure_ascii=False), c.text,
    )  # fmt: skip


@dataclass
class DocRecord:
    doc_id: str
    source: str
    content_hash: str
    title: str
    metadata: dict[str, Any]
    chunks: int
    ingested_at: float


class Catalog(ABC):
    """What the index needs from a catalog. A backend implements the abstract methods; the
    rest is written once here."""

    #: True when other processes (replicas) read this catalog without sharing our index folder:
    #: they cannot load our snapshot files, so each derives its own from the catalog.
    shared = False

    @property
    @abstractmethod
    def where(self) -> str:
        """Where the catalog lives, fit to show (no password)."""

    @abstractmethod
    def documents(self) -> list[DocRecord]: ...

    @abstractmethod
    def put(self, doc: Document, chunks: list[Chunk]) -> None:
        """Replace ``doc`` and its chunks in one transaction, bumping the generation."""

    @abstractmethod
    def remove(self, doc_id: str) -> None: ...

    @abstractmethod
    def read(self) -> tuple[str, list[Chunk]]:
        """The generation and its chunks, read in one transaction so they belong together."""

    @abstractmethod
    def get_meta(self, key: str, default: str = "") -> str: ...

    @abstractmethod
    def set_meta(self, key: str, value: str) -> None: ...

    @abstractmethod
    def reset(self) -> None:
        """Forget every document (the generation still moves on)."""

    @abstractmethod
    def lock(
        self, timeout: float, on_wait: Callable[[str], None] | None = None
    ) -> AbstractContextManager[None]:
        """The one-writer-at-a-time lock of this index (:func:`bot.locking.wait_for`)."""

    def publish(self, generation: str) -> None:
        """Record that ``generation`` is complete (an ingest's last step). Readers of a shared
        catalog follow this mark; a local catalog's readers follow the snapshot pointer file
        instead, so this is a no-op for it."""
        return None

    def published(self) -> tuple[str, str]:
        """(the last published generation, the current one): what a replica polls."""
        return self.get_meta("published", ""), self.generation

    def chunks(self) -> list[Chunk]:
        """Every chunk, in document then position order, with its document's metadata."""
        return self.read()[1]

    @property
    def generation(self) -> str:
        """Changes whenever a document is added, replaced or removed."""
        return self.get_meta("generation", "0")

    @property
    def identity(self) -> str:
        """An id fixed when the catalog was created (shared catalogs name their replicas'
        snapshot folders with it)."""
        return ""

    def close(self) -> None:
        """Release connections (a no-op where there are none)."""
        return None


def assemble(docs: dict[str, tuple[str, str, dict]], rows) -> list[Chunk]:
    """Chunks from catalog rows (chunk_id, doc_id, idx, start, end, tokens, headings, text)
    and their documents (doc_id -> source, title, metadata); shared by the backends."""
    out = []
    for chunk_id, doc_id, idx, start, end, tokens, headings, text in rows:
        doc = docs.get(doc_id)
        if doc is None:
            continue
        source, title, metadata = doc
        if isinstance(headings, str):
            headings = json.loads(headings)
        out.append(
            Chunk(
                chunk_id,
                doc_id,
                idx,
                text,
                start,
                end,
                tokens,
                headings,
                title,
                dict(metadata, source=source),
            )
        )
    return out


def open_catalog(settings) -> Catalog:
    """The backend ``settings.catalog_url`` names: empty for the local file, or a URL whose
    scheme is in :data:`CATALOGS`."""
    url = settings.catalog_url
    scheme = url.split("://", 1)[0].lower() if url else ""
    try:
        factory = CATALOGS[scheme]
    except KeyError:
        raise ConfigError(
            f"ACCORD_CATALOG_URL={url!r}: unknown catalog kind {scheme!r}; use "
            "postgresql://user:password@host:port/database, or leave it empty for the local "
            "catalog"
        ) from None
    return factory(settings)


def _local(settings) -> Catalog:
    return LocalCatalog(settings.index_dir / "catalog.sqlite")


def _postgres(settings) -> Catalog:
    from bot.catalog_pg import PostgresCatalog  # psycopg is imported only by this backend

    return PostgresCatalog(settings.catalog_url)


CATALOGS: dict[str, Callable[[Any], Catalog]] = {
    "": _local,
    "postgresql": _postgres,
    "postgres": _postgres,
}


class LocalCatalog(Catalog):
    """SQLite in ``<index>/catalog.sqlite``; the write lock is ``flock`` on
    ``<index>/write.lock``. One machine: readers share the index folder and its snapshots."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.parent / "write.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)

    @property
    def where(self) -> str:
        return str(self.path)

    def lock(self, timeout: float, on_wait: Callable[[str], None] | None = None):
        return write_lock(self.lock_path, timeout, on_wait)

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
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [chunk_row(c) for c in chunks]
            )
            self._bump(db)
            faults.kill_point("catalog")

    def remove(self, doc_id: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
            db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
            self._bump(db)

    def read(self) -> tuple[str, list[Chunk]]:
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
        out = assemble(docs, rows)
        return (row[0] if row else "0"), out

    def get_meta(self, key: str, default: str = "") -> str:
        with closing(self._connect()) as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

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

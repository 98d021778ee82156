"""The catalog on PostgreSQL (``ACCORD_CATALOG_URL=postgresql://user:password@host:port/db``):
one catalog for every page server, so an upload to one is seen by all.

The same tables as the local catalog (documents, chunks, meta), prefixed ``accord_``, and the
same one-transaction-per-document writes. The ingest lock is a session advisory lock held on a
connection of its own for the whole ingest: PostgreSQL drops it when that connection ends,
so a killed ingest (on any machine) never leaves the index locked. Its holder is named by the
connection's ``application_name`` (``accord-ingest pid N on HOST``).

Calls share a few pooled connections and open a new one after a failure, so a PostgreSQL
restart costs the calls made while it is down (each raises :class:`CatalogError` saying so)
and nothing after it. psycopg 3, no ORM; imported only when this backend is chosen.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bot import faults
from bot.catalog import Catalog, DocRecord, assemble, chunk_row
from bot.errors import CatalogError
from bot.locking import wait_for
from bot.records import Chunk, Document
from bot.settings import redact_url

log = logging.getLogger(__name__)

# The advisory lock's two keys: the project's (b"ACrd") and this catalog's tables.
LOCK_KEYS = (0x41437264, 1)
CONNECT_TIMEOUT = 5  # seconds: a PostgreSQL that is down is reported, not waited for
KEEP_IDLE = 4  # connections kept open between calls, per process

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accord_documents (
    doc_id TEXT PRIMARY KEY, source TEXT UNIQUE NOT NULL, content_hash TEXT NOT NULL,
    title TEXT NOT NULL, metadata JSON NOT NULL, chunks INTEGER NOT NULL,
    ingested_at DOUBLE PRECISION
);
CREATE TABLE IF NOT EXISTS accord_chunks (
    chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, idx INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, tokens INTEGER NOT NULL,
    headings JSON NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS accord_chunks_doc ON accord_chunks (doc_id);
CREATE TABLE IF NOT EXISTS accord_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO accord_meta VALUES ('generation', '0') ON CONFLICT DO NOTHING;
"""
# Document order as SQLite sorts it (bytes), whatever the database's collation.
_ORDER = 'ORDER BY doc_id COLLATE "C", idx'


class PostgresCatalog(Catalog):
    shared = True

    def __init__(self, url: str) -> None:
        self.url = url
        self._idle: list = []
        self._pool_lock = threading.Lock()
        self._schema_lock = threading.Lock()
        self._ready = False
        self.instance = ""  # this catalog's id, fixed when its tables are first made

    @property
    def where(self) -> str:
        return redact_url(self.url)

    # ---- connections
    def _connect(self, **options):
        import psycopg

        try:
            return psycopg.connect(
                self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, **options
            )
        except psycopg.OperationalError as exc:
            raise self._down(exc) from None

    def _down(self, exc: Exception) -> CatalogError:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return CatalogError(
            f"the catalog on PostgreSQL at {self.where} is not answering ({reason[:300]}); "
            "check that PostgreSQL is running and that ACCORD_CATALOG_URL names it — "
            "questions and ingests work again by themselves once it answers"
        )

    def _take(self):
        with self._pool_lock:
            while self._idle:
                conn = self._idle.pop()
                if not (conn.closed or conn.broken):
                    return conn
        return self._connect()

    def _give(self, conn) -> None:
        """Keep a few connections for the next calls; close the rest (threads come and go:
        a page's worker threads must not each hold a connection open)."""
        with self._pool_lock:
            if not (conn.closed or conn.broken) and len(self._idle) < KEEP_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def _run(self, work: Callable):
        """``work(connection)`` on a pooled connection, once more on a new connection when the
        first fails for want of one (a restarted server leaves every old connection dead); a
        server that is down raises :class:`CatalogError`."""
        import psycopg

        self._ensure_schema()
        for attempt in (1, 2):
            conn = self._take()
            try:
                result = work(conn)
            except psycopg.OperationalError as exc:
                conn.close()
                if attempt == 2:
                    raise self._down(exc) from None
                self._drop_idle()  # they died with the same server
                log.info("catalog connection lost (%s); reconnecting", exc)
            except BaseException:
                conn.close()
                raise
            else:
                self._give(conn)
                return result

    def _drop_idle(self) -> None:
        with self._pool_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _ensure_schema(self) -> None:
        if self._ready:
            return
        with self._schema_lock:
            if self._ready:
                return
            with self._connect() as conn:
                # Two processes creating the tables at once would race on CREATE IF NOT EXISTS.
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_KEYS[0], 0))
                    conn.execute(_SCHEMA)
                    conn.execute(
                        "INSERT INTO accord_meta VALUES ('instance', %s) ON CONFLICT DO NOTHING",
                        (uuid.uuid4().hex[:12],),
                    )
                    row = conn.execute(
                        "SELECT value FROM accord_meta WHERE key = 'instance'"
                    ).fetchone()
            self.instance = row[0]
            self._ready = True

    @property
    def identity(self) -> str:
        self._ensure_schema()
        return self.instance

    def close(self) -> None:
        self._drop_idle()

    # ---- reading
    def documents(self) -> list[DocRecord]:
        def work(conn):
            return conn.execute(
                "SELECT doc_id, source, content_hash, title, metadata, chunks, ingested_at "
                'FROM accord_documents ORDER BY doc_id COLLATE "C"'
            ).fetchall()

        return [DocRecord(*row) for row in self._run(work)]

    def read(self) -> tuple[str, list[Chunk]]:
        def work(conn):
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                generation = conn.execute(
                    "SELECT value FROM accord_meta WHERE key = 'generation'"
                ).fetchone()
                docs = {
                    r[0]: (r[1], r[2], r[3])
                    for r in conn.execute(
                        "SELECT doc_id, source, title, metadata FROM accord_documents"
                    )
                }
                rows = conn.execute(
                    'SELECT chunk_id, doc_id, idx, start, "end", tokens, headings, text '
                    f"FROM accord_chunks {_ORDER}"
                ).fetchall()
            return (generation[0] if generation else "0"), docs, rows

        generation, docs, rows = self._run(work)
        return generation, assemble(docs, rows)

    def get_meta(self, key: str, default: str = "") -> str:
        row = self._run(
            lambda conn: conn.execute(
                "SELECT value FROM accord_meta WHERE key = %s", (key,)
            ).fetchone()
        )
        return row[0] if row else default

    def published(self) -> tuple[str, str]:
        """(published, generation) in one round trip: what each replica polls."""
        rows = self._run(
            lambda conn: conn.execute(
                "SELECT key, value FROM accord_meta WHERE key IN ('published', 'generation')"
            ).fetchall()
        )
        values = dict(rows)
        return values.get("published", ""), values.get("generation", "0")

    # ---- writing (under the advisory lock: one ingest at a time)
    def put(self, doc: Document, chunks: list[Chunk]) -> None:
        def work(conn):
            with conn.transaction():
                conn.execute("DELETE FROM accord_chunks WHERE doc_id = %s", (doc.doc_id,))
                conn.execute(
                    "DELETE FROM accord_documents WHERE doc_id = %s OR source = %s",
                    (doc.doc_id, doc.source),
                )
                conn.execute(
                    "INSERT INTO accord_documents VALUES (%s, %s, %s, %s, %s, %s, %s)",
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
                self._copy_chunks(conn, chunks)
                self._bump(conn)
                faults.kill_point("catalog")

        self._run(work)

    @staticmethod
    def _copy_chunks(conn, chunks: list[Chunk]) -> None:
        if not chunks:
            return
        columns = 'chunk_id, doc_id, idx, start, "end", tokens, headings, text'
        with conn.cursor() as cur:
            with cur.copy(f"COPY accord_chunks ({columns}) FROM STDIN") as copy:
                for c in chunks:
                    copy.write_row(chunk_row(c))

    def remove(self, doc_id: str) -> None:
        def work(conn):
            with conn.transaction():
                conn.execute("DELETE FROM accord_chunks WHERE doc_id = %s", (doc_id,))
                conn.execute("DELETE FROM accord_documents WHERE doc_id = %s", (doc_id,))
                self._bump(conn)

        self._run(work)

    def set_meta(self, key: str, value: str) -> None:
        self._run(
            lambda conn: conn.execute(
                "INSERT INTO accord_meta VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (key, value),
            )
        )

    def publish(self, generation: str) -> None:
        self.set_meta("published", generation)

    @staticmethod
    def _bump(conn) -> None:
        conn.execute(
            "UPDATE accord_meta SET value = (value::bigint + 1)::text WHERE key = 'generation'"
        )

    def reset(self) -> None:
        def work(conn):
            with conn.transaction():
                conn.execute("DELETE FROM accord_chunks")
                conn.execute("DELETE FROM accord_documents")
                conn.execute(
                    "DELETE FROM accord_meta WHERE key NOT IN ('generation', 'instance')"
                )
                self._bump(conn)

        self._run(work)

    def size(self) -> dict[str, int]:
        """Bytes on disk of the catalog's tables and their indexes, and its chunk count."""
        def work(conn):
            total = conn.execute(
                "SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c "
                "WHERE c.relname IN ('accord_documents', 'accord_chunks', 'accord_meta')"
            ).fetchone()[0]
            count = conn.execute("SELECT count(*) FROM accord_chunks").fetchone()[0]
            return {"bytes": int(total or 0), "chunks": int(count)}

        return self._run(work)

    # ---- the ingest lock
    @contextmanager
    def lock(
        self, timeout: float, on_wait: Callable[[str], None] | None = None
    ) -> Iterator[None]:
        """A session advisory lock on a connection of its own, held while the block runs."""
        self._ensure_schema()
        name = f"accord-ingest pid {os.getpid()} on {socket.gethostname()}"[:63]
        conn = self._connect(application_name=name)
        try:

            def take() -> bool:
                try:
                    row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", LOCK_KEYS)
                    return bool(row.fetchone()[0])
                except Exception as exc:  # noqa: BLE001 - psycopg's errors, reported as ours
                    raise self._down(exc) from None

            wait_for(take, lambda: self._holder(conn), timeout, on_wait)
            yield
        finally:
            conn.close()  # ends the session, and with it the lock

    @staticmethod
    def _holder(conn) -> tuple[str, str]:
        """(pid, host) of the ingest holding the lock, from its connection's name."""
        try:
            row = conn.execute(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                "AND l.classid = %s AND l.objid = %s AND l.objsubid = 2",
                LOCK_KEYS,
            ).fetchone()
        except Exception:  # noqa: BLE001 - only words for a message
            return "", ""
        found = re.fullmatch(r"accord-ingest pid (\d+) on (.*)", row[0] if row else "")
        return (found[1], found[2]) if found else ("", "")

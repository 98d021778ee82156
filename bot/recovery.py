"""After a crash: bring the vector store back in step with the catalog, and count that they are.

The catalog (SQLite or PostgreSQL, one transaction per document) is the record of what is
indexed; the
vector store is written before it, outside that transaction. A run that dies between the two
leaves vectors the catalog does not know (a new document), or a catalog entry whose vectors
are gone or were replaced (an update, a prune, a rebuild). An ingest marks the index as
"in progress" before its first write and clears the mark after it publishes; the next ingest
that finds the mark still set calls :func:`reconcile` before it does anything else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

_PAGE = 5000  # below Chroma's largest batch (5,461 here)


def stored_chunks(store) -> dict[str, str]:
    """Every chunk id in the vector store and the document it belongs to, read page by page."""
    collection = store.lc._collection
    out: dict[str, str] = {}
    offset = 0
    while True:
        page = store._call(collection.get, include=["metadatas"], limit=_PAGE, offset=offset)
        for chunk_id, meta in zip(page["ids"], page["metadatas"], strict=True):
            out[chunk_id] = str((meta or {}).get("doc_id", ""))
        if len(page["ids"]) < _PAGE:
            return out
        offset += _PAGE


def reconcile(store, catalog) -> tuple[int, list[str]]:
    """Delete vectors the catalog does not list; forget documents whose vectors are not all
    there (the run that follows ingests them again). Returns (vectors deleted, documents
    forgotten)."""
    stored = stored_chunks(store)
    _, chunks = catalog.read()
    wanted: dict[str, set[str]] = {}
    for chunk in chunks:
        wanted.setdefault(chunk.doc_id, set()).add(chunk.chunk_id)
    listed = set().union(*wanted.values()) if wanted else set()
    orphans = [chunk_id for chunk_id in stored if chunk_id not in listed]
    for start in range(0, len(orphans), _PAGE):
        store._call(store.lc._collection.delete, ids=orphans[start : start + _PAGE])
    forgotten = []
    for record in catalog.documents():
        ids = wanted.get(record.doc_id, set())
        if len(ids) != record.chunks or not ids <= stored.keys():
            store.delete_document(record.doc_id)
            catalog.remove(record.doc_id)
            forgotten.append(record.doc_id)
    if orphans or forgotten:
        log.warning(
            "recovered from an interrupted ingest: %d stray vectors deleted, %d documents to "
            "index again",
            len(orphans),
            len(forgotten),
        )
    return len(orphans), forgotten


@dataclass
class Audit:
    """What the three parts of an index hold, counted: catalog, vector store, snapshot."""

    documents: int = 0
    catalog_chunks: int = 0
    stored_chunks: int = 0
    snapshot_chunks: int = 0
    keyword_chunks: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def audit(index) -> Audit:
    """Count and compare: every catalog chunk once in the vector store and in the current
    snapshot (chunks and keyword index), nothing else in either, and each document's chunks
    numbered 0..n-1 exactly once."""
    report = Audit()
    generation, chunks = index.catalog.read()
    docs = index.catalog.documents()
    report.documents = len(docs)
    report.catalog_chunks = len(chunks)
    catalog_ids = [c.chunk_id for c in chunks]
    stored = stored_chunks(index.store)
    report.stored_chunks = len(stored)
    if set(stored) != set(catalog_ids) or len(set(catalog_ids)) != len(catalog_ids):
        extra = len(set(stored) - set(catalog_ids))
        missing = len(set(catalog_ids) - set(stored))
        report.problems.append(f"vector store: {extra} chunks not in the catalog, {missing} gone")
    for record in docs:
        positions = sorted(c.index for c in chunks if c.doc_id == record.doc_id)
        if positions != list(range(record.chunks)):
            report.problems.append(f"{record.doc_id}: chunk positions {positions[:10]}…")
    named = index.snapshots.current()
    if named != generation:
        report.problems.append(f"snapshot pointer names {named}, the catalog is at {generation}")
    else:
        snapshot = index.snapshots.load(named)
        report.snapshot_chunks = len(snapshot.chunks)
        report.keyword_chunks = len(snapshot.keyword.ids)
        if list(snapshot.chunks) != catalog_ids or snapshot.keyword.ids != catalog_ids:
            report.problems.append("the snapshot's chunks differ from the catalog's")
    if index.catalog.get_meta(IN_PROGRESS):
        report.problems.append("an ingest is marked as in progress")
    return report


IN_PROGRESS = "ingest_in_progress"

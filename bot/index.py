"""Incremental ingest: diff sources by content hash, embed only what changed, prune what left.

Work is committed one document at a time (vectors first, then the catalog), so an interrupted
run leaves an index the next run completes: a document whose catalog entry was not written is
simply seen as new or changed again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path

from bot.catalog import Catalog
from bot.chunking import get_chunker
from bot.errors import IndexStaleError, SourceError
from bot.keyword import KeywordIndex
from bot.records import IngestReport
from bot.settings import Settings
from bot.sources import Discovered, content_hash, discover, is_url, parse, read_bytes
from bot.store import VectorStore

log = logging.getLogger(__name__)


class Index:
    """The catalog, the vector store and the keyword index, kept in step."""

    def __init__(self, settings: Settings, store: VectorStore) -> None:
        self.settings = settings
        self.store = store
        self.catalog = Catalog(settings.index_dir / "catalog.sqlite")
        self.keyword = KeywordIndex(settings.index_dir / "bm25")

    def check_fingerprint(self) -> None:
        saved = self.catalog.get_meta("fingerprint")
        current = json.dumps(self.settings.index_fingerprint(), sort_keys=True)
        if saved and saved != current and self.catalog.documents():
            raise IndexStaleError(
                f"the index in {self.settings.index_dir} was built with {saved}, but the "
                f"settings now say {current}; run `python ingest.py --rebuild` to re-index"
            )

    def ingest(
        self,
        inputs: Iterable[str | Path],
        *,
        prune: bool = True,
        rebuild: bool = False,
        progress: bool = False,
    ) -> IngestReport:
        started = time.perf_counter()
        inputs = [str(i) for i in inputs]
        report = IngestReport()
        found, missing = discover(inputs)
        report.failed.extend(missing)
        if rebuild:
            self.store.reset()
            self.catalog.reset()
        self.check_fingerprint()
        known = {d.source: d for d in self.catalog.documents()}
        ids_in_use = {d.doc_id: d.source for d in known.values()}
        present: set[str] = set()

        bar = _progress(found, progress)
        for item in bar:
            present.add(item.source)
            try:
                self._ingest_one(item, known, ids_in_use, report)
            except SourceError as exc:
                report.failed.append((item.source, str(exc).split(": ", 1)[-1]))
                log.warning("skipped %s", exc)
            if progress:
                bar.set_postfix(chunks=report.chunks, failed=len(report.failed))

        if prune:
            self._prune(inputs, present, known, report)
        self.catalog.set_meta(
            "fingerprint", json.dumps(self.settings.index_fingerprint(), sort_keys=True)
        )
        self.catalog.set_meta("last_ingest", time.strftime("%Y-%m-%d %H:%M:%S"))
        self.refresh_keyword()
        self.settings.save(self.settings.index_dir / "settings.json")
        report.seconds = time.perf_counter() - started
        return report

    def _ingest_one(self, item: Discovered, known, ids_in_use, report: IngestReport) -> None:
        raw, kind = read_bytes(
            item.source, timeout=self.settings.url_timeout, max_bytes=self.settings.url_max_bytes
        )
        previous = known.get(item.source)
        if previous is not None and previous.content_hash == content_hash(raw):
            report.unchanged.append(previous.doc_id)
            return
        doc = parse(item.source, raw, kind)
        if previous is not None:
            doc.doc_id = previous.doc_id
        elif doc.doc_id in ids_in_use and ids_in_use[doc.doc_id] != item.source:
            # Two files share a name (a.md in two folders): keep both, distinguishably.
            doc.doc_id = f"{doc.doc_id}-{hashlib.sha1(item.source.encode()).hexdigest()[:6]}"
        chunker = get_chunker(self.settings.chunker)
        chunks = chunker(doc, self.settings.chunk_tokens, self.settings.chunk_overlap)
        if previous is not None:
            self.store.delete_document(doc.doc_id)
        self.store.add(chunks)
        self.catalog.put(doc, chunks)
        ids_in_use[doc.doc_id] = item.source
        report.chunks += len(chunks)
        report.embedded += len(chunks)
        (report.updated if previous is not None else report.added).append(doc.doc_id)

    def _prune(self, inputs: list[str], present: set[str], known, report: IngestReport) -> None:
        """Forget documents that disappeared from a folder that was ingested again."""
        folders = [str(Path(i).resolve()) for i in inputs if not is_url(i) and Path(i).is_dir()]
        for source, record in known.items():
            if is_url(source) or source in present:
                continue
            if any(source.startswith(folder + os.sep) for folder in folders):
                self.store.delete_document(record.doc_id)
                self.catalog.remove(record.doc_id)
                report.removed.append(record.doc_id)

    def refresh_keyword(self) -> None:
        self.keyword.ensure(self.catalog.chunks, self.catalog.generation)


def _progress(items: list, enabled: bool):
    if not enabled:
        return _Quiet(items)
    from tqdm import tqdm

    return tqdm(items, desc="ingest", unit="doc", dynamic_ncols=True)


class _Quiet(list):
    def set_postfix(self, **_: object) -> None:
        pass

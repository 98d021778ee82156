"""Incremental ingest: diff sources by content hash, embed only what changed, prune what left.

Work is committed one document at a time (vectors first, then the catalog), so an interrupted
run leaves an index the next run completes: a document whose catalog entry was not written is
simply seen as new or changed again, and vectors the catalog never recorded are deleted
(:mod:`bot.recovery`, run when the previous ingest did not clear its in-progress mark).

One ingest at a time per index, across processes (the catalog's lock: :mod:`bot.locking`, or
an advisory lock on PostgreSQL). Questions read snapshots (:mod:`bot.snapshot`): an ingest ends
by publishing the next one, and until it does, questions keep reading the last complete one.

With a shared catalog (PostgreSQL, :mod:`bot.catalog_pg`) every process derives its own
snapshots from it: at its first question it reads the catalog (or, when nothing changed since
it last ran, the snapshot it saved then), and a follower thread polls the published generation
every ``catalog_poll`` seconds, builds the next snapshot in the background (reusing its own
saved terms, so only new chunks are tokenized) and swaps it in. Questions never wait for that.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bot import faults
from bot.catalog import Catalog, open_catalog
from bot.chunking import get_chunker
from bot.errors import CatalogError, IndexStaleError, SourceError
from bot.locking import write_lock
from bot.records import Chunk, Document, IngestReport
from bot.recovery import IN_PROGRESS, reconcile
from bot.settings import Settings
from bot.snapshot import Snapshot, SnapshotFiles
from bot.sources import Discovered, content_hash, discover, is_url, parse, read_bytes
from bot.store import VectorStore

log = logging.getLogger(__name__)


# Chunks embedded per model call during an ingest: large enough that the model sorts texts by
# length and runs full batches across documents, small enough that vectors stream to the store
# (256 chunks of 400 tokens are ~500 windows, ~0.8 MB of vectors).
EMBED_BATCH = 256

# Times a reader re-reads the pointer when the snapshot it names has just been cleaned away.
_LOAD_ATTEMPTS = 3


class Index:
    """The catalog, the vector store and the snapshots, kept in step.

    Safe to share between threads: :meth:`snapshot` only reads, and :meth:`ingest` runs one
    at a time (per index, across processes).
    """

    def __init__(
        self, settings: Settings, store: VectorStore, catalog: Catalog | None = None
    ) -> None:
        self.settings = settings
        self.store = store
        self.catalog = catalog if catalog is not None else open_catalog(settings)
        self._files: SnapshotFiles | None = None
        self._snapshot: Snapshot | None = None
        self._swap = threading.Lock()  # loading or replacing the snapshot held in memory
        self._follower: _Follower | None = None

    @property
    def snapshots(self) -> SnapshotFiles:
        """This index's snapshot folder. A shared catalog's snapshots are kept per catalog
        (``snapshots-<its id>``), so a data dir pointed at another database never loads a
        snapshot of the same generation number from the first."""
        if self._files is None:
            name = "snapshots"
            if self.catalog.shared:
                name = f"snapshots-{self.catalog.identity}"
            self._files = SnapshotFiles(self.settings.index_dir / name)
        return self._files

    # ---- reading
    def snapshot(self) -> Snapshot:
        """The newest complete snapshot. Never writes: while an ingest (here or in another
        process) is still working, this is the last snapshot an ingest completed. (With a
        shared catalog, see :meth:`_followed`.)"""
        if self.catalog.shared:
            return self._followed()
        held = self._snapshot
        if held is not None and held.generation == self._wanted():
            return held
        with self._swap:
            held = self._snapshot
            wanted = self._wanted()
            if held is None or held.generation != wanted:
                self._snapshot = held = self._load()
            return held

    def _wanted(self) -> str:
        """The generation a reader should hold: the pointer's, or with no complete snapshot on
        disk (an index from before snapshots), the catalog's."""
        return self.snapshots.current() or self.catalog.generation

    def _load(self) -> Snapshot:
        for _ in range(_LOAD_ATTEMPTS):
            named = self.snapshots.current()
            if named is None:
                break
            try:
                return self.snapshots.load(named)
            except (OSError, ValueError, KeyError) as exc:  # cleaned away under us, or damaged
                problem = exc
        else:
            log.warning("cannot load snapshot %s (%s); reading the catalog", named, problem)
        # No usable snapshot on disk: build one in memory from the catalog (read-only); the
        # next ingest writes it.
        generation, chunks = self.catalog.read()
        return Snapshot.build(generation, chunks)

    # ---- reading a shared catalog
    def _followed(self) -> Snapshot:
        """The snapshot this process derived from the shared catalog. The first call builds it
        (and starts the follower); later calls return what the follower last swapped in, or
        raise :class:`CatalogError` while the catalog does not answer its polls."""
        if self._follower is None:
            with self._swap:
                if self._follower is None:
                    published, snapshot = self._derive()
                    self._snapshot = snapshot
                    self._follower = _Follower(self, published)
        self._follower.check()
        return self._snapshot  # type: ignore[return-value]

    def _derive(self) -> tuple[str, Snapshot]:
        """(published mark, snapshot of the catalog now): the one held when it is current, the
        one saved in this data dir when that is, else built from the catalog's chunks reusing
        the terms saved with this process's previous snapshot, and saved for next time."""
        published, generation = self.catalog.published()
        held = self._snapshot
        if held is not None and held.generation == generation:
            return published, held
        # Several processes may share one data dir (a page and ingest.py): one writes at a time.
        with write_lock(self.snapshots.folder / "derive.lock", self.settings.lock_timeout):
            if self.snapshots.complete(generation):
                try:
                    return published, self.snapshots.load(generation)
                except (OSError, ValueError, KeyError) as exc:
                    log.warning("cannot load snapshot %s (%s); rebuilding it", generation, exc)
            generation, chunks = self.catalog.read()
            named = self.snapshots.current()
            snapshot = Snapshot.build(generation, chunks, self.snapshots.folder_of(named))
            self.snapshots.save(snapshot)
            # Only this data dir's readers load these files, and they load under this lock.
            self.snapshots.clean(keep={generation})
        return published, snapshot

    def _follow(self, follower: _Follower) -> None:
        """One poll: when an ingest (anywhere) has published since the last, derive and swap."""
        published, generation = self.catalog.published()
        if published == follower.seen:
            return
        held = self._snapshot
        if held is None or held.generation != generation:
            published, snapshot = self._derive()
            with self._swap:
                self._snapshot = snapshot
            log.info("swapped in generation %s from the catalog", snapshot.generation)
        follower.seen = published

    # ---- writing
    def _publish(self) -> None:
        """Write the catalog's generation as the current snapshot (writer only)."""
        if self.catalog.shared:
            _, snapshot = self._derive()
            with self._swap:
                self._snapshot = snapshot
            self.catalog.publish(snapshot.generation)  # the replicas' signal
            return
        named = self.snapshots.current()
        generation, chunks = self.catalog.read()
        if named != generation or not self.snapshots.complete(generation):
            snapshot = Snapshot.build(generation, chunks, self.snapshots.folder_of(named))
            # Saved under the swap lock: a reader that sees the pointer move waits for this
            # very object instead of loading its own copy of the same generation from disk.
            with self._swap:
                self.snapshots.save(snapshot)
                self._snapshot = snapshot
        # The previous snapshot stays one round, for readers that just read the old pointer.
        self.snapshots.clean(keep={generation, named or generation})
        legacy = self.settings.index_dir / "bm25"  # the keyword index before snapshots
        for old in (legacy, legacy.with_name("bm25.tmp")):
            if old.exists():
                shutil.rmtree(old, ignore_errors=True)

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
        on_wait: Callable[[str], None] | None = None,
    ) -> IngestReport:
        """Bring the index in step with ``inputs``. Waits (up to ``lock_timeout``) while another
        ingest holds the index, telling ``on_wait`` why."""
        with self.catalog.lock(self.settings.lock_timeout, on_wait):
            return self._ingest(inputs, prune=prune, rebuild=rebuild, progress=progress)

    def _ingest(self, inputs, *, prune: bool, rebuild: bool, progress: bool) -> IngestReport:
        started = time.perf_counter()
        inputs = [str(i) for i in inputs]
        report = IngestReport()
        found, missing = discover(inputs)
        report.failed.extend(missing)
        # Opening Chroma (imports, client) costs about a second: do it while documents are read
        # and embedded. Reset and the first write wait for it.
        opening = threading.Thread(target=self._open_store, daemon=True)
        opening.start()
        if self.catalog.get_meta(IN_PROGRESS):  # the last ingest died part way
            reconcile(self.store, self.catalog)
        self.catalog.set_meta(IN_PROGRESS, str(os.getpid()))
        if rebuild:
            self.store.reset()
            self.catalog.reset()
            self.catalog.set_meta(IN_PROGRESS, str(os.getpid()))  # reset() cleared it
        self.check_fingerprint()
        known = {d.source: d for d in self.catalog.documents()}
        ids_in_use = {d.doc_id: d.source for d in known.values()}
        present: set[str] = set()

        batch = _Batch(EMBED_BATCH)
        bar = _progress(found, progress)
        for item in bar:
            present.add(item.source)
            try:
                pending = self._prepare(item, known, ids_in_use, report)
            except SourceError as exc:
                report.failed.append((item.source, str(exc).split(": ", 1)[-1]))
                log.warning("skipped %s", exc)
                pending = None
            if pending is not None and batch.add(pending):
                self._write(batch.take(), report)
            if progress:
                bar.set_postfix(chunks=report.chunks, failed=len(report.failed))
        self._write(batch.take(), report)

        if prune:
            self._prune(inputs, present, known, report)
        self.catalog.set_meta(
            "fingerprint", json.dumps(self.settings.index_fingerprint(), sort_keys=True)
        )
        self.catalog.set_meta("last_ingest", time.strftime("%Y-%m-%d %H:%M:%S"))
        self._publish()
        self.catalog.set_meta(IN_PROGRESS, "")
        self.settings.save(self.settings.index_dir / "settings.json")
        report.seconds = time.perf_counter() - started
        return report

    def _open_store(self) -> None:
        try:
            self.store.collection  # noqa: B018
        except Exception:  # noqa: BLE001 - reported again, in the caller's thread, on first use
            log.debug("opening the store in the background failed", exc_info=True)

    def _prepare(
        self, item: Discovered, known, ids_in_use, report: IngestReport
    ) -> _Pending | None:
        """Read, parse and chunk one source; None when its content is unchanged."""
        raw, kind = read_bytes(
            item.source,
            timeout=self.settings.url_timeout,
            max_bytes=self.settings.url_max_bytes,
            max_file_bytes=self.settings.max_file_bytes,
        )
        previous = known.get(item.source)
        if previous is not None and previous.content_hash == content_hash(raw):
            report.unchanged.append(previous.doc_id)
            return None
        doc = parse(item.source, raw, kind)
        if previous is not None:
            doc.doc_id = previous.doc_id
        elif doc.doc_id in ids_in_use and ids_in_use[doc.doc_id] != item.source:
            # Two files share a name (a.md in two folders): keep both, distinguishably.
            doc.doc_id = f"{doc.doc_id}-{hashlib.sha1(item.source.encode()).hexdigest()[:6]}"
        chunker = get_chunker(self.settings.chunker)
        chunks = chunker(doc, self.settings.chunk_tokens, self.settings.chunk_overlap)
        ids_in_use[doc.doc_id] = item.source
        return _Pending(doc, chunks, previous is not None)

    def _write(self, pending: list[_Pending], report: IngestReport) -> None:
        """Embed the chunks of several documents together, ``EMBED_BATCH`` chunks per model
        call (a few chunks per call left the model waiting on Python), and store each slice's
        vectors in one write as soon as it is embedded (one write per document cost 65% of a
        100k-chunk ingest in Chroma's per-call overhead). A document reaches the catalog only
        once all its vectors are stored, one transaction per document: an interrupted run
        leaves whole documents, and strays the next run overwrites or deletes."""
        flat = [(p, chunk) for p in pending for chunk in p.chunks]
        written = {id(p): 0 for p in pending}
        for p in pending:
            if p.replaces:  # the old version's vectors go before any new one lands
                self.store.delete_document(p.doc.doc_id)
            if not p.chunks:
                self._commit(p, report)
        for start in range(0, len(flat), EMBED_BATCH):
            part = flat[start : start + EMBED_BATCH]
            vectors = self.store.embedder.embed_passages([c.context_text for _, c in part])
            self._fault_points(part, vectors, written)
            self.store.add([c for _, c in part], vectors)
            for p, _ in part:
                written[id(p)] += 1
                if written[id(p)] == len(p.chunks):
                    faults.kill_point("vectors.after")
                    self._commit(p, report)

    def _fault_points(self, part, vectors, written) -> None:
        """The crash tests' write points (:mod:`bot.faults`), visited per document as before
        batching: before anything of it is written, and with half of its chunks stored."""
        offset = 0
        while offset < len(part):
            p, end = part[offset][0], offset
            while end < len(part) and part[end][0] is p:
                end += 1
            if written[id(p)] == 0:
                faults.kill_point("vectors.before")
            half = offset + (end - offset) // 2
            faults.kill_point(
                "vectors.during",
                lambda a=offset, b=half: self.store.add([c for _, c in part[a:b]], vectors[a:b]),
            )
            offset = end

    def _commit(self, p: _Pending, report: IngestReport) -> None:
        self.catalog.put(p.doc, p.chunks)
        report.chunks += len(p.chunks)
        report.embedded += len(p.chunks)
        (report.updated if p.replaces else report.added).append(p.doc.doc_id)

    def _prune(self, inputs: list[str], present: set[str], known, report: IngestReport) -> None:
        """Forget documents that disappeared from a folder that was ingested again."""
        folders = [str(Path(i).resolve()) for i in inputs if not is_url(i) and Path(i).is_dir()]
        for source, record in known.items():
            if is_url(source) or source in present:
                continue
            if any(source.startswith(folder + os.sep) for folder in folders):
                self.store.delete_document(record.doc_id)
                faults.kill_point("prune")
                self.catalog.remove(record.doc_id)
                report.removed.append(record.doc_id)


class _Follower:
    """The thread that keeps a shared catalog's reader current: every ``catalog_poll`` seconds
    it asks the catalog for the published generation (one small query) and, when an ingest
    has published a new one, has the index derive and swap in its snapshot. It holds the
    index weakly and ends with it. A failed poll is kept, for questions to report, until one
    succeeds."""

    def __init__(self, index: Index, published: str) -> None:
        self.seen = published
        self.error: str = ""
        self._index = weakref.ref(index)
        self._every = index.settings.catalog_poll
        threading.Thread(target=self._run, name="accord-catalog-follower", daemon=True).start()

    def check(self) -> None:
        if self.error:
            raise CatalogError(self.error)

    def _run(self) -> None:
        while True:
            time.sleep(self._every)
            index = self._index()
            if index is None:
                return
            try:
                index._follow(self)
            except CatalogError as exc:
                if not self.error:
                    log.warning("%s", exc)
                self.error = str(exc)
            except Exception:  # noqa: BLE001 - keep following; the next poll may succeed
                log.exception("following the catalog failed")
            else:
                self.error = ""
            del index


@dataclass
class _Pending:
    """A parsed and chunked document waiting for its vectors."""

    doc: Document
    chunks: list[Chunk]
    replaces: bool  # an earlier version is indexed: its vectors go before the new ones land


class _Batch:
    """Documents gathered until they hold ``size`` chunks between them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: list[_Pending] = []
        self.chunks = 0

    def add(self, item: _Pending) -> bool:
        """Queue ``item``; True when the batch is full."""
        self.items.append(item)
        self.chunks += len(item.chunks)
        return self.chunks >= self.size

    def take(self) -> list[_Pending]:
        items, self.items, self.chunks = self.items, [], 0
        return items


def _progress(items: list, enabled: bool, stream=None):
    """A repainting bar on a terminal; elsewhere (a log file, a pipe, a service manager) one
    line per ``PROGRESS_EVERY`` documents, so a log shows a few readable lines, not hundreds
    of repaints."""
    if not enabled:
        return _Quiet(items)
    stream = stream if stream is not None else sys.stderr
    if _is_tty(stream):
        from tqdm import tqdm

        return tqdm(items, desc="ingest", unit="doc", dynamic_ncols=True, file=stream)
    return _Lines(items, stream)


def _is_tty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


PROGRESS_EVERY = 25  # documents between two progress lines when stderr is not a terminal


class _Lines(list):
    """Iterates like the bar; writes ``ingest: 25/180 documents, 412 chunks, 0 failed, 3.1 s``
    after every ``PROGRESS_EVERY`` documents and after the last."""

    def __init__(self, items: list, stream) -> None:
        super().__init__(items)
        self.stream = stream
        self.postfix: dict[str, object] = {}

    def set_postfix(self, **values: object) -> None:
        self.postfix = values

    def __iter__(self):
        started = time.perf_counter()
        total = len(self)
        for done, item in enumerate(super().__iter__(), start=1):
            yield item
            if done % PROGRESS_EVERY == 0 or done == total:
                facts = "".join(f", {v} {k}" for k, v in self.postfix.items())
                seconds = time.perf_counter() - started
                print(
                    f"ingest: {done}/{total} documents{facts}, {seconds:.1f} s",
                    file=self.stream,
                    flush=True,
                )


class _Quiet(list):
    def set_postfix(self, **_: object) -> None:
        pass

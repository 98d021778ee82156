"""The catalog's one interface on both backends (bot/catalog.py, bot/catalog_pg.py): the same
contract test runs on the local SQLite file and on a real PostgreSQL the test starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from bot.catalog import LocalCatalog, open_catalog
from bot.errors import CatalogError, ConfigError, IndexBusyError
from bot.records import Chunk, Document
from bot.settings import Settings

pytestmark = pytest.mark.server


@pytest.fixture(params=["local", "postgres"])
def catalog(request, tmp_path):
    if request.param == "local":
        yield open_catalog(Settings(data_dir=tmp_path / "data"))
    else:
        url = request.getfixturevalue("catalog_url")
        made = open_catalog(Settings(catalog_url=url, chroma_url="http://127.0.0.1:1"))
        yield made
        made.close()


def doc(doc_id: str, source: str, text: str = "Text.", **meta) -> Document:
    return Document(doc_id, f"Title {doc_id}", text, source, f"hash-{text}", dict(meta))


def chunks_of(d: Document, n: int) -> list[Chunk]:
    return [
        Chunk(f"{d.doc_id}-{i}", d.doc_id, i, f"{d.text} part {i} «ü»", i * 10, i * 10 + 9, 3,
              ["Top", f"Section {i}"])  # fmt: skip
        for i in range(n)
    ]


def test_documents_and_chunks_round_trip(catalog):
    first = doc("b-doc", "/c/b.md", issuer="G7", date="2023-10-30", tags=["x", "y"])
    second = doc("A-doc", "/c/a.md", issuer="OECD")
    before = catalog.generation
    catalog.put(first, chunks_of(first, 3))
    catalog.put(second, chunks_of(second, 2))
    assert int(catalog.generation) == int(before) + 2

    generation, chunks = catalog.read()
    assert generation == catalog.generation
    # Byte order of doc ids (as SQLite sorts), then position: "A-doc" before "b-doc".
    assert [c.chunk_id for c in chunks] == ["A-doc-0", "A-doc-1", "b-doc-0", "b-doc-1", "b-doc-2"]
    got = chunks[2]
    assert (got.text, got.start, got.end, got.tokens) == ("Text. part 0 «ü»", 0, 9, 3)
    assert got.headings == ["Top", "Section 0"] and got.title == "Title b-doc"
    assert got.metadata == {"issuer": "G7", "date": "2023-10-30", "tags": ["x", "y"],
                            "source": "/c/b.md"}  # fmt: skip
    records = catalog.documents()
    assert [(r.doc_id, r.source, r.chunks) for r in records] == [
        ("A-doc", "/c/a.md", 2),
        ("b-doc", "/c/b.md", 3),
    ]
    assert records[1].metadata["tags"] == ["x", "y"] and records[1].content_hash == "hash-Text."


def test_put_replaces_and_remove_forgets(catalog):
    old = doc("d", "/c/d.md", "Old.")
    catalog.put(old, chunks_of(old, 3))
    new = doc("d", "/c/d.md", "New.")
    catalog.put(new, chunks_of(new, 1))
    assert [c.text for c in catalog.chunks()] == ["New. part 0 «ü»"]
    moved = doc("d2", "/c/d.md", "Moved.")  # same source under a new id replaces it too
    catalog.put(moved, chunks_of(moved, 1))
    assert [d.doc_id for d in catalog.documents()] == ["d2"]
    generation = catalog.generation
    catalog.remove("d2")
    assert catalog.documents() == [] and catalog.chunks() == []
    assert int(catalog.generation) == int(generation) + 1


def test_meta_publish_and_reset(catalog):
    catalog.set_meta("fingerprint", "a")
    catalog.set_meta("fingerprint", "b")
    assert catalog.get_meta("fingerprint") == "b" and catalog.get_meta("nope", "z") == "z"
    d = doc("d", "/c/d.md")
    catalog.put(d, chunks_of(d, 2))
    catalog.publish(catalog.generation)
    published, generation = catalog.published()
    assert generation == catalog.generation
    assert published == (generation if catalog.shared else "")  # local readers use the pointer
    catalog.reset()
    assert catalog.documents() == [] and catalog.get_meta("fingerprint") == ""
    assert int(catalog.generation) > int(generation)  # never back to a number already used


def test_a_second_writer_waits_then_gives_up_naming_the_first(catalog, tmp_path):
    again = (
        LocalCatalog(catalog.path) if not catalog.shared else type(catalog)(catalog.url)
    )  # another handle on the same catalog, as a second process would open
    said = []
    with catalog.lock(timeout=0):
        with pytest.raises(IndexBusyError) as caught:
            with again.lock(timeout=0.3, on_wait=said.append):
                pass
    assert said == [
        f"another ingest is running in this process (pid {os.getpid()}); "
        "waiting up to 0.3 s for it to finish…"
    ]
    assert "ACCORD_LOCK_TIMEOUT" in str(caught.value)
    with again.lock(timeout=0):  # released
        pass
    again.close()


HOLD_ADVISORY = """
import sys, time
from bot.catalog_pg import PostgresCatalog
with PostgresCatalog(sys.argv[1]).lock(timeout=0):
    print("held", flush=True)
    time.sleep(120)
"""


def test_the_advisory_lock_names_another_process_and_dies_with_it(catalog_url):
    from bot.catalog_pg import PostgresCatalog

    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    other = subprocess.Popen([sys.executable, "-c", HOLD_ADVISORY, catalog_url],
                             stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip
    catalog = PostgresCatalog(catalog_url)
    try:
        assert other.stdout.readline().strip() == "held"
        with pytest.raises(IndexBusyError) as caught:
            with catalog.lock(timeout=0.2):
                pass
        assert f"pid {other.pid}" in str(caught.value) and f"kill {other.pid}" in str(caught.value)
        other.send_signal(signal.SIGKILL)  # no clean-up runs: PostgreSQL drops the lock itself
        other.wait()
        with catalog.lock(timeout=10):
            pass
    finally:
        other.kill()
        other.wait()
        catalog.close()


def test_a_catalog_that_does_not_answer_says_so_and_recovers(postgres, catalog_url):
    from bot.catalog_pg import PostgresCatalog

    nowhere = PostgresCatalog("postgresql://accord:secret@127.0.0.1:1/accord")
    with pytest.raises(CatalogError, match="PostgreSQL at .*127.0.0.1:1.*ACCORD_CATALOG_URL") as e:
        nowhere.documents()
    assert "secret" not in str(e.value)

    catalog = PostgresCatalog(catalog_url)
    d = doc("d", "/c/d.md")
    catalog.put(d, chunks_of(d, 1))
    postgres.restart()  # every open connection dies; the next call opens a new one
    assert [r.doc_id for r in catalog.documents()] == ["d"]
    catalog.close()


def test_the_setting_picks_the_backend_and_checks_it(tmp_path):
    assert isinstance(open_catalog(Settings(data_dir=tmp_path)), LocalCatalog)
    with pytest.raises(ConfigError, match="postgresql://"):
        Settings(catalog_url="mysql://x/y", chroma_url="http://127.0.0.1:1")
    with pytest.raises(ConfigError, match="ACCORD_CHROMA_URL"):
        Settings(catalog_url="postgresql://u:pw@h/db")
    settings = Settings(catalog_url="postgresql://u:pw@h/db", chroma_url="http://127.0.0.1:1")
    assert settings.to_dict()["catalog_url"] == "postgresql://u:***@h/db"


def test_concurrent_readers_see_whole_documents(catalog_url):
    """A reader never sees half of a document's transaction (REPEATABLE READ, one query set)."""
    from bot.catalog_pg import PostgresCatalog

    writer, reader = PostgresCatalog(catalog_url), PostgresCatalog(catalog_url)
    stop, seen = threading.Event(), []

    def read():
        while not stop.is_set():
            generation, chunks = reader.read()
            seen.append((generation, len(chunks)))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for n in range(30):
            d = doc("d", "/c/d.md", f"Version {n}.")
            writer.put(d, chunks_of(d, 1 + n % 4))
            time.sleep(0.005)
    finally:
        stop.set()
        thread.join()
    assert seen and all(count in (0, 1, 2, 3, 4) for _, count in seen)
    by_generation = {}
    for generation, count in seen:
        by_generation.setdefault(generation, set()).add(count)
    assert all(len(counts) == 1 for counts in by_generation.values()), by_generation
    writer.close()
    reader.close()

"""Several page servers over one knowledge base: the catalog on a real PostgreSQL and the vectors
on a real `chroma run` server, both started here; each replica derives its own snapshots.

The in-process test follows one replica's snapshot as another ingests; the process test runs
two ``app.py`` servers and talks to them over HTTP as a browser and gradio_client would.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from bot import Bot, faults
from bot.recovery import IN_PROGRESS, audit, stored_chunks
from tests.conftest import FIXTURE_CORPUS, PROJECT
from tests.test_store_server import free_port, start_chroma

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chroma")
    port = free_port()
    log = open(folder / "chroma.log", "w")
    proc = start_chroma(folder / "server-data", port, log)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture
def shared(catalog_url, chroma_url):
    """The settings every replica of one deployment shares (a database and a collection of
    their own per test)."""
    return {
        "catalog_url": catalog_url,
        "chroma_url": chroma_url,
        "collection": f"t{uuid.uuid4().hex[:10]}",
        "catalog_poll": 0.1,
    }


def until(check, what: str, seconds: float = 90):
    """``check()``'s first truthy value, polled; fails naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def tokenized(monkeypatch):
    """Texts the keyword index tokenized, by thread name (the real tokenizer still runs)."""
    import bot.keyword

    counts: dict[str, int] = {}
    real = bot.keyword.tokenize

    def counting(texts):
        name = threading.current_thread().name
        counts[name] = counts.get(name, 0) + len(texts)
        return real(texts)

    monkeypatch.setattr(bot.keyword, "tokenize", counting)
    return counts


def test_a_replica_follows_the_shared_catalog_and_catches_up_alone(
    shared, tmp_path, corpus_copy, tokenized, embedder
):
    later = tmp_path / "later"
    later.mkdir()
    shutil.move(corpus_copy / "chip-export-controls.md", later / "chip-export-controls.md")
    a = Bot(data_dir=tmp_path / "a", embedder=embedder, **shared)
    assert len(a.ingest([corpus_copy]).added) == 3

    b = Bot(data_dir=tmp_path / "b", embedder=embedder, **shared)
    answer = b.ask("Where was the first AI safety summit held?")
    assert answer.citations[0].doc_id == "bletchley-summit"
    assert answer.index_generation == a.snapshot().generation
    held = b.snapshot()
    # B holds nothing of its own but derived files: no catalog, no vectors in its folder.
    assert not (tmp_path / "b" / "index" / "catalog.sqlite").exists()
    assert not (tmp_path / "b" / "index" / "chroma").exists()
    assert b.status()["catalog"].startswith("postgresql://")

    tokenized.clear()
    report = a.ingest([corpus_copy, later], prune=False)
    assert report.added == ["chip-export-controls"]
    new_chunks = report.chunks
    generation = a.snapshot().generation
    # B notices the new generation by itself; meanwhile it answers from what it held.
    assert b.snapshot() is held or b.snapshot().generation == generation
    until(lambda: b.snapshot().generation == generation, "replica B to swap in the upload")
    # Each process tokenized only the new document's chunks, reusing its own saved terms.
    assert tokenized == {"MainThread": new_chunks, "accord-catalog-follower": new_chunks}
    assert b.search("Bureau of Industry and Security", mode="bm25")[0].chunk.doc_id == (
        "chip-export-controls"
    )

    # B restarts on its data dir: the snapshot it saved is current, nothing is tokenized.
    tokenized.clear()
    restarted = Bot(data_dir=tmp_path / "b", embedder=embedder, **shared)
    assert restarted.snapshot().generation == generation and tokenized == {}
    # A new replica with an empty folder catches up from the catalog alone.
    fresh = Bot(data_dir=tmp_path / "c", embedder=embedder, **shared)
    cited = fresh.ask("Which agency enforces US chip export controls?").citations
    assert cited and cited[0].doc_id == "chip-export-controls"
    counted = audit(fresh.index)
    assert counted.ok, counted.problems
    assert counted.catalog_chunks == counted.stored_chunks == counted.snapshot_chunks

    # A rebuilds from scratch (a new Chroma collection under the same name): B, still
    # running, follows and finds the new collection by itself.
    assert len(a.ingest([corpus_copy, later], rebuild=True).added) == 4
    rebuilt = a.snapshot().generation
    until(lambda: b.snapshot().generation == rebuilt, "replica B to follow the rebuild")
    assert b.search("Where was the first AI safety summit held?", mode="dense")


# ---- two app.py servers


UPLOAD = """---
title: The Reykjavik compact on model audits
issuer: Nordic Council
date: 2025-03-14
---

# The Reykjavik compact on model audits

The Reykjavik compact on model audits was signed by fourteen states in March 2025. It obliges
each signatory to publish an independent audit of every frontier model within ninety days.
"""
QUESTION = "How many states signed the Reykjavik compact on model audits?"


def write_docs(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"treaty-{n:02d}.md").write_text(
            f"# Treaty {n}\n\nThe treaty number {n} on compute registries binds its "
            f"signatories to report clusters above {n + 1}0,000 accelerators to the "
            f"Oslo registry office {n}.\n"
        )


def replica_env(data: Path, deployment: dict) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env.update(
        ACCORD_DATA_DIR=str(data),
        ACCORD_CATALOG_URL=deployment["catalog_url"],
        ACCORD_CHROMA_URL=deployment["chroma_url"],
        ACCORD_COLLECTION=deployment["collection"],
        ACCORD_CATALOG_POLL="0.2",
        ACCORD_TORCH_THREADS="1",
        ACCORD_SELECTOR="false",  # the replicas' own model loading is not under test
        GRADIO_TEMP_DIR=str(data / "gradio"),
        PYTHONPATH=str(PROJECT),
    )
    return env


def upload(base: str, name: str, content: bytes) -> str:
    """Add a document through the page's upload event, the way the browser does it: the file
    to Gradio's upload route, then the (page-only) ``upload`` event through the queue.
    Returns the result the page shows."""
    import httpx

    with httpx.Client(timeout=120) as http:
        config = http.get(f"{base}/config").json()
        (dep,) = [d for d in config["dependencies"] if d.get("api_name") == "upload"]
        (path,) = http.post(f"{base}/gradio_api/upload", files={"files": (name, content)}).json()
        session = uuid.uuid4().hex[:10]
        file_data = {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}
        joined = http.post(
            f"{base}/gradio_api/queue/join",
            json={
                "data": [[file_data], [], []],
                "fn_index": dep["id"],
                "trigger_id": dep["targets"][0][0],
                "session_hash": session,
                "event_data": None,
            },
        )
        joined.raise_for_status()
        with http.stream("GET", f"{base}/gradio_api/queue/data",
                         params={"session_hash": session}) as events:  # fmt: skip
            for line in events.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    assert message.get("success"), message
                    return str(message["output"]["data"][0])
    raise AssertionError("the upload event never completed")


def ask(client, question: str = QUESTION):
    """(answer, error text) from /ask through gradio_client."""
    try:
        return client.predict(question, [], {}, api_name="/ask"), ""
    except Exception as exc:  # noqa: BLE001 - the page's error, as a client sees it
        return None, str(exc)


def cites(client, doc_prefix: str, question: str = QUESTION) -> bool:
    answer, _ = ask(client, question)
    return bool(answer and any(c["doc_id"].startswith(doc_prefix) for c in answer["citations"]))


@pytest.fixture
def replicas(shared, tmp_path, embedder, postgres):
    """The fixture corpus ingested once into the shared catalog, then two ``app.py`` page
    servers (A and B) over it, each with a data dir of its own."""
    Bot(data_dir=tmp_path / "seed", embedder=embedder, **shared).ingest([FIXTURE_CORPUS])
    procs, urls = [], []
    for name in ("a", "b"):
        port = free_port()
        log = open(tmp_path / f"app-{name}.log", "w")
        procs.append(subprocess.Popen(
            [sys.executable, str(PROJECT / "app.py"), "--no-ingest", "--port", str(port)],
            env=replica_env(tmp_path / name, shared), stdout=log, stderr=subprocess.STDOUT,
            cwd=PROJECT,
        ))  # fmt: skip
        urls.append(f"http://127.0.0.1:{port}")
    import httpx

    def up(i: int) -> bool:
        if procs[i].poll() is not None:
            pytest.fail((tmp_path / f"app-{'ab'[i]}.log").read_text()[-3000:])
        try:
            return httpx.get(urls[i] + "/config", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        for i in (0, 1):
            until(lambda i=i: up(i), f"app.py replica {'AB'[i]} to serve", 240)
        yield {"urls": urls, "settings": shared, "postgres": postgres, "tmp": tmp_path}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_two_page_servers_share_one_knowledge_base(replicas, tmp_path, embedder):
    from gradio_client import Client

    base_a, base_b = replicas["urls"]
    a, b = Client(base_a, verbose=False), Client(base_b, verbose=False)
    assert cites(b, "bletchley", "Where was the first AI safety summit held?")

    # 1. An upload through A is answered through B, which nobody restarted.
    assert not cites(b, "reykjavik")
    shown = upload(base_a, "reykjavik-compact.md", UPLOAD.encode())
    assert "added" in shown, shown
    until(lambda: cites(b, "reykjavik"), "replica B to answer from A's upload", 60)
    assert b.predict(api_name="/status")["documents"] == 5

    # 2. An ingest killed mid-way (SIGKILL inside its 4th catalog transaction, on A's machine)
    # leaves a catalog the next ingest, on B's, completes.
    settings = replicas["settings"]
    treaties = tmp_path / "treaties"
    write_docs(treaties, 8)
    command = [sys.executable, str(PROJECT / "ingest.py"), "--quiet", str(treaties)]
    killed = subprocess.run(
        command, env={**replica_env(tmp_path / "a", settings), faults.ENV: "catalog:4"},
        capture_output=True, timeout=300,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    observer = Bot(data_dir=tmp_path / "observer", embedder=embedder, **settings)
    catalog = observer.index.catalog
    assert catalog.get_meta(IN_PROGRESS), "the killed run left its mark"
    assert set(stored_chunks(observer.index.store)) != {c.chunk_id for c in catalog.chunks()}
    assert not cites(a, "treaty-06", "Which registry office do signatories of treaty 6 report to?")

    rerun = subprocess.run(command, env=replica_env(tmp_path / "b", settings),
                           capture_output=True, timeout=300)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
    observer.snapshot()  # its own snapshot, derived from the catalog the rerun completed
    counted = audit(observer.index)
    assert counted.ok, counted.problems
    assert counted.documents == 5 + 8 and counted.catalog_chunks == counted.stored_chunks
    question = "Which registry office do signatories of treaty 6 report to?"
    for client in (a, b):  # both replicas, neither restarted, answer from the completed ingest
        until(lambda c=client: cites(c, "treaty-06", question), "replicas to follow the rerun", 60)

    # 3. PostgreSQL stops while questions are asked: the replicas say so, clearly; once it is
    # back they answer again, without a restart.
    postgres = replicas["postgres"]
    postgres.stop()
    try:
        error = until(lambda: ask(b)[1], "replica B to report the catalog down", 60)
        assert "PostgreSQL" in error and "ACCORD_CATALOG_URL" in error, error
        with pytest.raises(Exception, match="PostgreSQL"):
            a.predict(api_name="/status")
    finally:
        postgres.start()
    until(lambda: cites(b, "reykjavik"), "replica B to answer again", 60)
    until(lambda: cites(a, "reykjavik"), "replica A to answer again", 60)
    assert a.predict(api_name="/status")["documents"] == 13

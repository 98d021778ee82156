"""Several page servers over one catalog on PostgreSQL and one ``chroma run`` server.

Four tables, each measured side by side in one run:

- **throughput**: ``/ask`` from simultaneous ``gradio_client`` sessions sent to one ``app.py``
  replica, then spread over two (same sessions, same questions);
- **propagation**: from the end of an ingest on one replica (``Bot.ingest`` returning) to the
  other replica's first answer citing the new document, at the default ``catalog_poll``;
- **catalog size**: 100,000 synthetic chunks (real governance text, cut to chunk size) written
  to the PostgreSQL catalog and to the local SQLite catalog: bytes, write and full-read time
  (a replica's catch-up reads it all);
- **default**: the local catalog (no PostgreSQL) against the code before the shared catalog
  (``git archive`` of ``--base``, default ``5f61338``) on the shipped corpus, in child
  processes: ingest, unchanged re-ingest, search and ask.

PostgreSQL is started here the way the tests start it (``tests/pg.py``).
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bench.common import (
    CORPUS,
    GOVERNANCE,
    PROJECT,
    PYTHON,
    Table,
    child_env,
    free_port,
    median,
    percentile,
    questions,
    stop,
    wait_http,
)

BASE = "5f61338"  # the last commit before the shared catalog


def run(quick: bool, out: Path, base: str = BASE) -> list[Table]:
    from tests.pg import PostgresServer, unavailable

    reason = unavailable()
    if reason:
        raise SystemExit(f"replicas bench: {reason}")
    tables = []
    with tempfile.TemporaryDirectory(prefix="accord-replicas-") as tmp:
        tmp = Path(tmp)
        pg = PostgresServer()
        chroma = _start_chroma(tmp)
        try:
            tables += _deployment(quick, tmp, pg, chroma[1])
            tables.append(_catalog_size(quick, tmp, pg))
        finally:
            stop(chroma[0])
            pg.close()
        tables.append(_default_speed(quick, tmp, base))
    for table in tables:
        table.save(out)
    return tables


def _start_chroma(tmp: Path) -> tuple[subprocess.Popen, str]:
    import shutil

    chroma = shutil.which("chroma") or str(Path(PYTHON).parent / "chroma")
    port = free_port()
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(tmp / "chroma"), "--host", "127.0.0.1", "--port",
         str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", 60, proc)
    return proc, f"http://127.0.0.1:{port}"


def _session(url: str, asked: list[str], latencies: list[float], failures: list[str]) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    for q in asked:
        started = time.perf_counter()
        try:
            client.predict(q, [], {}, api_name="/ask")
            latencies.append(time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - counted
            failures.append(str(exc)[:200])


def _deployment(quick: bool, tmp: Path, pg, chroma_url: str) -> list[Table]:
    from bot import Bot

    settings = {
        "catalog_url": pg.url,
        "chroma_url": chroma_url,
        "collection": "bench",
    }
    writer = Bot(data_dir=tmp / "writer", **settings)
    writer.ingest([CORPUS])
    env = {
        "ACCORD_CATALOG_URL": pg.url,
        "ACCORD_CHROMA_URL": chroma_url,
        "ACCORD_COLLECTION": "bench",
    }
    procs, urls = [], []
    for name in ("a", "b"):
        port = free_port()
        procs.append(subprocess.Popen(
            [PYTHON, "app.py", "--data-dir", str(tmp / name), "--no-ingest", "--port", str(port)],
            env=child_env(**env), cwd=PROJECT, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ))  # fmt: skip
        urls.append(f"http://127.0.0.1:{port}/")
    throughput = Table(
        "replicas_throughput",
        "/ask from simultaneous sessions: one replica against two (PostgreSQL catalog, Chroma "
        "server, shipped corpus)",
        ["replicas", "sessions", "requests", "failed", "seconds", "answers/s", "p50 ms",
         "p95 ms", "÷ one replica"],
    )  # fmt: skip
    propagation = Table(
        "replicas_propagation",
        "From an ingest's end on one replica to the other answering from it "
        "(catalog_poll 1 s, the default)",
        ["document", "chunks", "ingest s", "answers from it s", "cites it s"],
    )
    try:
        for proc, url in zip(procs, urls, strict=True):
            wait_http(url, 300, proc)
        pool = questions(split="all")
        for url in urls:  # warm both: models, snapshot
            _session(url, pool[:2], [], [])
        sessions, per = (4, 3) if quick else (8, 5)
        rate = {}
        for replicas in (1, 2, 1, 2) if not quick else (1, 2):
            latencies: list[float] = []
            failures: list[str] = []
            threads = []
            for s in range(sessions):
                asked = [pool[(2 + s * per + i) % len(pool)] for i in range(per)]
                target = urls[s % replicas]
                threads.append(threading.Thread(
                    target=_session, args=(target, asked, latencies, failures)))  # fmt: skip
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - started
            ms = [1000 * x for x in latencies]
            rate.setdefault(replicas, []).append(len(latencies) / wall)
            throughput.add(
                replicas=replicas, sessions=sessions, requests=sessions * per,
                failed=len(failures), seconds=wall,
                **{"answers/s": len(latencies) / wall, "p50 ms": median(ms),
                   "p95 ms": percentile(ms, 95),
                   "÷ one replica": (len(latencies) / wall) / rate[1][-1]},
            )  # fmt: skip
        throughput.notes.append(
            "both replicas share this machine's 2 cores (and PostgreSQL and Chroma run on them "
            "too): on separate machines each would bring its own"
        )

        from gradio_client import Client

        other = Client(urls[1], verbose=False)
        for n in range(2 if quick else 4):
            folder = tmp / f"new-{n}"
            folder.mkdir()
            word = f"Zephyrine{n}"
            (folder / f"{word.lower()}.md").write_text(
                f"# The {word} accord\n\nThe {word} accord on model registries was signed in "
                f"Lisbon by {20 + n} states. It sets up a registry office for frontier models.\n"
            )
            started = time.perf_counter()
            report = writer.ingest([folder], prune=False)
            ended = time.perf_counter()
            target = int(writer.snapshot().generation)
            holds = cites = float("nan")
            while time.perf_counter() - ended < 120:
                answer = other.predict(f"Where was the {word} accord signed?", [], {},
                                       api_name="/ask")  # fmt: skip
                now = time.perf_counter() - ended
                if holds != holds and int(answer.get("index_generation") or 0) >= target:
                    holds = now
                if any(word.lower() in c["doc_id"] for c in answer["citations"]):
                    cites = now
                    break
            propagation.add(document=word.lower(), chunks=report.chunks,
                            **{"ingest s": ended - started, "answers from it s": holds,
                               "cites it s": cites})  # fmt: skip
        propagation.notes.append(
            "seconds after Bot.ingest returned on the writer until the other replica's /ask first "
            "answered from the new generation, and first cited the new document: its poll wait "
            "(up to 1 s), reading the catalog, building its keyword index from its saved terms "
            "plus the new chunks, and the /ask itself (asked back to back)"
        )
    finally:
        for proc in procs:
            stop(proc)
    return [throughput, propagation]


def _synthetic_chunks(total: int) -> list[tuple[str, list[str]]]:
    """(text, headings) for ``total`` chunks: real governance sentences, ~1,600 characters
    each, repeated with numbers changed."""
    texts = []
    for path in sorted(GOVERNANCE.glob("*.md")) or sorted(CORPUS.glob("*.md")):
        texts.append(path.read_text(encoding="utf-8"))
    words = " ".join(texts).split()
    step = 250  # words per chunk: ~400 tokens
    out = []
    for n in range(total):
        start = (n * 97) % max(1, len(words) - step)
        out.append((f"[{n}] " + " ".join(words[start : start + step]), ["Part", f"Section {n}"]))
    return out


def _catalog_size(quick: bool, tmp: Path, pg) -> Table:
    import psycopg

    from bot.catalog import LocalCatalog
    from bot.catalog_pg import PostgresCatalog
    from bot.records import Chunk, Document

    total = 20_000 if quick else 100_000
    table = Table(
        "replicas_catalog",
        f"The catalog at {total:,} synthetic chunks (real text, ~400 tokens each, 100 per "
        "document)",
        ["catalog", "chunks", "MB", "bytes/chunk", "write s", "full read s"],
    )
    name = f"size_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    catalogs = {
        "PostgreSQL": PostgresCatalog(pg.url.rsplit("/", 1)[0] + f"/{name}"),
        "local SQLite": LocalCatalog(tmp / "size" / "catalog.sqlite"),
    }
    made = _synthetic_chunks(total)
    per_doc = 100
    for label, catalog in catalogs.items():
        started = time.perf_counter()
        for d in range(total // per_doc):
            doc = Document(f"doc-{d:05d}", f"Document {d}", "", f"/corpus/doc-{d:05d}.md",
                           f"h{d}", {"issuer": "OECD", "date": "2024-05-03"})  # fmt: skip
            chunks = []
            for i in range(per_doc):
                text, headings = made[d * per_doc + i]
                chunks.append(Chunk(f"{doc.doc_id}-{i:04d}", doc.doc_id, i, text, 0, len(text),
                                    400, headings))  # fmt: skip
            catalog.put(doc, chunks)
        written = time.perf_counter() - started
        started = time.perf_counter()
        _, chunks = catalog.read()
        read = time.perf_counter() - started
        if isinstance(catalog, PostgresCatalog):
            with psycopg.connect(catalog.url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            size = catalog.size()["bytes"]
        else:
            size = catalog.path.stat().st_size
        table.add(catalog=label, chunks=len(chunks), MB=size / 1e6,
                  **{"bytes/chunk": size / len(chunks), "write s": written,
                     "full read s": read})  # fmt: skip
        catalog.close()
    text_bytes = sum(len(t.encode()) for t, _ in made)
    table.notes.append(f"chunk text alone: {text_bytes / 1e6:.0f} MB; PostgreSQL compresses "
                       "none of it at this size (TOAST starts at 2 kB)")  # fmt: skip
    return table


# Run in a child process, once with this tree and once with the base commit's.
_DEFAULT = r"""
import json, statistics, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from bot import Bot
data, corpus, asked = Path(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
bot = Bot(data_dir=data)
t = time.perf_counter(); bot.ingest([corpus]); ingest = time.perf_counter() - t
again = []
for _ in range(7):
    t = time.perf_counter()
    Bot(data_dir=data).ingest([corpus])
    again.append(time.perf_counter() - t)
again = statistics.median(again)
bot.ask(asked[0])
out = {"ingest s": ingest, "re-ingest unchanged s (median of 7)": again}
for name, fn in (("search", bot.search), ("ask", bot.ask)):
    ms = []
    for q in asked[1:]:
        t = time.perf_counter(); fn(q); ms.append(1000 * (time.perf_counter() - t))
    out[name + " p50 ms"] = statistics.median(ms)
t = time.perf_counter(); fresh = Bot(data_dir=data); fresh.snapshot()
out["snapshot load ms"] = 1000 * (time.perf_counter() - t)
t = time.perf_counter()
for _ in range(20000):
    bot.snapshot()
out["snapshot() per question us"] = (time.perf_counter() - t) / 20000 * 1e6
print(json.dumps(out))
"""


def _default_speed(quick: bool, tmp: Path, base: str) -> Table:
    import json

    table = Table(
        "replicas_default",
        f"Default settings (local catalog, local Chroma) before ({base}) and after the shared "
        "catalog, shipped corpus, child processes, interleaved",
        ["figure", "before", "after", "after ÷ before"],
    )
    tree = tmp / "base"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", base], cwd=PROJECT, capture_output=True,
                             check=True).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    asked = json.dumps(questions(21 if quick else 41))
    figures: dict[str, list[dict]] = {"before": [], "after": []}
    rounds = 1 if quick else 3
    for round_ in range(rounds):
        for label, root in (("before", tree), ("after", PROJECT)):
            done = subprocess.run(
                [PYTHON, "-c", _DEFAULT, str(root), str(tmp / f"d-{label}-{round_}"),
                 str(CORPUS), asked],
                env=child_env(ACCORD_TORCH_THREADS="1"), cwd=root, capture_output=True,
                text=True, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                raise RuntimeError(done.stderr[-2000:])
            figures[label].append(json.loads(done.stdout.strip().splitlines()[-1]))
    for key in figures["after"][0]:
        before = median([f[key] for f in figures["before"]])
        after = median([f[key] for f in figures["after"]])
        table.add(figure=key, before=before, after=after, **{"after ÷ before": after / before})
    table.notes.append(
        f"median of {rounds} round(s), before and after alternating, 1 torch thread; snapshot() "
        "is the only step of a question the change touches (it asks whether the catalog is "
        "shared); load average at the end "
        + ", ".join(f"{x:.1f}" for x in __import__("os").getloadavg())
    )
    return table


if __name__ == "__main__":
    sys.path.insert(0, str(PROJECT))
    for t in run("--quick" in sys.argv, PROJECT / "data" / "bench" / "replicas"):
        print(t.render(), flush=True)

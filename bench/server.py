"""The question benchmark against a ``chroma run`` server (``ACCORD_CHROMA_URL``), beside the
local store, on the same corpus, in the same run."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import CORPUS, Table, free_port, median, percentile, questions, stop, wait_http


def _figures(bot, asked: list[str]) -> dict:
    bot.ask(asked[0])  # warm: model, snapshot, the store's index
    figures = {}
    for name, fn in (("search", bot.search), ("ask", bot.ask)):
        ms = []
        for q in asked:
            t = time.perf_counter()
            fn(q)
            ms.append(1000 * (time.perf_counter() - t))
        figures[f"{name} p50 ms"], figures[f"{name} p95 ms"] = median(ms), percentile(ms, 95)
    dense = []
    vector = bot.embedder.embed_query(asked[0]).tolist()
    for _ in range(50):
        t = time.perf_counter()
        bot.index.store.search(vector, 30, None)
        dense.append(1000 * (time.perf_counter() - t))
    figures["store query p50 ms"] = median(dense)
    return figures


def run(quick: bool, out: Path) -> list[Table]:
    from bot import Bot

    table = Table(
        "server",
        "Questions through a Chroma server beside the local store (shipped corpus)",
        [
            "store",
            "ingest s",
            "search p50 ms",
            "search p95 ms",
            "ask p50 ms",
            "ask p95 ms",
            "store query p50 ms",
        ],  # fmt: skip
        notes=["store query: one k=30 vector query, the dense half of a search"],
    )
    asked = questions(20 if quick else 60)
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    with tempfile.TemporaryDirectory(prefix="accord-server-") as tmp:
        tmp = Path(tmp)
        port = free_port()
        log = open(tmp / "chroma.log", "w")
        proc = subprocess.Popen(
            [chroma, "run", "--path", str(tmp / "server"), "--host", "127.0.0.1",
             "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env={"ANONYMIZED_TELEMETRY": "False",
                                                       "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        try:
            wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", 60, proc)
            stores = {"local": {}, "server": {"chroma_url": f"http://127.0.0.1:{port}"}}
            for label, extra in stores.items():
                bot = Bot(data_dir=tmp / label, **extra)
                started = time.perf_counter()
                bot.ingest([CORPUS])
                ingest_s = time.perf_counter() - started
                table.add(store=label, **{"ingest s": ingest_s}, **_figures(bot, asked))
        finally:
            stop(proc)
            log.close()
    table.save(out)
    return [table]

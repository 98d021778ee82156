"""The chat page under 1, 4 and 16 simultaneous ``gradio_client`` sessions: throughput, p95,
failures. One ``app.py`` process serves the shipped corpus; each session is a thread with its
own ``Client`` asking different questions, one after the other."""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench.common import (
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


def _session(url: str, asked: list[str], latencies: list[float], failures: list[str]) -> None:
    from gradio_client import Client

    try:
        client = Client(url, verbose=False)
    except Exception as exc:  # noqa: BLE001 - counted, not raised
        failures.append(f"connect: {exc}")
        return
    for q in asked:
        t = time.perf_counter()
        try:
            result = client.predict(q, [], {}, api_name="/ask")
            if not isinstance(result, dict) or "text" not in result:
                raise ValueError(f"unexpected result {str(result)[:80]}")
            latencies.append(time.perf_counter() - t)
        except Exception as exc:  # noqa: BLE001
            failures.append(str(exc)[:200])


def run(quick: bool, out: Path) -> list[Table]:
    table = Table(
        "concurrency",
        "The page's /ask under simultaneous gradio_client sessions (shipped corpus)",
        ["sessions", "requests", "failed", "seconds", "answers/s", "p50 ms", "p95 ms"],
    )
    pool = questions(split="all")
    per_session = 3 if quick else 6
    with tempfile.TemporaryDirectory(prefix="accord-conc-") as tmp:
        data = Path(tmp) / "data"
        subprocess.run([PYTHON, "ingest.py", "--quiet", "--data-dir", str(data)],
                       env=child_env(), cwd=PROJECT, check=True, capture_output=True)  # fmt: skip
        port = free_port()
        proc = subprocess.Popen(
            [PYTHON, "app.py", "--data-dir", str(data), "--no-ingest", "--port", str(port)],
            env=child_env(), cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}/"
        try:
            wait_http(url, 180, proc)
            _session(url, pool[:1], [], [])  # warm
            offset = 1
            for sessions in (1, 4, 16):
                latencies: list[float] = []
                failures: list[str] = []
                threads = []
                for s in range(sessions):
                    asked = [pool[(offset + s * per_session + i) % len(pool)]
                             for i in range(per_session)]  # fmt: skip
                    threads.append(threading.Thread(
                        target=_session, args=(url, asked, latencies, failures)))  # fmt: skip
                offset += sessions * per_session
                started = time.perf_counter()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                wall = time.perf_counter() - started
                ms = [1000 * s for s in latencies]
                table.add(sessions=sessions, requests=sessions * per_session,
                          failed=len(failures), seconds=wall,
                          **{"answers/s": len(latencies) / wall, "p50 ms": median(ms),
                             "p95 ms": percentile(ms, 95)})  # fmt: skip
                if failures:
                    table.notes.append(f"{sessions} sessions, first failure: {failures[0]}")
        finally:
            stop(proc)
    table.save(out)
    return [table]

"""Drive the chat page with many concurrent gradio_client sessions; report failures, latency
and the server's memory, then the same while an upload is being ingested.

    python bench/stress_page.py [--sessions 32] [--seconds 120] [--out /tmp/accord-stress]

Loopback only and bounded: the page runs in a subprocess on 127.0.0.1 (a free port), each
phase lasts ``--seconds`` and no session sends its next question before the last one came
back. Phase 1: ``--sessions`` clients ask questions from ``evals/dataset.jsonl`` through
``/ask``. Phase 2: the same while the server ingests a large upload through the page's own
upload code (``ChatPage.ingest_uploads``, what the Add documents box calls; started in the
server process so it competes with the questions for the same CPU and index). The server's RSS
(psutil) is sampled every second. Not run by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))


def serve(data: str) -> None:
    """The server side: the page on a free port; 'upload PATH' on stdin ingests a file."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from bot import Bot
    from bot.ui import launch
    from bot.ui.page import ChatPage

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bot = Bot(data_dir=data)
    bot.search("international AI governance")  # load the models before the first visitor
    app = launch(bot, port=port, prevent_thread_lock=True, quiet=True)
    print(f"READY {app.local_url}", flush=True)
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command == "upload":

            def ingest(path: str = arg) -> None:
                started = time.perf_counter()
                rows = ChatPage(bot).ingest_uploads([path])
                seconds = time.perf_counter() - started
                print(f"UPLOADED {seconds:.1f} {json.dumps([list(r) for r in rows])}", flush=True)

            threading.Thread(target=ingest, daemon=True).start()
        elif command == "quit":
            break
    app.close()


def questions() -> list[str]:
    rows = [json.loads(line) for line in (PROJECT / "evals" / "dataset.jsonl").open()]
    return [r["question"] for r in rows if not r.get("history")]


def phase(url: str, sessions: int, seconds: float, pool: list[str], label: str, sampler) -> dict:
    from gradio_client import Client

    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    clients = [Client(url, verbose=False) for _ in range(sessions)]
    stop = time.monotonic() + seconds
    rss_start = sampler.rss()

    def run(client, seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < stop:
            question = rng.choice(pool)
            started = time.perf_counter()
            try:
                data = client.predict(question, [], {}, api_name="/ask")
                ok = isinstance(data, dict) and isinstance(data.get("text"), str)
                problem = "" if ok else f"bad reply {str(data)[:80]}"
            except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
                problem = f"{type(exc).__name__}: {str(exc)[:120]}"
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if problem:
                    failures.append(problem)

    threads = [threading.Thread(target=run, args=(c, i)) for i, c in enumerate(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    for client in clients:
        client.close()
    ordered = sorted(latencies)
    result = {
        "phase": label,
        "sessions": sessions,
        "seconds": round(wall, 1),
        "requests": len(latencies),
        "failed": len(failures),
        "per_s": round(len(latencies) / wall, 2),
        "p50_s": round(statistics.median(ordered), 2) if ordered else None,
        "p95_s": round(ordered[int(0.95 * (len(ordered) - 1))], 2) if ordered else None,
        "max_s": round(ordered[-1], 2) if ordered else None,
        "rss_start_mb": rss_start,
        "rss_end_mb": sampler.rss(),
        "rss_peak_mb": sampler.peak_since_reset(),
        "failure_examples": sorted(set(failures))[:5],
    }
    print(json.dumps(result), flush=True)
    return result


class Sampler:
    """The server's resident memory, sampled every second."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.process = psutil.Process(pid)
        self.peak = 0.0
        self.running = True
        threading.Thread(target=self._loop, daemon=True).start()

    def rss(self) -> float:
        return round(self.process.memory_info().rss / 2**20, 1)

    def peak_since_reset(self) -> float:
        peak, self.peak = self.peak, 0.0
        return round(peak, 1)

    def _loop(self) -> None:
        while self.running:
            try:
                self.peak = max(self.peak, self.rss())
            except Exception:  # noqa: BLE001 - the server went away; the phase will say so
                return
            time.sleep(1)


def big_upload(folder: Path, paragraphs: int) -> Path:
    rng = random.Random(7)
    words = (
        "governance compute evaluation register incident threshold summit convention "
        "ministry oversight audit transparency model provider deployer risk"
    ).split()
    path = folder / "stress-upload-report.md"
    with path.open("w", encoding="utf-8") as out:
        out.write("---\ntitle: Stress upload report\nissuer: Stress group\ndate: 2025-01-01\n---\n")
        for i in range(paragraphs):
            if i % 20 == 0:
                out.write(f"\n## Part {i // 20 + 1}\n")
            sentence = " ".join(rng.choice(words) for _ in range(24))
            out.write(f"\nParagraph {i} says the {sentence}.\n")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--upload-paragraphs", type=int, default=3000)
    parser.add_argument("--out", default="/tmp/accord-stress")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    if not 1 <= args.sessions <= 64 or not 1 <= args.seconds <= 900:
        parser.error("bounded: 1-64 sessions, 1-900 seconds per phase")

    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    data = out / "data"
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    env["GRADIO_TEMP_DIR"] = str(out / "gradio")
    subprocess.run(
        [sys.executable, str(PROJECT / "ingest.py"), "--data-dir", str(data), "--quiet"],
        env=env,
        check=True,
    )
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(data)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = server.stdout.readline()
        if not line.startswith("READY "):
            raise SystemExit(f"the page did not start: {line}")
        url = line.split(" ", 1)[1].strip()
        sampler = Sampler(server.pid)
        pool = questions()
        print(f"page at {url}; {len(pool)} questions; server RSS {sampler.rss()} MB", flush=True)
        phase(url, 4, 15, pool, "warm-up", sampler)
        results = [phase(url, args.sessions, args.seconds, pool, "questions", sampler)]

        upload = big_upload(out, args.upload_paragraphs)
        server.stdin.write(f"upload {upload}\n")
        server.stdin.flush()
        uploaded: list[str] = []
        threading.Thread(
            target=lambda: uploaded.append(server.stdout.readline().strip()), daemon=True
        ).start()
        results.append(
            phase(url, args.sessions, args.seconds, pool, "questions during an upload", sampler)
        )
        deadline = time.monotonic() + 900
        while not uploaded and time.monotonic() < deadline:
            time.sleep(1)
        size = upload.stat().st_size
        print(f"upload of {size:,} bytes: {uploaded[0] if uploaded else 'not finished'}")
        sampler.running = False
        failed = sum(r["failed"] for r in results)
        print(f"total: {sum(r['requests'] for r in results)} requests, {failed} failed")
        return 1 if failed else 0
    finally:
        if server.poll() is None:
            try:
                server.stdin.write("quit\n")
                server.stdin.flush()
                server.wait(timeout=30)
            except Exception:  # noqa: BLE001
                server.kill()


if __name__ == "__main__":
    sys.exit(main())

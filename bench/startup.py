"""Start-up: ``ingest.py --help``, ``Bot()`` to its first answer, ``app.py`` to a page answering.

Each is a fresh process (the OS file cache is warm: every figure is the second of two starts,
so the first pays for reading the packages from disk). The index is the shipped corpus, built
beforehand.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import PROJECT, PYTHON, Table, child_env, free_port, stop, wait_http

FIRST_ANSWER = (
    "import time, sys; started = time.perf_counter()\n"
    "from bot import Bot\n"
    "bot = Bot(data_dir=sys.argv[1])\n"
    "bot.ask('What did the G7 agree in the Hiroshima AI Process?')\n"
    "print(time.perf_counter() - started)\n"
)


def _wall(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, env=child_env(), cwd=PROJECT, check=True, capture_output=True)
    return time.perf_counter() - started


def _app_ready(data: Path) -> float:
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [PYTHON, "app.py", "--data-dir", str(data), "--no-ingest", "--port", str(port)],
        env=child_env(), cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/", 180, proc)
        return time.perf_counter() - started
    finally:
        stop(proc)


def run(quick: bool, out: Path) -> list[Table]:
    table = Table(
        "startup",
        "Start-up (fresh processes, second of two starts)",
        ["what", "seconds", "target"],
    )
    with tempfile.TemporaryDirectory(prefix="accord-startup-") as tmp:
        data = Path(tmp) / "data"
        subprocess.run(
            [PYTHON, "ingest.py", "--quiet", "--data-dir", str(data)],
            env=child_env(), cwd=PROJECT, check=True, capture_output=True,
        )  # fmt: skip
        helps = [_wall([PYTHON, "ingest.py", "--help"]) for _ in range(2)]
        table.add(what="python ingest.py --help", seconds=helps[-1], target="< 1 s")
        answers = []
        for _ in range(2):
            started = time.perf_counter()
            subprocess.run([PYTHON, "-c", FIRST_ANSWER, str(data)], env=child_env(), cwd=PROJECT,
                           check=True, capture_output=True)  # fmt: skip
            answers.append(time.perf_counter() - started)
        table.add(what="Bot() to its first answer (python start included)", seconds=answers[-1])
        apps = [_app_ready(data) for _ in range(1 if quick else 2)]
        table.add(what="python app.py to the page answering HTTP", seconds=apps[-1])
    table.save(out)
    return [table]

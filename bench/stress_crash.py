"""SIGKILL `ingest.py` at every write point on a few hundred documents, rerun, and count.

    python bench/stress_crash.py [--docs 300] [--out /tmp/accord-crash]

Each round changes the corpus (edits, additions, deletions), runs ``ingest.py`` in a
subprocess with ``ACCORD_TEST_KILL_AT=<point>:<n>`` (see ``bot/faults.py``) so it SIGKILLs
itself at that write point, checks it died by SIGKILL, deletes one of the round's new
documents (whatever the dead run wrote of it must go), reruns ``ingest.py`` to completion and
audits the index (``bot.recovery.audit``): every document of the corpus exactly once, the vector
store, the catalog and the current snapshot's chunks and keyword index holding the same chunk
ids, counted. Prints one line per round and exits 1 if any round fails. Not run by pytest.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

TOPICS = ["compute thresholds", "model evaluations", "incident reporting", "export controls",
          "watermarking", "safety institutes", "audit registers", "data centres"]  # fmt: skip

# (point, visit): visits counted from the start of the run; documents are written in name
# order, so a middle visit lands among the round's changed and new documents.
ROUNDS = [
    ("vectors.before", 5),
    ("vectors.during", 7),
    ("vectors.after", 9),
    ("catalog", 11),
    ("prune", 3),
    ("keyword", 1),
    ("pointer", 1),
    ("catalog", 1),
]


def write_doc(folder: Path, n: int, rng: random.Random, version: int = 0) -> None:
    topic = rng.choice(TOPICS)
    paragraphs = [
        f"The accord number {n} (version {version}) asks signatories to publish a register "
        f"of {topic} every year, and to name one office that answers for it."
        for _ in range(rng.randint(12, 24))  # two or three chunks each
    ]
    body = "\n\n".join(paragraphs)
    (folder / f"accord-{n:04d}.md").write_text(
        f"---\ntitle: Accord {n}\nissuer: Stress group {n % 7}\ndate: 2024-0{1 + n % 9}-15\n"
        f"---\n\n# Accord {n}\n\n{body}\n",
        encoding="utf-8",
    )


def run_ingest(corpus: Path, data: Path, kill_at: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ, ACCORD_TORCH_THREADS="1", HF_HUB_OFFLINE="1")
    env.pop("ACCORD_TEST_KILL_AT", None)
    if kill_at:
        env["ACCORD_TEST_KILL_AT"] = kill_at
    return subprocess.run(
        [
            sys.executable,
            str(PROJECT / "ingest.py"),
            str(corpus),
            "--data-dir",
            str(data),
            "--quiet",
        ],  # fmt: skip
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )


def check(corpus: Path, data: Path) -> tuple[bool, str]:
    """The audit, in a process of its own: Chroma's local store does not see what another
    process wrote after it opened it."""
    done = subprocess.run(
        [sys.executable, __file__, "--audit", str(corpus), str(data)],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, HF_HUB_OFFLINE="1"),
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode not in (0, 1) or not lines:
        return False, f"audit crashed: {done.stderr[-1500:]}"
    return done.returncode == 0, lines[-1]


def audit_here(corpus: Path, data: Path) -> tuple[bool, str]:
    from bot import Bot
    from bot.recovery import audit

    bot = Bot(data_dir=data)
    counted = audit(bot.index)
    sources = sorted(Path(d.source).name for d in bot.documents())
    files = sorted(p.name for p in corpus.iterdir())
    problems = list(counted.problems)
    if sources != files:
        problems.append(f"catalog has {len(sources)} documents, the corpus {len(files)} files")
    figures = (
        f"docs {counted.documents}/{len(files)} chunks catalog {counted.catalog_chunks} "
        f"store {counted.stored_chunks} snapshot {counted.snapshot_chunks} "
        f"keyword {counted.keyword_chunks}"
    )
    return not problems, figures + ("" if not problems else f"  PROBLEMS: {problems}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--out", default="/tmp/accord-crash")
    parser.add_argument("--audit", nargs=2, metavar=("CORPUS", "DATA"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.audit:
        ok, figures = audit_here(Path(args.audit[0]), Path(args.audit[1]))
        print(figures)
        return 0 if ok else 1
    rng = random.Random(11)
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    corpus, data = out / "corpus", out / "data"
    corpus.mkdir(parents=True)
    for n in range(args.docs):
        write_doc(corpus, n, rng)

    started = time.perf_counter()
    first = run_ingest(corpus, data, None)
    ok, figures = check(corpus, data)
    print(f"clean ingest of {args.docs} documents: rc={first.returncode} "
          f"{time.perf_counter() - started:.0f} s; {figures}", flush=True)  # fmt: skip
    failures = 0 if ok else 1
    next_n = args.docs
    for round_no, (point, visit) in enumerate(ROUNDS, start=1):
        existing = sorted(corpus.iterdir())
        for path in rng.sample(existing, 6):  # edits
            write_doc(corpus, int(path.stem.split("-")[1]), rng, version=round_no)
        for path in rng.sample([p for p in existing if p.exists()], 3):  # deletions
            path.unlink()
        new = list(range(next_n, next_n + 8))  # additions
        next_n += 8
        for n in new:
            write_doc(corpus, n, rng)
        started = time.perf_counter()
        killed = run_ingest(corpus, data, f"{point}:{visit}")
        died = killed.returncode == -signal.SIGKILL
        (corpus / f"accord-{new[3]:04d}.md").unlink()  # one new document is withdrawn
        rerun = run_ingest(corpus, data, None)
        ok, figures = check(corpus, data)
        ok = ok and died and rerun.returncode == 0
        failures += not ok
        print(
            f"round {round_no} kill at {point}:{visit}: killed rc={killed.returncode} "
            f"rerun rc={rerun.returncode} {time.perf_counter() - started:.0f} s; {figures} "
            f"-> {'ok' if ok else 'FAILED'}",
            flush=True,
        )
        if rerun.returncode != 0:
            print(rerun.stderr[-2000:])
    print(f"{len(ROUNDS)} kill rounds, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Speed benchmark: ingest and ask timings, measured side by side against a baseline run.

    python -m evals.bench [--corpus corpus/] [--questions 40]

Runs the same work twice in one process — the baseline pins the embedding model to one CPU
thread (ACCORD_TORCH_THREADS=1), the candidate uses the current settings (by default torch's
own thread count) — and prints each figure with the ratio between them. Absolute figures move
with machine load; the side-by-side ratio is what to compare.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bot import Bot
from bot.settings import PROJECT_ROOT


def measure(corpus: Path, questions: list[str], **settings) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        bot = Bot(data_dir=Path(tmp) / "data", **settings)
        full = bot.ingest([corpus]).seconds
        again = bot.ingest([corpus]).seconds
        bot.ask(questions[0])  # load the model and warm the caches outside the timings
        latencies = []
        for question in questions:
            started = time.perf_counter()
            bot.ask(question)
            latencies.append(time.perf_counter() - started)
    latencies.sort()
    return {
        "ingest_s": full,
        "reingest_s": again,
        "ask_p50_ms": 1000 * statistics.median(latencies),
        "ask_p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=PROJECT_ROOT / "corpus")
    parser.add_argument("--dataset", type=Path, default=PROJECT_ROOT / "evals" / "dataset.jsonl")
    parser.add_argument("--questions", type=int, default=40)
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in args.dataset.read_text().splitlines() if line.strip()]
    questions = [r["question"] for r in rows][: args.questions]

    measure(args.corpus, questions[:2])  # load the model and warm the OS caches untimed
    baseline = measure(args.corpus, questions, torch_threads=1)
    accord = measure(args.corpus, questions)
    print(f"corpus {args.corpus} · {len(questions)} questions")
    print(f"{'figure':<14}{'baseline':>12}{'accord':>12}{'ratio':>9}")
    for key in baseline:
        ratio = accord[key] / baseline[key] if baseline[key] else float("nan")
        print(f"{key:<14}{baseline[key]:>12.2f}{accord[key]:>12.2f}{ratio:>9.2f}")
    print("baseline: 1 torch thread; accord: current settings. ratio < 1: accord is faster.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What the trained selector costs an answer: ``Bot.ask`` on the shipped corpus with the
selector on and off, side by side in one process, on the same dev questions (warm caches, so
the figures are those of a running server), and the selector's own share of each answer."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.common import CORPUS, Table, median, percentile, questions


def run(quick: bool, out: Path) -> list[Table]:
    from bot import Bot

    asked = questions(20 if quick else 60)
    table = Table(
        "selector",
        "Bot.ask on the shipped corpus, trained selector off (baseline) and on, 2 cores",
        ["figure", "selector off", "selector on", "ratio"],
    )
    with tempfile.TemporaryDirectory() as tmp:
        base = Bot(data_dir=Path(tmp) / "data", corpus_dir=CORPUS)
        base.ingest([CORPUS])
        bots = {
            "off": Bot(base.settings.with_(selector=False), embedder=base.embedder),
            "on": Bot(base.settings, embedder=base.embedder),
        }
        for bot in bots.values():  # load the models and warm the sentence caches untimed
            for q in asked:
                bot.ask(q)
        latencies: dict[str, list[float]] = {name: [] for name in bots}
        rerank: list[float] = []
        for q in asked:  # interleaved, so machine load falls on both alike
            for name, bot in bots.items():
                started = time.perf_counter()
                bot.ask(q)
                latencies[name].append(1000 * (time.perf_counter() - started))
            found = bots["on"].evidence(q)
            started = time.perf_counter()
            bots["on"].selector.score(q, [s.text for s in found.sentences[: base.settings.rerank]])
            rerank.append(1000 * (time.perf_counter() - started))
    for label, fn in (("ask p50 ms", median), ("ask p95 ms", lambda v: percentile(v, 95))):
        off, on = fn(latencies["off"]), fn(latencies["on"])
        table.add(**{"figure": label, "selector off": off, "selector on": on, "ratio": on / off})
    table.add(**{"figure": "selector alone p50 ms", "selector off": 0.0,
                 "selector on": median(rerank), "ratio": ""})  # fmt: skip
    table.notes.append(f"{len(asked)} questions, rerank={base.settings.rerank} sentences each")
    table.save(out)
    return [table]

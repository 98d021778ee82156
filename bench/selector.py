"""What the trained selector costs an answer: ``Bot.ask`` on the shipped corpus with the
selector on and off, side by side in one process, and the selector's own share of each answer.
Models load and the sentence caches fill on one half of the dev questions, untimed; the other
half is timed, so each timed question is new to both bots (as a running server meets them)
while the corpus's sentences are mostly embedded already."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.common import CORPUS, Table, median, percentile, questions


def run(quick: bool, out: Path) -> list[Table]:
    from bot import Bot

    pool = questions(40 if quick else 120)
    warm, asked = pool[::2], pool[1::2]
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
            for q in warm:
                bot.ask(q)
        latencies: dict[str, list[float]] = {name: [] for name in bots}
        rerank: list[float] = []
        for q in asked:  # interleaved, so machine load falls on both alike
            for name, bot in bots.items():
                started = time.perf_counter()
                bot.ask(q)
                latencies[name].append(1000 * (time.perf_counter() - started))
            found = bots["on"].evidence(q + " ")  # a question text the selector has not seen
            texts = [s.text for s in found.sentences[: base.settings.rerank]]
            started = time.perf_counter()
            bots["on"].selector.score(q + "  ", texts)
            rerank.append(1000 * (time.perf_counter() - started))
    for label, fn in (("ask p50 ms", median), ("ask p95 ms", lambda v: percentile(v, 95))):
        off, on = fn(latencies["off"]), fn(latencies["on"])
        table.add(**{"figure": label, "selector off": off, "selector on": on, "ratio": on / off})
    table.add(**{"figure": "selector alone p50 ms", "selector off": 0.0,
                 "selector on": median(rerank), "ratio": ""})  # fmt: skip
    table.notes.append(
        f"{len(asked)} timed questions after {len(warm)} untimed ones, "
        f"rerank={base.settings.rerank} sentences each"
    )
    table.save(out)
    return [table]

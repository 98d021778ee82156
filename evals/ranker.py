"""python -m evals.ranker: learn the sentence ranker's weights from labelled dev sentences.

Every answerable dev item is searched as the bot would; each sentence of its passages is
labelled 1 when it states one of the item's key facts (``must_include``), 0 otherwise. A
logistic model over ``bot.ranking.FEATURES`` is fitted with each item weighing the same, and
scored by 5-fold cross-validation against the hand-set score it replaces: the share of key facts
that the top 3 sentences state. Only dev items are read; the test split stays unseen.

Prints the weights to paste into ``bot/ranking.py`` (the figures are quoted there).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from bot import Bot, Settings
from bot.ranking import FEATURES
from evals.dataset import DEFAULT_DATASET, load_dataset
from evals.metrics import normalize

PROJECT = Path(__file__).resolve().parent.parent
GOVERNANCE_DOCS = PROJECT.parent / "shared" / "governance-docs"
GOVERNANCE_SET = PROJECT / "evals" / "governance.jsonl"


@dataclass
class Labelled:
    item: str
    rows: np.ndarray  # features, one row per candidate sentence
    labels: np.ndarray  # sentences x facts: does the sentence state the fact


def collect(bot: Bot, dataset: Path, split: str = "dev") -> list[Labelled]:
    out = []
    for item in load_dataset(dataset, split):
        if not item.answerable or not item.must_include:
            continue
        found = bot.evidence(item.question, item.history)
        facts = [f" {normalize(f)} " for f in item.must_include]
        labels = np.array(
            [[f in f" {normalize(s.text)} " for f in facts] for s in found.sentences], dtype=bool
        ).reshape(len(found.sentences), len(facts))
        out.append(Labelled(item.id, np.asarray(found.rows, dtype=np.float64), labels))
    return out


def top_coverage(data: list[Labelled], weights: np.ndarray, bias: float, n: int = 3) -> float:
    """Share of key facts stated by the ``n`` best-scored sentences of each item."""
    got = total = 0
    for d in data:
        total += d.labels.shape[1]
        if len(d.rows):
            order = np.argsort(-(d.rows @ weights + bias))[:n]
            got += int(d.labels[order].any(axis=0).sum())
    return got / max(total, 1)


def fit(data: list[Labelled], l2: float = 1.0, steps: int = 4000, rate: float = 0.1):
    """Logistic regression on standardised features, each item weighing the same."""
    rows = np.vstack([d.rows for d in data if len(d.rows)])
    y = np.concatenate([d.labels.any(axis=1) for d in data if len(d.rows)]).astype(float)
    weight = np.concatenate([np.full(len(d.rows), 1.0 / len(d.rows)) for d in data if len(d.rows)])
    weight *= len(weight) / weight.sum()
    mean, std = rows.mean(axis=0), rows.std(axis=0) + 1e-6
    z = (rows - mean) / std
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        g = (p - y) * weight
        w -= rate * (z.T @ g / len(y) + l2 * w / len(y))
        b -= rate * float(g.mean())
    return w / std, b - float((w * mean / std).sum())


def cross_validate(data: list[Labelled], folds: int = 5, seed: int = 0) -> float:
    order = np.random.default_rng(seed).permutation(len(data))
    got = 0.0
    total = 0
    for part in np.array_split(order, folds):
        held = set(part.tolist())
        w, b = fit([d for i, d in enumerate(data) if i not in held])
        test = [data[i] for i in part]
        facts = sum(d.labels.shape[1] for d in test)
        got += top_coverage(test, w, b) * facts
        total += facts
    return got / max(total, 1)


def _governance_bot(base: Settings) -> Bot | None:
    if not (GOVERNANCE_DOCS.is_dir() and GOVERNANCE_SET.is_file()):
        return None
    from evals.__main__ import prepare_index

    args = SimpleNamespace(corpus=str(GOVERNANCE_DOCS), no_ingest=False, quiet=True)
    settings, _ = prepare_index(base, args)
    return Bot(settings=settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.ranker", description=__doc__)
    parser.add_argument("--split", default="dev", choices=("dev",), help="always dev")
    parser.parse_args(argv)
    base = Settings.from_env()
    sets: dict[str, list[Labelled]] = {}
    shipped = Bot(settings=base)
    if not shipped.status()["chunks"]:
        shipped.ingest()
    sets["shipped corpus"] = collect(shipped, DEFAULT_DATASET)
    governance = _governance_bot(base)
    if governance is not None:
        sets["governance-docs"] = collect(governance, GOVERNANCE_SET)
    everything = [d for data in sets.values() for d in data]
    hand = np.zeros(len(FEATURES))
    hand[FEATURES.index("cos_context")], hand[FEATURES.index("lex_sentence")] = 1.0, 0.5
    w, b = fit(everything)
    for name, data in sets.items():
        print(
            f"{name}: {len(data)} dev items; facts in the top 3 sentences: "
            f"hand-set score {top_coverage(data, hand, 0.0):.3f}, "
            f"learned (fitted on all) {top_coverage(data, w, b):.3f}",
            file=sys.stderr,
        )
    print(f"5-fold cross-validated (all sets): {cross_validate(everything):.3f}", file=sys.stderr)
    print("WEIGHTS = {")
    for name, value in zip(FEATURES, w, strict=True):
        print(f'    "{name}": {value:.3f},')
    print("}")
    print(f"BIAS = {b:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""python -m evals.ablation: which of the ranker's hand-made features still earn their place.

Measured where it counts: on documents held out of all training, with the ranker folded into
the trained selector's cosine as ``bot.evidence.rerank`` folds it. The split is the one of
``python -m evals.train_selector --study`` (seed 13, a quarter of each source's documents held
out). The bi-encoder is trained once on the other documents' questions; its cosines on the
held-out questions are kept under ``data/ablation/``, so a rerun costs only the features. The
logistic ranker is then refitted on the training documents' questions (``evals.ranker.fit``)
with every feature, and again with each feature, or group of features, left out; each fit is
scored on the held-out questions, alone and folded. A feature whose removal costs no more
than noise (half a point of top-1 and of top-3, about four questions in 800) is dead weight.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from bot import ranking
from bot.embeddings import get_embedder
from bot.evidence import VectorCache
from bot.ranking import FEATURES
from bot.settings import Settings
from evals.ranker import Labelled, fit
from evals.selector.data import Example, held_out_documents
from evals.train_selector import (
    bi_scores,
    examples_for_training,
    figures,
    folded,
    ranker_rows,
    train_bi_encoder,
)

PROJECT = Path(__file__).resolve().parent.parent
CACHE = PROJECT / "data" / "ablation"
NOISE = 0.005  # a removal that costs less than this on both top-1 and top-3 is not missed

# Left out together: features that only make sense as a pair, or share their regexes.
GROUPS = {
    "kind_match + kind_missing (the answer-kind regexes)": ("kind_match", "kind_missing"),
    "list_intro + short": ("list_intro", "short"),
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def paraphrases_off():
    """The lexical features as they would be without ``ranking.PARAPHRASES``: neither the
    question's terms nor the sentences' are expanded."""
    kept = ranking.expand
    ranking.expand = lambda text: text
    try:
        yield
    finally:
        ranking.expand = kept


def split(examples: list[Example], seed: int, share: float) -> tuple[list, list]:
    held = held_out_documents([e.label for e in examples], share, seed)
    train = [e for e in examples if e.label.doc_id not in held]
    test = [e for e in examples if e.label.doc_id in held]
    return train, test


def held_out_cosines(train: Sequence[Example], test: Sequence[Example], seed: int) -> list:
    """The bi-encoder's cosines on the held-out candidates, trained on ``train`` once and kept
    on disk by what it was trained and scored on."""
    key = hashlib.sha256(
        json.dumps([seed, [e.label.id for e in train], [e.label.id for e in test]]).encode()
    ).hexdigest()[:16]
    path = CACHE / f"bi-cosines-{key}.npz"
    if path.is_file():
        saved = np.load(path)
        return np.split(saved["cosines"], saved["offsets"][1:-1])
    log(f"training the bi-encoder on {len(train)} questions (kept in {path})")
    cosines = bi_scores(train_bi_encoder(train, seed), test)
    CACHE.mkdir(parents=True, exist_ok=True)
    offsets = np.cumsum([0] + [len(c) for c in cosines])
    np.savez(path, cosines=np.concatenate(cosines), offsets=offsets)
    return cosines


def fitted(train: Sequence[Example], rows: Sequence[np.ndarray], keep: list[int]):
    """The logistic ranker over the ``keep`` columns, fitted on the answerable training
    questions as ``python -m evals.ranker`` fits it on the dev items."""
    data = []
    for ex, r in zip(train, rows, strict=True):
        known = ~np.isnan(r).any(axis=1)
        if ex.label.answerable and known.any():
            data.append(Labelled(ex.label.id, r[known][:, keep], ex.positive[known][:, None]))
    return fit(data)


def scored(rows: Sequence[np.ndarray], keep: list[int], weights, bias) -> list[np.ndarray]:
    """The ranker's estimate per candidate (``ranking.combine``); 0 where the bot would not
    produce the candidate."""
    out = []
    for r in rows:
        p = 1.0 / (1.0 + np.exp(-(r[:, keep] @ weights + bias)))
        out.append(np.nan_to_num(p))
    return out


def hits(test: Sequence[Example], scores: Sequence[np.ndarray]) -> np.ndarray:
    """Per answerable question: is its answer the best-scored candidate."""
    return np.array(
        [
            bool(ex.positive[int(np.argmax(s))])
            for ex, s in zip(test, scores, strict=True)
            if ex.label.answerable
        ]
    )


def variants(also: Sequence[Sequence[str]]) -> list[tuple[str, tuple[str, ...], bool]]:
    """(name, features left out, paraphrases on) for every ablation, all features first."""
    out = [("all features", (), True)]
    out += [(f"- {f}", (f,), True) for f in FEATURES]
    out += [(f"- {name}", group, True) for name, group in GROUPS.items()]
    out.append(("- PARAPHRASES (lexical features without them)", (), False))
    for drop in also:  # "PARAPHRASES" among them turns the paraphrases off as well
        kept = tuple(f for f in drop if f != "PARAPHRASES")
        out.append((f"- {' - '.join(drop)}", kept, "PARAPHRASES" not in drop))
    return out


def ablation(examples: list[Example], seed: int, share: float, limit: int | None, also=()):
    train, test = split(examples, seed, share)
    if limit and limit < len(train):
        order = np.random.default_rng(seed).permutation(len(train))[:limit]
        train = [train[i] for i in sorted(order)]
    log(f"ablation: {len(train)} training questions, {len(test)} held out")
    cosines = held_out_cosines(train, test, seed)
    cache = VectorCache(get_embedder("minilm"), size=1_000_000)
    rows = {True: (ranker_rows(train, cache), ranker_rows(test, cache))}
    with paraphrases_off():
        rows[False] = (ranker_rows(train, cache), ranker_rows(test, cache))
    table = [("bi-encoder alone", figures(test, cosines), None, hits(test, cosines))]
    for name, drop, para in variants(also):
        keep = [i for i, f in enumerate(FEATURES) if f not in drop]
        train_rows, test_rows = rows[para]
        weights, bias = fitted(train, train_rows, keep)
        alone = scored(test_rows, keep, weights, bias)
        mixed = folded(cosines, alone)
        table.append((name, figures(test, alone), figures(test, mixed), hits(test, mixed)))
        log(f"{name}: {table[-1][1]} folded {table[-1][2]}")
    return train, test, table


def describe(test: Sequence[Example], table) -> str:
    """A Markdown table; the deltas and the questions won / lost are against all features."""
    base = next(t for t in table if t[0] == "all features")
    lines = [
        f"Held-out questions (answerable): {sum(e.label.answerable for e in test)}",
        "",
        "| ranker | alone top-1 | alone top-3 | folded top-1 | folded top-3 | Δ top-1 | "
        "Δ top-3 | top-1 won / lost |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, alone, mixed, hit in table:
        if mixed is None:
            lines.append(f"| {name} | {alone['top1']:.3f} | {alone['top3']:.3f} | | | | | |")
            continue
        d1 = mixed["top1"] - base[2]["top1"]
        d3 = mixed["top3"] - base[2]["top3"]
        won, lost = int((hit & ~base[3]).sum()), int((~hit & base[3]).sum())
        lines.append(
            f"| {name} | {alone['top1']:.3f} | {alone['top3']:.3f} | {mixed['top1']:.3f} | "
            f"{mixed['top3']:.3f} | {d1:+.3f} | {d3:+.3f} | {won} / {lost} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.ablation", description=__doc__)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--held-out", type=float, default=0.25, help="share of documents held out")
    parser.add_argument("--sources", help="only labels over these sources (comma-separated)")
    parser.add_argument("--train-limit", type=int, help="train on this many questions only")
    parser.add_argument(
        "--also", action="append", default=[], metavar="F1,F2",
        help="also score the ranker without these features together (repeatable)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    sources = args.sources.split(",") if args.sources else ()
    examples, info = examples_for_training(Settings.from_env(), sources)
    log(json.dumps(info))
    also = [a.split(",") for a in args.also]
    _, test, table = ablation(examples, args.seed, args.held_out, args.train_limit, also)
    print(describe(test, table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""python -m evals.abstention: which evidence score should decide that the documents cannot
answer, and at what threshold.

Two candidates are compared on questions whose answerability is known: the ranker's closeness
(``Evidence.closeness``: the best sentence's cosine with its heading plus half its share of the
question's rare terms) and the trained selector's best cosine among the sentences it rereads.
Questions the name check declines ("never mentions …") are declined whatever the score, so the
scores are compared on the rest: the area under the ROC curve (0.5 is chance) says how well each
separates answerable from unanswerable questions, and the table gives, per threshold, the share
of each declined once the name check is counted too.

The questions: the dev items of both reference sets (never the test split) and, with
``--labels``, the selector's labelled questions over the shipped corpus. The selector was
trained on the answerable ones among those, so its score is flattered there; closeness was not
fitted on them.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from bot import Bot, Settings
from bot.evidence import with_context
from evals.dataset import CORE_KINDS, DEFAULT_DATASET, load_dataset
from evals.ranker import GOVERNANCE_SET, _governance_bot

THRESHOLDS = (0.50, 0.54, 0.56, 0.58, 0.60, 0.62, 0.64, 0.66)
MAX_DECLINED_ANSWERABLE = 0.05


@dataclass
class Scored:
    answerable: bool
    named: bool  # declined by the name check, whatever its scores
    closeness: float
    selector: float


def score(bot: Bot, question: str, answerable: bool, history=None) -> Scored:
    snapshot = bot.snapshot()
    found = bot.evidence(question, history, snapshot=snapshot)
    best = sorted(found.sentences, key=lambda s: -s.score)[: bot.settings.rerank]
    texts = [with_context(s, found.passages[s.passage]) for s in best]
    cosines = bot.selector.score(found.queries[-1], texts) if texts else np.zeros(1)
    named = bool(bot._unknown_reason(question, snapshot))
    return Scored(answerable, named, found.closeness(), float(cosines.max()))


def dev_items(bot: Bot, dataset) -> list[Scored]:
    out = []
    for item in load_dataset(dataset, "dev"):
        if item.kind in CORE_KINDS:
            out.append(score(bot, item.question, item.answerable, item.history or None))
    return out


def label_questions(bot: Bot) -> list[Scored]:
    from evals.selector.data import read_labels

    out = []
    for label in read_labels():
        if label.source == "corpus":
            out.append(score(bot, label.question, label.answerable))
    return out


def auc(positive: list[float], negative: list[float]) -> float:
    """The chance that an answerable question scores above an unanswerable one."""
    if not positive or not negative:
        return float("nan")
    pos, neg = np.array(positive)[:, None], np.array(negative)[None, :]
    return float((pos > neg).mean() + 0.5 * (pos == neg).mean())


def report(name: str, rows: list[Scored]) -> None:
    scored = [r for r in rows if not r.named]
    answerable = [r for r in rows if r.answerable]
    unanswerable = [r for r in rows if not r.answerable]
    print(
        f"\n{name}: {len(answerable)} answerable, {len(unanswerable)} unanswerable; the name "
        f"check declines {sum(r.named for r in unanswerable)} unanswerable and "
        f"{sum(r.named for r in answerable)} answerable"
    )
    for signal in ("closeness", "selector"):
        pos = [getattr(r, signal) for r in scored if r.answerable]
        neg = [getattr(r, signal) for r in scored if not r.answerable]
        print(f"  AUC after the name check, {signal}: {auc(pos, neg):.3f}")
    print("  closeness threshold: unanswerable declined / answerable declined")
    for t in THRESHOLDS:
        declined = [r.named or r.closeness < t for r in rows]
        un = np.mean([d for d, r in zip(declined, rows, strict=True) if not r.answerable] or [0])
        an = np.mean([d for d, r in zip(declined, rows, strict=True) if r.answerable] or [0])
        flag = "" if an <= MAX_DECLINED_ANSWERABLE else f"  (over {MAX_DECLINED_ANSWERABLE:.0%})"
        print(f"    {t:.2f}: {un:.3f} / {an:.3f}{flag}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.abstention", description=__doc__)
    parser.add_argument("--labels", action="store_true", help="also the labelled questions")
    args = parser.parse_args(argv)
    base = Settings.from_env()
    shipped = Bot(settings=base)
    if not shipped.status()["chunks"]:
        shipped.ingest()
    report("shipped corpus, dev items", dev_items(shipped, DEFAULT_DATASET))
    governance = _governance_bot(base)
    if governance is not None:
        report("governance-docs, dev items", dev_items(governance, GOVERNANCE_SET))
    if args.labels:
        report("labelled questions over the shipped corpus", label_questions(shipped))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

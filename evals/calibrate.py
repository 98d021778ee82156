"""Calibrate the groundedness threshold: when does a support score mean "supported"?

An answer sentence's support is the cosine (MiniLM) between the sentence and the best sentence
of the passage it cites. Extractive answers copy source sentences, so their support is ~1; the
threshold matters for paraphrasing LLM answers. We need examples of both classes written in the
way an answer is written:

- supported: each sentence of a reference answer (a person's paraphrase of its gold document)
  scored against the best sentence of the gold document's three best-matching passages;
- unsupported: the same sentence scored the same way against three documents not among its gold
  documents, drawn at random (seeded) — on-topic governance prose that does not state the claim.

The threshold is the score that best separates the two (highest balanced accuracy). Run on the
dev split only: ``python -m evals --calibrate``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot import Bot
from bot.text import sentence_spans
from bot.verification import FactIndex
from evals.dataset import Item


@dataclass
class Calibration:
    threshold: float
    balanced_accuracy: float
    true_positive_rate: float
    true_negative_rate: float
    positives: list[float]
    negatives: list[float]
    # The facts test (bot/verification.py) on the same supported sentences: how often it flags
    # one as it stands (false alarms), and how often once a number in it is changed.
    facts_false_alarms: float = 0.0
    facts_caught: float = 0.0
    facts_sentences: int = 0

    def describe(self) -> str:
        def q(values: Sequence[float]) -> str:
            p = np.percentile(values, [10, 25, 50, 75, 90])
            return " / ".join(f"{v:.2f}" for v in p)

        return (
            f"supported pairs   n={len(self.positives):4d}  p10/p25/p50/p75/p90 "
            f"{q(self.positives)}\n"
            f"unsupported pairs n={len(self.negatives):4d}  p10/p25/p50/p75/p90 "
            f"{q(self.negatives)}\n"
            f"threshold {self.threshold:.2f}: balanced accuracy {self.balanced_accuracy:.3f} "
            f"(supported kept {self.true_positive_rate:.3f}, unsupported rejected "
            f"{self.true_negative_rate:.3f})\n"
            f"facts test on {self.facts_sentences} supported sentences stating a number: "
            f"{self.facts_false_alarms:.3f} flagged as written, {self.facts_caught:.3f} flagged "
            "once a number is changed"
        )


def best_threshold(positives: Sequence[float], negatives: Sequence[float]) -> tuple[float, ...]:
    """(threshold, balanced accuracy, TPR, TNR) maximising balanced accuracy; scores >= the
    threshold count as supported. Ties go to the lower threshold, rounded to 2 decimals."""
    pos, neg = np.asarray(positives), np.asarray(negatives)
    best = (0.0, -1.0, 0.0, 0.0)
    for t in np.round(np.arange(0.0, 1.0001, 0.01), 2):
        tpr = float((pos >= t).mean())
        tnr = float((neg < t).mean())
        score = (tpr + tnr) / 2
        if score > best[1] + 1e-12:
            best = (float(t), score, tpr, tnr)
    return best


def calibrate(
    bot: Bot, items: Sequence[Item], seed: int = 0, negatives_per_sentence: int = 3
) -> Calibration:
    from bot.evidence import passage_sentences

    doc_ids = sorted(d.doc_id for d in bot.documents())
    rng = random.Random(seed)

    def scored(sentence: str, vector: np.ndarray, doc_id: str) -> tuple[float, list[str]] | None:
        """The support of ``sentence`` in ``doc_id``, and the passages it was read from."""
        passages = bot.search(sentence, filters={"doc_ids": [doc_id]}, k=3)
        texts = [s.text for s in passage_sentences(passages)]
        if not texts:
            return None
        return float((bot.vectors.vectors(texts) @ vector).max()), [p.chunk.text for p in passages]

    def support(sentence: str, vector: np.ndarray, doc_id: str) -> float | None:
        found = scored(sentence, vector, doc_id)
        return None if found is None else found[0]

    positives: list[float] = []
    negatives: list[float] = []
    stated: list[tuple[bool, bool]] = []  # (flagged as written, flagged once changed)
    for item in items:
        if not item.answerable or not item.reference_answer:
            continue
        gold = [g for g in item.gold_doc_ids if g in doc_ids]
        others = [d for d in doc_ids if d not in item.gold_doc_ids]
        if not gold or not others:
            continue
        text = item.reference_answer
        sentences = [text[s:e] for s, e in sentence_spans(text) if len(text[s:e].split()) >= 5]
        if not sentences:
            continue
        vectors = bot.embedder.embed_batch(sentences)
        for sentence, vector in zip(sentences, vectors, strict=True):
            found = [f for g in gold if (f := scored(sentence, vector, g)) is not None]
            if not found:
                continue
            positives.append(max(score for score, _ in found))
            gold_passages = [text for _, texts in found for text in texts]
            for other in rng.sample(others, min(negatives_per_sentence, len(others))):
                negative = support(sentence, vector, other)
                if negative is not None:
                    negatives.append(negative)
            changed = _change_a_number(sentence)
            if changed:
                facts = FactIndex(gold_passages)
                stated.append((bool(facts.missing(sentence)), bool(facts.missing(changed))))
    if not positives:
        raise ValueError("no answerable items with reference answers to calibrate on")
    threshold, accuracy, tpr, tnr = best_threshold(positives, negatives)
    alarms = float(np.mean([a for a, _ in stated])) if stated else 0.0
    caught = float(np.mean([c for _, c in stated])) if stated else 0.0
    return Calibration(
        threshold, accuracy, tpr, tnr, positives, negatives, alarms, caught, len(stated)
    )


def _change_a_number(sentence: str) -> str:
    """The sentence with its first number made different (2023 -> 2024, 28 -> 29); "" when it
    states none."""
    match = re.search(r"\b\d+\b", sentence)
    if not match:
        return ""
    return sentence[: match.start()] + str(int(match.group(0)) + 1) + sentence[match.end() :]

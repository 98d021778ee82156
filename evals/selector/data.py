"""The selector's training examples: labelled questions turned into scored candidate sentences.

A label names a document and quotes the sentences that answer (and some that do not). The
model sees sentences as Accord produces them at answer time, so each document is chunked and
split exactly as ingest and ``bot.evidence.passage_sentences`` do; a question's candidates are
every sentence of the chunks that hold one of its quotes, and a candidate is positive when it is
(part of) an answer quote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.chunking import get_chunker
from bot.evidence import Sentence, passage_sentences
from bot.records import Chunk, Passage
from bot.selector import pair_text
from bot.settings import Settings
from bot.sources import load

PROJECT = Path(__file__).resolve().parents[2]
LABELS = Path(__file__).resolve().parent / "labels"
SOURCES = {
    "training-docs": PROJECT.parent / "shared" / "training-docs",
    "corpus": PROJECT / "corpus",
    "governance-docs": PROJECT.parent / "shared" / "governance-docs",
}


@dataclass
class Label:
    id: str
    source: str
    doc_id: str
    question: str
    answerable: bool
    answers: list[str]
    negatives: list[str]


@dataclass
class Example:
    """One question with its candidate sentences, as the model reads them."""

    label: Label
    texts: list[str]  # pair_text of each candidate
    sentences: list[str]  # the plain sentence
    chunks: list[int]  # which chunk of the document each candidate came from
    positive: np.ndarray  # bool per candidate
    hard: np.ndarray  # bool per candidate: a labelled negative
    doc_chunks: list[Chunk] = field(default_factory=list)


def read_labels(folder: Path = LABELS) -> list[Label]:
    out = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                raw = json.loads(line)
                out.append(Label(**{k: raw[k] for k in Label.__dataclass_fields__}))
    return out


def squash(text: str) -> str:
    """The form quotes and sentences are compared in: no markup, spacing or case."""
    text = re.sub(r"[*_`]", "", text).replace("’", "'")
    return " ".join(text.lower().split())


def document_path(source: str, doc_id: str) -> Path:
    return SOURCES[source] / f"{doc_id}.md"


def chunk_documents(labels: Iterable[Label], settings: Settings) -> dict[str, list[Chunk]]:
    chunker = get_chunker(settings.chunker)
    out: dict[str, list[Chunk]] = {}
    for label in labels:
        if label.doc_id not in out:
            doc = load(str(document_path(label.source, label.doc_id)))
            for_doc = chunker(doc, settings.chunk_tokens, settings.chunk_overlap)
            out[label.doc_id] = for_doc
    return out


def _passages(chunks: Sequence[Chunk]) -> list[Passage]:
    return [Passage(chunk=c, score=0.0, rank=i + 1) for i, c in enumerate(chunks)]


def header(sentence: Sentence, chunk: Chunk) -> str:
    return chunk.headings[-1] if chunk.headings else chunk.title


def build_examples(labels: Sequence[Label], settings: Settings) -> tuple[list[Example], dict]:
    """Examples for every label whose quotes land on sentences Accord would show; the rest are
    counted (a quote that is a title line, say, never reaches the model at answer time)."""
    chunks = chunk_documents(labels, settings)
    split: dict[str, list[tuple[int, Sentence]]] = {}
    for doc_id, doc_chunks in chunks.items():
        sentences = passage_sentences(_passages(doc_chunks))
        split[doc_id] = [(s.passage, s) for s in sentences]
    squashed = {d: [squash(c.text) for c in cs] for d, cs in chunks.items()}
    examples, skipped = [], {"no chunk": 0, "no positive sentence": 0}
    for label in labels:
        quotes = [squash(q) for q in label.answers + label.negatives]
        holding = {
            i for i, text in enumerate(squashed[label.doc_id]) if any(q in text for q in quotes)
        }
        if not holding:
            skipped["no chunk"] += 1
            continue
        seen: dict[str, int] = {}
        texts, plain, where, positive, hard = [], [], [], [], []
        answers = [squash(q) for q in label.answers]
        negatives = [squash(q) for q in label.negatives]
        for index, sentence in split[label.doc_id]:
            if index not in holding:
                continue
            key = squash(sentence.text)
            if key in seen:
                continue
            seen[key] = len(texts)
            texts.append(pair_text(sentence.text, header(sentence, chunks[label.doc_id][index])))
            plain.append(sentence.text)
            where.append(index)
            positive.append(any(_covers(q, key) for q in answers))
            hard.append(any(_covers(q, key) for q in negatives) and not positive[-1])
        if label.answerable and not any(positive):
            skipped["no positive sentence"] += 1
            continue
        if not texts:
            skipped["no candidate sentence"] = skipped.get("no candidate sentence", 0) + 1
            continue
        examples.append(
            Example(
                label, texts, plain, where, np.array(positive), np.array(hard), chunks[label.doc_id]
            )
        )
    return examples, skipped


def _covers(quote: str, sentence: str) -> bool:
    """The sentence is the quote, lies inside it (a quote spanning two sentences, or a list
    item quoted with its marker), or holds it (a clause quoted from a longer sentence)."""
    if len(sentence) < 12:
        return False
    return sentence in quote or (len(quote) >= 20 and quote in sentence)


def held_out_documents(labels: Sequence[Label], share: float, seed: int) -> set[str]:
    """About ``share`` of each source's documents, drawn by ``seed``: the documents the
    comparison is scored on and no model of the comparison is trained on."""
    rng = np.random.default_rng(seed)
    out: set[str] = set()
    for source in sorted({lb.source for lb in labels}):
        docs = sorted({lb.doc_id for lb in labels if lb.source == source})
        count = max(1, round(share * len(docs)))
        out.update(rng.permutation(docs)[:count].tolist())
    return out


def eval_facts(dataset: Path) -> dict[str, list[str]]:
    """Key facts of an eval set's items (dev and test alike), by gold document."""
    out: dict[str, list[str]] = {}
    for line in dataset.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        for doc in item.get("gold_doc_ids", []):
            out.setdefault(doc, []).extend(squash(f) for f in item.get("must_include", []))
    return out


def drop_eval_overlap(examples: list[Example], facts: dict[str, list[str]]) -> tuple[list, int]:
    """Examples whose answer states a key fact of an eval item on the same document are left
    out, so training never teaches the answer to an eval question by accident: dev stays fit
    for calibrating, test for reporting."""
    kept, dropped = [], 0
    for ex in examples:
        wanted = facts.get(ex.label.doc_id, [])
        answer = " ".join(squash(s) for s, p in zip(ex.sentences, ex.positive, strict=True) if p)
        if wanted and any(f and f in answer for f in wanted):
            dropped += 1
            continue
        kept.append(ex)
    return kept, dropped

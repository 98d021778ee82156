"""Self-check of the reference Q&A sets: the items must be answerable from what they cite."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from evals.dataset import load_dataset

PROJECT = Path(__file__).resolve().parent.parent
DATASET = PROJECT / "evals" / "dataset.jsonl"
CORPUS = PROJECT / "corpus"
SMALL = PROJECT / "evals" / "governance-small.jsonl"
GOVERNANCE_DOCS = PROJECT.parent / "shared" / "governance-docs"

MINIMUM = {"single": 60, "multi": 15, "unanswerable": 15, "followup": 10}


@pytest.fixture(scope="module")
def raw() -> list[dict]:
    return [json.loads(line) for line in DATASET.read_text().splitlines() if line.strip()]


def _texts(folder: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8").lower() for p in folder.glob("*.md")}


def test_items_load_and_ids_are_unique(raw):
    items = load_dataset(DATASET)  # checks every item's shape, and unique ids
    assert len(items) == len(raw) >= 100
    assert len({r["id"] for r in raw}) == len(raw)


def test_kind_mix(raw):
    kinds = Counter(r["kind"] for r in raw)
    for kind, minimum in MINIMUM.items():
        assert kinds[kind] >= minimum, f"{kind}: {kinds[kind]} items, need {minimum}"


def test_every_item_has_a_split_and_test_is_about_a_third(raw):
    missing = [r["id"] for r in raw if r.get("split") not in ("dev", "test")]
    assert not missing, f"items without split dev|test: {missing}"
    share = sum(r["split"] == "test" for r in raw) / len(raw)
    assert 0.25 <= share <= 0.40, f"test split is {share:.0%} of the items"
    for kind in MINIMUM:
        splits = {r["split"] for r in raw if r["kind"] == kind}
        assert splits == {"dev", "test"}, f"{kind} items must appear in both splits"


def test_gold_documents_exist_in_the_corpus(raw):
    docs = _texts(CORPUS)
    missing = [(r["id"], g) for r in raw for g in r["gold_doc_ids"] if g not in docs]
    assert not missing, f"gold documents not in corpus/: {missing}"


def test_must_include_occurs_in_a_gold_document(raw):
    docs = _texts(CORPUS)
    absent = [
        (r["id"], fact)
        for r in raw
        for fact in r["must_include"]
        if not any(fact.lower() in docs.get(g, "") for g in r["gold_doc_ids"])
    ]
    assert not absent, f"must_include strings found in no gold document: {absent}"


def test_kinds_are_consistent(raw):
    for r in raw:
        if r["kind"] == "unanswerable":
            assert not r["gold_doc_ids"] and not r["must_include"], r["id"]
        else:
            assert r["gold_doc_ids"] and r["must_include"] and r["reference_answer"], r["id"]
        if r["kind"] == "multi":
            assert len(set(r["gold_doc_ids"])) >= 2, r["id"]
        if r["kind"] == "followup":
            roles = [t["role"] for t in r["history"]]
            assert "user" in roles, f"{r['id']}: a follow-up needs an earlier user turn"
        else:
            assert not r["history"], r["id"]


@pytest.mark.skipif(not GOVERNANCE_DOCS.is_dir(), reason="../shared/governance-docs is absent")
def test_governance_small_set_matches_its_documents():
    docs = _texts(GOVERNANCE_DOCS)
    items = load_dataset(SMALL)
    assert len(items) >= 15
    for item in items:
        for gold in item.gold_doc_ids:
            assert gold in docs, (item.id, gold)
        for fact in item.must_include:
            assert any(fact.lower() in docs[g] for g in item.gold_doc_ids), (item.id, fact)

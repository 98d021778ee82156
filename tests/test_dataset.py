"""Self-check of the reference Q&A sets: the items must be answerable from what they cite."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from evals.dataset import load_dataset
from evals.metrics import normalize

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


# --------------------------------------------------------------------------- governance.jsonl

GOVERNANCE = PROJECT / "evals" / "governance.jsonl"
GOVERNANCE_MINIMUM = {"single": 50, "multi": 12, "unanswerable": 12, "followup": 6}


@pytest.fixture(scope="module")
def governance_raw() -> list[dict]:
    return [json.loads(line) for line in GOVERNANCE.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def governance_docs() -> dict[str, str]:
    """Raw text of each document in ../shared/governance-docs (README.md is not a document)."""
    if not GOVERNANCE_DOCS.is_dir():
        pytest.skip("../shared/governance-docs is absent")
    return {
        p.stem: p.read_text(encoding="utf-8")
        for p in GOVERNANCE_DOCS.glob("*.md")
        if p.name != "README.md"
    }


def _flat(text: str) -> str:
    return " ".join(text.split()).lower()


def test_governance_items_load_with_evidence(governance_raw):
    items = load_dataset(GOVERNANCE)  # checks every item's shape, and unique ids
    assert len(items) == len(governance_raw) >= 80
    assert all(re.fullmatch(r"gv\d{3}", r["id"]) for r in governance_raw)
    by_id = {i.id: i for i in items}
    for r in governance_raw:
        assert by_id[r["id"]].evidence == r["evidence"], r["id"]


def test_governance_kind_mix_and_splits(governance_raw):
    kinds = Counter(r["kind"] for r in governance_raw)
    for kind, minimum in GOVERNANCE_MINIMUM.items():
        assert kinds[kind] >= minimum, f"{kind}: {kinds[kind]} items, need {minimum}"
        splits = Counter(r["split"] for r in governance_raw if r["kind"] == kind)
        assert set(splits) == {"dev", "test"}, f"{kind} items must appear in both splits"
        assert abs(splits["dev"] - splits["test"]) <= 1 + kinds[kind] // 10, (kind, splits)


def test_governance_kinds_are_consistent(governance_raw):
    for r in governance_raw:
        if r["kind"] == "unanswerable":
            assert not r["gold_doc_ids"] and not r["must_include"] and not r["evidence"], r["id"]
        else:
            assert r["gold_doc_ids"] and r["reference_answer"], r["id"]
            assert 1 <= len(r["must_include"]) <= 3, r["id"]
            assert len(r["evidence"]) >= 1, r["id"]
        if r["kind"] == "multi":
            assert len(set(r["gold_doc_ids"])) >= 2, r["id"]
        if r["kind"] == "followup":
            roles = [t["role"] for t in r["history"]]
            assert roles[:1] == ["user"] and "assistant" in roles, r["id"]
        else:
            assert not r["history"], r["id"]


def test_governance_reference_answers_state_their_facts(governance_raw):
    """A correct answer must state the must_include facts, so the reference answer does."""
    missing = [
        (r["id"], fact)
        for r in governance_raw
        for fact in r["must_include"]
        if f" {normalize(fact)} " not in f" {normalize(r['reference_answer'])} "
    ]
    assert not missing, f"reference answers lacking their must_include facts: {missing}"


def test_governance_gold_documents_exist(governance_raw, governance_docs):
    missing = [
        (r["id"], g) for r in governance_raw for g in r["gold_doc_ids"] if g not in governance_docs
    ]
    assert not missing, f"gold documents not in ../shared/governance-docs: {missing}"


def test_governance_facts_and_evidence_occur_in_a_gold_document(governance_raw, governance_docs):
    normalized = {doc: f" {normalize(text)} " for doc, text in governance_docs.items()}
    flat = {doc: _flat(text) for doc, text in governance_docs.items()}
    absent_facts, absent_quotes, uncited_docs = [], [], []
    for r in governance_raw:
        gold = [g for g in r["gold_doc_ids"] if g in governance_docs]
        for fact in r["must_include"]:
            needle = f" {normalize(fact)} "
            if not any(needle in normalized[g] for g in gold):
                absent_facts.append((r["id"], fact))
        for quote in r["evidence"]:
            if not any(_flat(quote) in flat[g] for g in gold):
                absent_quotes.append((r["id"], quote[:60]))
        if r["kind"] == "multi":
            for g in gold:
                if not any(_flat(quote) in flat[g] for quote in r["evidence"]):
                    uncited_docs.append((r["id"], g))
    assert not absent_facts, f"must_include facts found in no gold document: {absent_facts}"
    assert not absent_quotes, f"evidence quotes found verbatim in no gold document: {absent_quotes}"
    assert not uncited_docs, f"multi items lacking a quote from each gold doc: {uncited_docs}"

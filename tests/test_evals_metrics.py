"""The eval suite's pure parts: normalisation, metrics, scoring and aggregation, reports."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.records import Answer, Citation
from evals import metrics as M
from evals.calibrate import best_threshold
from evals.dataset import DatasetError, Item, load_dataset
from evals.report import compare, resolve_report
from evals.runner import score_item, summarize

# --------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    "a, b",
    [
        ("2 August 2025", "August 2, 2025"),
        ("2 August 2025", "2025-08-02"),
        ("2nd August 2025", "Aug. 2, 2025"),
        ("2 August 2025", "2 august, 2025"),
        ("1.5 million", "1 500 000"),
        ("1.5 million", "1,500,000"),
        ("1 500 000", "1500000"),
        ("2.3 billion", "2 300 000 000"),
        ("seven percent", "7%"),
        ("7 per cent", "7 %"),
        ("€35 million", "EUR 35 000 000"),
        ("€35 million", "35 million euros"),
        ("$400 million", "US$400 million"),
        ("10^26", "10²⁶"),
        ("10^26", "10<sup>26</sup>"),
        ("6–7 July 2026", "July 6-7, 2026"),
        ("15 to 17 June 2026", "15–17 June 2026"),
        ("forty-five members", "45 members"),
        ("eleven principles", "11 principles"),
        ("Évian-les-Bains", "Evian les Bains"),
        ("US-led", "US led"),
        ("A/RES/79/325", "a/res/79/325"),
    ],
)
def test_normalize_treats_forms_as_equal(a, b):
    assert M.normalize(a) == M.normalize(b)


@pytest.mark.parametrize(
    "text, fact",
    [
        ("The regulation entered into force on 1 August 2024 [1].", "August 1, 2024"),
        ("Rules apply from August 2, 2025.", "2 August 2025"),
        ("It was signed on 26 August 2025 in New York.", "August 2025"),
        ("It was signed on 26 August 2025 in New York.", "26 August"),
        ("It was signed on 26 August 2025 in New York.", "2025"),
        ("A fund of 1 500 000 dollars was set up.", "1.5 million"),
        ("Fines reach EUR 35 000 000 or 7 % of turnover.", "€35 million"),
        ("Fines reach EUR 35 000 000 or 7 % of turnover.", "7%"),
        ("The session ran on 6–7 July 2026 in Geneva.", "July 6-7, 2026"),
        ("**Eleven** guiding principles were published.", "11 guiding principles"),
    ],
)
def test_must_include_finds_normalised_facts(text, fact):
    assert M.must_include_found(text, [fact]) == [True]
    assert M.contains(text, fact)


@pytest.mark.parametrize(
    "text, fact",
    [
        ("The next meeting is in 20270 years.", "2027"),
        ("Metaverse firms declined to sign.", "Meta"),
        ("The session ran on 6 July 2026.", "6–7 July 2026"),
        ("It entered into force on 1 August 2024.", "2 August 2024"),
        ("Fines reach 35 million euros.", "$35 million"),
        ("A fund of 1.5 billion.", "1.5 million"),
    ],
)
def test_must_include_rejects_near_misses(text, fact):
    assert M.must_include_found(text, [fact]) == [False]


def test_must_include_reports_each_fact():
    text = "Japan launched the process in May 2023 [1]."
    assert M.must_include_found(text, ["Japan", "May 2023", "G20"]) == [True, True, False]


# --------------------------------------------------------------------------- retrieval

# Three rankings and the values ranx 0.3.21 computes for them (binary relevance).
RANX_CASES = [
    (["x", "a", "y"], ["a", "b"], {"recall@1": 0.0, "recall@3": 0.5, "recall@5": 0.5,
                                   "recall@10": 0.5, "mrr": 0.5, "ndcg@10": 0.38685281}),
    (["c", "z"], ["c"], {"recall@1": 1.0, "recall@3": 1.0, "recall@5": 1.0, "recall@10": 1.0,
                         "mrr": 1.0, "ndcg@10": 1.0}),
    (
        ["z", "y", "x", "c", "w", "v", "u", "t", "s", "a", "b"],
        ["a", "b", "c"],
        {"recall@1": 0.0, "recall@3": 0.0, "recall@5": 1 / 3, "recall@10": 2 / 3,
         "mrr": 0.25, "ndcg@10": 0.33775932},
    ),
]  # fmt: skip


@pytest.mark.parametrize("ranking, gold, expected", RANX_CASES)
def test_retrieval_scores_match_ranx(ranking, gold, expected):
    scores = M.retrieval_scores(ranking, gold)
    assert scores == pytest.approx(expected, abs=1e-7)


def test_dedupe_keeps_first_rank_of_each_document():
    assert M.dedupe(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_recall_needs_gold_documents():
    with pytest.raises(ValueError):
        M.recall_at(["a"], [], 5)


# --------------------------------------------------------------------------- answer text


def test_token_f1_ignores_markers_case_articles_and_number_forms():
    assert (
        M.token_f1(
            "The Act entered into force on 1 August 2024 [1].",
            "the act entered into force on August 1, 2024",
        )
        == 1.0
    )
    assert M.token_f1("Paris", "Geneva") == 0.0
    f1 = M.token_f1("Japan launched it", "Japan launched the process in 2023")
    assert f1 == pytest.approx(2 * (2 / 3) * (2 / 5) / (2 / 3 + 2 / 5))  # 'the' is dropped


def test_rouge_l_uses_rouge_score():
    assert M.rouge_l("Japan launched the process [2].", "Japan launched the process.") == 1.0
    assert 0 < M.rouge_l("Japan launched it in May", "In May 2023 Japan launched it") < 1


def test_strip_markers_and_claims():
    text = "- **Safety.** The UK set up an institute [1][2]. It grew [3, 4]."
    assert M.strip_markers(text) == "Safety. The UK set up an institute. It grew."
    assert M.claims("The UK set up an institute [1]. It grew [2].") == [
        "The UK set up an institute.",
        "It grew.",
    ]


# --------------------------------------------------------------------------- citations, stats


def test_citation_precision_and_recall():
    assert M.citation_precision(["a", "b", "a", "c"], ["a"]) == 0.5
    assert M.citation_precision([], ["a"]) is None
    assert M.citation_recall(["a", "c"], ["a", "b"]) == 0.5


def test_share_mean_ratio_percentile():
    assert M.share_at_least([0.9, 0.5, 0.61], 0.61) == pytest.approx(2 / 3)
    assert M.share_at_least([], 0.5) is None
    assert M.mean([1.0, None, 0.0]) == 0.5
    assert M.mean([None]) is None
    assert M.ratio(1, 0) is None
    values = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0]
    for q in (50, 95):
        assert M.percentile(values, q) == pytest.approx(np.percentile(values, q))
    assert M.percentile([], 50) is None


def test_best_threshold_separates_classes():
    threshold, accuracy, tpr, tnr = best_threshold([0.7, 0.8, 0.9], [0.2, 0.3, 0.65])
    assert 0.65 < threshold <= 0.7
    assert accuracy == 1.0 and tpr == 1.0 and tnr == 1.0


# --------------------------------------------------------------------------- scoring


def _citation(number: int, doc_id: str, score: float) -> Citation:
    return Citation(number, doc_id, "t", "", "", "", "q", 0, 1, score)


def _item(kind="single", gold=("eu",), facts=("1 August 2024",), id="x") -> Item:
    return Item(
        id=id,
        kind=kind,
        question="When?",
        reference_answer="On 1 August 2024.",
        gold_doc_ids=list(gold),
        must_include=list(facts),
    )


def test_score_item_answered():
    answer = Answer(
        "When?",
        "It entered into force on August 1, 2024 [1]. Fines are high [2].",
        [_citation(1, "eu", 1.0), _citation(2, "other", 0.4)],
        False,
        [],
        {"retrieve": 0.01, "answer": 0.002, "total": 0.012},
        "extractive",
        [1.0, 0.4],
    )
    row = score_item(_item(), ["other", "eu"], answer, 0.8, 0.6, "hybrid")
    m = row["metrics"]
    assert m["recall@1"] == 0 and m["recall@3"] == 1 and m["mrr"] == 0.5
    assert m["must_include"] == 1.0 and row["must_include_found"] == [True]
    assert m["citation_precision"] == 0.5 and m["citation_recall"] == 1.0
    assert m["citation_support"] == 0.5 and m["groundedness"] == 0.5
    assert m["semantic_similarity"] == 0.8
    assert row["quality"] == pytest.approx((1 + 1 + 0.8) / 3)
    json.dumps(row)  # items.jsonl rows are plain JSON


def test_score_item_abstained_answerable_scores_zero():
    answer = Answer("When?", "I will not guess.", [], True, [], {"retrieve": 0.01, "total": 0.02})
    m = score_item(_item(), ["eu"], answer, None, 0.6)["metrics"]
    assert m["recall@1"] == 1.0
    assert m["must_include"] == 0.0 and m["token_f1"] == 0.0 and m["semantic_similarity"] == 0.0
    assert m["citation_precision"] is None and m["citation_recall"] == 0.0
    assert m["groundedness"] is None


def test_summarize_abstention_and_kinds():
    unanswerable = _item("unanswerable", gold=(), facts=(), id="u")
    answered = Answer(
        "q",
        "Something [1].",
        [_citation(1, "eu", 0.9)],
        False,
        [],
        {"retrieve": 0.01, "total": 0.03},
        "extractive",
        [0.9],
    )
    declined = Answer("q", "No.", [], True, [], {"retrieve": 0.02, "total": 0.04})
    rows = [
        score_item(unanswerable, [], declined, None, 0.6),
        score_item(_item("unanswerable", (), (), "u2"), [], answered, None, 0.6),
        score_item(_item(id="a1"), ["eu"], answered, 0.5, 0.6),
        score_item(_item(id="a2"), ["eu"], declined, None, 0.6),
    ]
    s = summarize(rows)
    overall = s["overall"]
    assert overall["abstention_precision"] == 0.5  # declined u and a2
    assert overall["abstention_recall"] == 0.5 and overall["false_answer_rate"] == 0.5
    assert overall["over_abstention"] == 0.5
    assert overall["recall@5"] == 1.0 and overall["counts"]["recall@5"] == 2
    assert overall["must_include"] == 0.0  # a1 lacks the fact, a2 declined
    assert overall["retrieve_p50_ms"] == pytest.approx(15.0)
    assert set(s["by_kind"]) == {"single", "unanswerable"}
    assert s["by_kind"]["unanswerable"]["recall@5"] is None


# --------------------------------------------------------------------------- dataset, compare


def test_load_dataset_filters_split_and_checks_items(tmp_path):
    path = tmp_path / "d.jsonl"
    rows = [
        {"id": "1", "kind": "single", "question": "q", "gold_doc_ids": ["a"], "split": "dev"},
        {"id": "2", "kind": "unanswerable", "question": "q", "split": "test"},
        {"id": "3", "kind": "multi", "question": "q", "gold_doc_ids": ["a", "b"]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    assert [i.id for i in load_dataset(path, "dev")] == ["1", "3"]
    assert [i.id for i in load_dataset(path, "test")] == ["2", "3"]
    assert len(load_dataset(path, "all")) == 3
    path.write_text(json.dumps(rows[0]) + "\n" + json.dumps(rows[0]) + "\n")
    with pytest.raises(DatasetError, match="used twice"):
        load_dataset(path)
    path.write_text(json.dumps({"id": "x", "kind": "single", "question": "q"}) + "\n")
    with pytest.raises(DatasetError, match="needs gold_doc_ids"):
        load_dataset(path)
    path.write_text("{not json\n")
    with pytest.raises(DatasetError, match=":1 is not valid JSON"):
        load_dataset(path)
    with pytest.raises(DatasetError, match="no dataset"):
        load_dataset(tmp_path / "missing.jsonl")


def _report(path, recall, p50, top_k=5):
    block = {"items": 2, "recall@5": recall, "total_p50_ms": p50, "mrr": None}
    data = {
        "created": "now",
        "split": "dev",
        "items": 2,
        "item_ids": ["a", "b"],
        "configs": {"hybrid": {"settings": {"top_k": top_k}, "overall": block, "by_kind": {}}},
    }
    path.mkdir(parents=True)
    (path / "report.json").write_text(json.dumps(data))
    return path


def test_compare_prints_differences(tmp_path):
    a = _report(tmp_path / "20260101-000000-hybrid", 0.8, 30.0)
    b = _report(tmp_path / "20260102-000000-hybrid", 0.9, 20.0, top_k=8)
    text = compare(resolve_report("20260101", tmp_path), resolve_report(str(b), tmp_path))
    assert "Recall@5" in text and "+0.100 ▲" in text
    assert "-10.0 ▲" in text  # faster is better
    assert "top_k: 5 → 8" in text
    assert "MRR" not in text
    with pytest.raises(DatasetError, match="several runs"):
        resolve_report("2026", tmp_path)
    with pytest.raises(DatasetError, match="no report"):
        resolve_report("nothing-here", tmp_path)
    assert a.exists()


# --------------------------------------------------------------------------- configurations


def test_configs_map_to_settings():
    from bot import Settings
    from bot.errors import ConfigError
    from evals.configs import parse_configs, settings_for

    base = Settings(answer_mode="ollama", llm_model="llama3.2", retrieval="bm25")
    assert parse_configs("dense, hybrid,dense") == ["dense", "hybrid"]
    dense = settings_for("dense", base)
    assert (dense.retrieval, dense.answer_mode) == ("dense", "extractive")
    llm = settings_for("llm", base)
    assert (llm.retrieval, llm.answer_mode) == ("hybrid", "ollama")
    assert settings_for("llm", Settings(llm_model="m")).answer_mode == "openai"
    with pytest.raises(ConfigError, match="ACCORD_LLM_MODEL"):
        settings_for("llm", Settings())
    with pytest.raises(ConfigError, match="unknown config"):
        parse_configs("dense,best")

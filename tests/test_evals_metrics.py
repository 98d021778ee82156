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
    passages = ["Fines are high.", "The Act entered into force on 1 August 2024."] + ["x"] * 18
    row = score_item(_item(), ["other", "eu"], answer, 0.8, 0.6, "hybrid", passages)
    m = row["metrics"]
    assert m["recall@1"] == 0 and m["recall@3"] == 1 and m["mrr"] == 0.5
    assert m["must_include"] == 1.0 and row["must_include_found"] == [True]
    assert m["citation_precision"] == 0.5 and m["citation_recall"] == 1.0
    assert m["citation_support"] == 0.5 and m["groundedness"] == 0.5
    assert m["semantic_similarity"] == 0.8
    assert m["facts@5"] == 1.0 and m["facts@20"] == 1.0 and m["oracle3@10"] == 1.0
    assert m["gold_cited"] == 1.0 and m["all_gold_cited"] is None  # a single item
    assert m["readability_defects"] == 0.0 and row["readability"] == []
    assert row["words"] == 11 and row["evidence"] == 0.0
    assert row["quality"] == pytest.approx((1 + 1 + 0.8) / 3)
    json.dumps(row)  # items.jsonl rows are plain JSON


def test_score_item_multi_readability_and_missing_passages():
    item = _item("multi", gold=("eu", "g7"), facts=("Japan",))
    answer = Answer(
        "q",
        "Article 53 [1]. the Code applies [2].",
        [_citation(1, "eu", 1.0), _citation(2, "eu", 1.0)],
        False,
        [],
        {"total": 0.01},
        "extractive",
        [1.0, 1.0],
        0.7,
    )
    row = score_item(item, ["eu", "g7"], answer, None, 0.6)
    m = row["metrics"]
    assert m["all_gold_cited"] == 0.0 and m["gold_cited"] is None  # g7 is not cited
    assert m["facts@5"] is None and m["oracle3@5"] is None  # no passages given
    assert m["readability_defects"] == 1.0
    assert [d["kind"] for d in row["readability"]] == ["heading", "cut_start"]
    assert row["readability"][1]["sentence"] == "the Code applies."
    assert row["evidence"] == 0.7
    answer.citations.append(_citation(3, "g7", 1.0))
    assert score_item(item, [], answer, None, 0.6)["metrics"]["all_gold_cited"] == 1.0


def test_score_item_abstained_answerable_scores_zero():
    answer = Answer("When?", "I will not guess.", [], True, [], {"retrieve": 0.01, "total": 0.02})
    row = score_item(_item(), ["eu"], answer, None, 0.6, passages=["On 1 August 2024."])
    m = row["metrics"]
    assert m["recall@1"] == 1.0
    assert m["must_include"] == 0.0 and m["token_f1"] == 0.0 and m["semantic_similarity"] == 0.0
    assert m["citation_precision"] is None and m["citation_recall"] == 0.0
    assert m["groundedness"] is None
    assert m["gold_cited"] == 0.0  # declined: no gold document cited
    assert m["facts@5"] == 1.0  # retrieval had it; the answer did not
    assert m["readability_defects"] is None and row["words"] is None  # only answers are read


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
    declined = Answer("q", "No.", [], True, [], {"retrieve": 0.02, "total": 0.04}, evidence=0.4)
    answered.evidence = 0.8
    rows = [
        score_item(unanswerable, [], declined, None, 0.6),
        score_item(_item("unanswerable", (), (), "u2"), [], answered, None, 0.6),
        score_item(_item(id="a1"), ["eu"], answered, 0.5, 0.6),
        score_item(_item(id="a2"), ["eu"], declined, None, 0.6),
    ]
    assert "tradeoff" not in summarize(rows) and "abstention_tradeoff" not in summarize(rows)
    s = summarize(rows, abstain_threshold=0.6)
    overall = s["overall"]
    assert overall["abstention_precision"] == 0.5  # declined u and a2
    assert overall["abstention_recall"] == 0.5 and overall["false_answer_rate"] == 0.5
    assert overall["over_abstention"] == 0.5
    assert overall["recall@5"] == 1.0 and overall["counts"]["recall@5"] == 2
    assert overall["must_include"] == 0.0  # a1 lacks the fact, a2 declined
    assert overall["retrieve_p50_ms"] == pytest.approx(15.0)
    assert set(s["by_kind"]) == {"single", "unanswerable"}
    assert s["by_kind"]["unanswerable"]["recall@5"] is None
    assert overall["gold_cited"] == 0.5 and s["by_kind"]["single"]["gold_cited"] == 0.5
    assert overall["words_p50"] == 1.0  # "Something [1]." twice; declined answers not counted
    assert overall["readability_defects"] == 0.0

    tradeoff = s["abstention_tradeoff"]
    assert tradeoff["threshold"] == 0.6
    assert tradeoff["operating"] == {
        "threshold": 0.6, "declined_unanswerable": 0.5, "declined_answerable": 0.5,
    }  # fmt: skip
    assert tradeoff["hint"]["declined_answerable"] == 0.0
    assert tradeoff["hint"]["threshold"] < 0.4


def test_summarize_counts_answers_per_readability_defect():
    def row(text, id):
        answer = Answer("q", text, [_citation(1, "eu", 1.0)], False, [], {"total": 0.01})
        return score_item(_item(id=id), ["eu"], answer, None, 0.6)

    rows = [
        row("Article 53 [1]. CHAPTER V [1].", "h"),  # two headings: one answer
        row("the Office acts [1]. Considering that it matters [1].", "cp"),
        row("The Office acts on 1 August 2024 [1].", "ok"),
    ]
    overall = summarize(rows)["overall"]
    assert overall["readability_defects"] == pytest.approx(2 / 3)
    assert overall["readability_by_kind"] == {
        "heading": 1, "dangling_colon": 0, "cut_start": 1, "repeat": 0, "preamble": 1,
        "boilerplate": 0,
    }  # fmt: skip
    assert (overall["words_p50"], overall["words_p90"]) == (7.0, 7.0)  # 4, 7 and 7 words


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


# --------------------------------------------------------------------------- where facts are lost

FILLER = "The committee met in Geneva and discussed several unrelated matters at length."


def test_fact_scores_find_facts_by_passage_depth():
    passages = [FILLER] * 20
    passages[0] = "# Entry into force\n\nThe Act entered into force on 1 August 2024."
    passages[7] = "Fines reach EUR 35 000 000. The AI Office enforces them."
    passages[15] = "Or up to 7 % of worldwide annual turnover."
    facts = ["August 1, 2024", "€35 million", "7%", "Bletchley Park"]
    scores = M.fact_scores(passages, facts)
    assert scores["facts@5"] == 0.25
    assert scores["facts@10"] == 0.5
    assert scores["facts@20"] == 0.75
    assert scores["oracle3@5"] == 0.25
    assert scores["oracle3@10"] == 0.5
    assert M.fact_scores(passages, []) == {}


def test_oracle_needs_the_fact_inside_one_sentence():
    # Both facts are in the top passage, but in two sentences of a list: three picks cover
    # them; a fact split across a sentence boundary is in the passage yet in no sentence.
    passages = ["Members:\n- Japan chairs it.\n- Canada hosts it.", FILLER]
    scores = M.fact_scores(passages, ["Japan", "Canada", "chairs it. Canada"])
    assert scores["facts@5"] == 1.0
    assert scores["oracle3@5"] == pytest.approx(2 / 3)


def test_oracle_cover_is_greedy_and_limited_to_its_picks():
    hits = [
        [True, False, False, False],
        [True, True, False, False],
        [False, False, True, False],
        [False, False, False, True],
        [False, False, False, False],
    ]
    assert M.oracle_cover(hits, 4, picks=1) == [True, True, False, False]
    assert M.oracle_cover(hits, 4, picks=2) == [True, True, True, False]
    assert M.oracle_cover(hits, 4, picks=3) == [True, True, True, True]
    assert M.oracle_cover([], 2) == [False, False]


def test_text_sentences_cut_blocks_then_sentences():
    text = "# Title\n\nOne sentence here. Two sentences here.\n- item one\n- item two"
    assert M.text_sentences(text) == [
        "# Title", "One sentence here.", "Two sentences here.", "- item one", "- item two",
    ]  # fmt: skip


def test_fact_hits_use_normalised_containment():
    hits = M.fact_hits(["Signed on 2 August 2025.", "Nothing"], ["August 2, 2025", "2 August"])
    assert hits == [[True, True], [False, False]]


# --------------------------------------------------------------------------- readability


def _kinds(answer: str) -> list[str]:
    return [d.kind for d in M.readability_defects(answer)]


@pytest.mark.parametrize(
    "answer, kind",
    [
        ("Establishment and structure of the European Artificial Intelligence Board [3] "
         "The Board shall be composed of one representative per Member State [3].", "heading"),
        ("Article 53 [1]. Providers shall keep documentation [1].", "heading"),
        ("CHAPTER V [2] The AI Office monitors compliance [2].", "heading"),
        ("Article 5 Prohibited AI practices 1. The following practices shall be prohibited [2].",
         "heading"),
        ("GENERAL PROVISIONS The Convention applies to all activities [1].", "heading"),
        ("## Scope\nThe Convention applies to all activities [1].", "heading"),
        ("All providers of general-purpose AI models must, under Article 53: [2] "
         "The AI Office monitors them [1].", "dangling_colon"),
        ("Providers shall: [1]", "dangling_colon"),
        ("the Hiroshima Process International Code of Conduct for Organizations Developing "
         "Advanced AI Systems, which turns those principles into practice [1].", "cut_start"),
        ("The Act applies widely [1]. “and it entered into force in 2024 [2].", "cut_start"),
        ("(b) keep it up to date [1].", "cut_start"),
        ("The Board meets twice a year [1]. The Board meets twice a year [2].", "repeat"),
        ("The Board meets twice a year in Brussels [1]. The Board meets twice a year, in "
         "Brussels [2].", "repeat"),
        ("Considering that the aim of the Council of Europe is to achieve greater unity [1].",
         "preamble"),
        ("Recognising also that AI systems can be used to undermine human rights [1].",
         "preamble"),
        ("We, the Leaders of the Group of Seven (G7), stress the innovative opportunities [2].",
         "preamble"),
        ("Bearing in mind the Charter of the United Nations [1].", "preamble"),
        ("Council of Europe Treaty Series - No. 225 [1] The Convention opens for signature [1].",
         "boilerplate"),
        ("The resolution was adopted [1]. Distr.: General [1]", "boilerplate"),
        ("A/RES/78/265 [2] The Assembly adopted it without a vote [2].", "boilerplate"),
        ("The resolution was adopted by consensus [1]. 21 March 2024 [1]", "boilerplate"),
        ("97th plenary meeting 1 July 2024 [2] The Assembly adopted it [2].", "boilerplate"),
    ],
)  # fmt: skip
def test_readability_flags_each_defect(answer, kind):
    assert kind in _kinds(answer)


@pytest.mark.parametrize(
    "answer",
    [
        "The AI Act entered into force on 1 August 2024 [1]. Fines reach 7% of turnover [2].",
        "Article 5 of the AI Act prohibits social scoring [1].",
        "NIST AI RMF 1.0 was released in January 2023 [1].",
        "The G7 [1] and the OECD [2] agreed on common principles [3].",
        "Providers shall: (a) draw up documentation [1]; (b) keep it up to date [1].",
        "The obligations are:\n- draw up documentation [1]\n- keep it up to date [2]",
        "Recognition of the treaty grew quickly after 2024 [1].",
        "The Council of Europe Framework Convention (Council of Europe Treaty Series No. 225) "
        "opened for signature on 5 September 2024 [1].",
        "The Board meets twice a year [1]. The Office reports to the Commission every year [2].",
        "It was signed on 5 September 2024 in Vilnius [1].",
    ],
)
def test_readability_passes_clean_answers(answer):
    assert M.readability_defects(answer) == []


def test_readability_reports_the_offending_sentence_without_markers():
    (defect,) = M.readability_defects("Fines are high [1]. the Office collects them [2].")
    assert defect == M.Defect("cut_start", "the Office collects them.")


def test_word_count_strips_markers_and_markup():
    assert M.word_count("**Fines** reach 7% [1]. They apply [2, 3].") == 5
    assert M.word_count("") == 0


def test_gold_cited_and_all_gold_cited():
    assert M.gold_cited(["x", "a"], ["a"]) == 1.0
    assert M.gold_cited(["x"], ["a"]) == 0.0
    assert M.gold_cited([], ["a"]) == 0.0
    assert M.all_gold_cited(["a", "b", "x"], ["a", "b"]) == 1.0
    assert M.all_gold_cited(["a", "a"], ["a", "b"]) == 0.0
    with pytest.raises(ValueError):
        M.all_gold_cited(["a"], [])


# --------------------------------------------------------------------------- abstention trade-off


def test_abstention_tradeoff_sweeps_thresholds_and_keeps_other_declines():
    D = M.Decision
    decisions = [
        D(0.9, False, True),  # answered, strong evidence
        D(0.7, False, True),  # answered
        D(0.5, True, True),  # declined by the threshold (0.6)
        D(0.8, True, False),  # declined for another reason (unknown name): at every threshold
        D(0.65, False, False),  # answered although unanswerable
        D(0.4, True, False),  # declined by the threshold
        D(None, False, True),  # an error: left out
    ]
    points = M.abstention_tradeoff(decisions, current=0.6)
    by_t = {round(p.threshold, 3): p for p in points}
    assert sorted(by_t) == [0.39, 0.45, 0.575, 0.6, 0.675, 0.8, 0.91]
    assert by_t[0.39] == M.TradeoffPoint(0.39, 1 / 3, 0.0)  # only the unknown name
    assert by_t[0.6] == M.TradeoffPoint(0.6, 2 / 3, 1 / 3)  # the operating point
    assert by_t[0.675].declined_unanswerable == 1.0
    assert by_t[0.675].declined_answerable == 1 / 3
    assert by_t[0.91] == M.TradeoffPoint(pytest.approx(0.91), 1.0, 1.0)

    best = M.best_abstain_threshold(points, 0.05)
    assert best.threshold == pytest.approx(0.45)  # declines 2 of 3 unanswerable, no answerable
    assert (best.declined_unanswerable, best.declined_answerable) == (2 / 3, 0.0)
    assert M.best_abstain_threshold(points, 0.4).threshold == pytest.approx(0.675)


def test_abstention_tradeoff_needs_both_classes():
    only_answerable = [M.Decision(0.7, False, True), M.Decision(0.5, True, True)]
    assert M.abstention_tradeoff(only_answerable, 0.6) == []
    assert M.best_abstain_threshold([], 0.05) is None
    forced = [M.Decision(0.9, True, True), M.Decision(0.3, True, False)]
    points = M.abstention_tradeoff(forced, 0.6)  # the answerable one is always declined
    assert M.best_abstain_threshold(points, 0.05) is None


def test_the_report_names_the_threshold_the_run_declined_below():
    from evals.report import threshold_label

    settings = {"selector": True, "abstain_threshold": 0.58, "answer_threshold": 0.5}
    assert threshold_label(settings, 0.58) == "abstain_threshold 0.58"  # the bi-encoder ships
    assert threshold_label(settings, 0.5) == "answer_threshold 0.5"  # a cross-encoder's run


def test_abstention_auc_is_the_chance_an_answerable_question_scores_higher():
    from evals.abstention import auc

    assert auc([0.9, 0.8], [0.1]) == 1.0
    assert auc([0.1], [0.9, 0.8]) == 0.0
    assert auc([0.5, 0.9], [0.5]) == 0.75  # a tie counts half

"""``python -m evals`` end to end on the fixture corpus: reports, plots, items and --compare."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.__main__ import main

FIXTURES = Path(__file__).parent / "fixtures"
DATASET = FIXTURES / "evals-small.jsonl"
PNG = b"\x89PNG\r\n\x1a\n"


def _runs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if (p / "report.json").exists())


def test_runs_configs_side_by_side_and_compares(tmp_path, capsys, embedder):
    out = tmp_path / "runs"
    common = ["--corpus", str(FIXTURES / "corpus"), "--dataset", str(DATASET), "--out",
              str(out), "--quiet"]  # fmt: skip
    assert main(common + ["--config", "dense,bm25,hybrid", "--split", "all"]) == 0
    printed = capsys.readouterr().out
    assert "| Metric | dense | bm25 | hybrid |" in printed and "report:" in printed

    (first,) = _runs(out)
    assert first.name.endswith("-dense+bm25+hybrid")
    for name in ("report.md", "report.json", "items.jsonl", "metrics.png", "latency.png",
                 "by_kind.png"):  # fmt: skip
        assert (first / name).stat().st_size > 0, name
    for png in first.glob("*.png"):
        assert png.read_bytes()[:8] == PNG

    report = json.loads((first / "report.json").read_text())
    assert report["items"] == 6 and report["split"] == "all"
    assert report["items_by_kind"] == {"single": 3, "multi": 1, "unanswerable": 1, "followup": 1}
    assert list(report["configs"]) == ["dense", "bm25", "hybrid"]
    for name, config in report["configs"].items():
        assert config["settings"]["retrieval"] == name
        assert config["settings"]["answer_mode"] == "extractive"
        overall = config["overall"]
        for metric in ("recall@1", "recall@5", "recall@10", "mrr", "ndcg@10", "must_include",
                       "token_f1", "rouge_l", "semantic_similarity", "citation_precision",
                       "citation_recall", "groundedness", "abstention_recall",
                       "false_answer_rate", "retrieve_p50_ms", "total_p95_ms"):  # fmt: skip
            assert overall[metric] is not None, (name, metric)
        assert set(config["by_kind"]) == {"single", "multi", "unanswerable", "followup"}
        assert config["by_kind"]["unanswerable"]["recall@5"] is None
    hybrid = report["configs"]["hybrid"]["overall"]
    assert hybrid["recall@5"] == 1.0  # four documents: every gold one is in the top 5

    rows = [json.loads(line) for line in (first / "items.jsonl").read_text().splitlines()]
    assert len(rows) == 18 and {r["config"] for r in rows} == {"dense", "bm25", "hybrid"}
    t1 = next(r for r in rows if r["id"] == "t1" and r["config"] == "hybrid")
    assert t1["retrieved_doc_ids"][0] == "eu-ai-act"
    # the answer quotes "1 August 2024"; the fact is written "August 1, 2024"
    assert "1 August 2024" in t1["answer"] and t1["must_include_found"] == [True]
    assert t1["timings"]["total"] >= t1["timings"]["retrieve"] > 0

    md = (first / "report.md").read_text()
    assert "## Comparison (all items)" in md and "## `hybrid`" in md
    assert md.count("### The 10 worst items") == 3 and "- Expected:" in md
    assert "![metrics.png](metrics.png)" in md

    assert main(common + ["--config", "hybrid", "--split", "dev", "--limit", "2"]) == 0
    capsys.readouterr()
    first_run, second_run = _runs(out)
    second = json.loads((second_run / "report.json").read_text())
    assert second["items"] == 2 and second["item_ids"] == ["t1", "t2"]

    assert main(["--out", str(out), "--compare", first_run.name, str(second_run)]) == 0
    text = capsys.readouterr().out
    assert "[hybrid]" in text and "Recall@5" in text and "B − A" in text
    assert "different items" in text


def test_llm_config_needs_a_model(capsys):
    assert main(["--config", "hybrid,llm", "--dataset", str(DATASET)]) == 2
    err = capsys.readouterr().err
    assert "ACCORD_LLM_MODEL" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--config", "dense,nope"], "unknown config"),
        (["--set", "top_k=many"], "needs a number"),
        (["--set", "colour=blue"], "KEY=VALUE"),
        (["--dataset", "missing.jsonl"], "no dataset"),
        (["--compare", "a", "b"], "no report"),
    ],
)
def test_cli_errors_are_messages(args, message, capsys, tmp_path):
    assert main(args + ["--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err

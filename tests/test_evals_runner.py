"""``python -m evals`` end to end on the fixture corpus: reports, plots, items and --compare."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import Settings
from evals.__main__ import main, parse_overrides
from evals.runner import _config_run, index_key, own_index_dir

FIXTURES = Path(__file__).parent / "fixtures"
DATASET = FIXTURES / "evals-small.jsonl"
PNG = b"\x89PNG\r\n\x1a\n"


def _runs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if (p / "report.json").exists())


def test_runs_configs_side_by_side_and_compares(tmp_path, capsys, embedder, data_dir):
    out = tmp_path / "runs"
    common = ["--corpus", str(FIXTURES / "corpus"), "--dataset", str(DATASET), "--out",
              str(out), "--quiet"]  # fmt: skip
    configs = ["naive", "dense", "bm25", "hybrid"]
    assert main(common + ["--config", ",".join(configs), "--split", "all"]) == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "| Metric | naive | dense | bm25 | hybrid |" in printed and "report:" in printed
    assert "| facts@10: key facts in top 10 passages |" in printed
    assert "calibration hint `hybrid` (all split, tune on dev only)" in printed
    assert "naive: index" in captured.err and "4 added" in captured.err

    (first,) = _runs(out)
    assert first.name.endswith("-naive+dense+bm25+hybrid")
    for name in ("report.md", "report.json", "items.jsonl", "metrics.png", "latency.png",
                 "by_kind.png", "facts.png", "abstention.png"):  # fmt: skip
        assert (first / name).stat().st_size > 0, name
    for png in first.glob("*.png"):
        assert png.read_bytes()[:8] == PNG

    report = json.loads((first / "report.json").read_text())
    assert report["items"] == 6 and report["split"] == "all" and report["pool_k"] == 20
    assert report["items_by_kind"] == {"single": 3, "multi": 1, "unanswerable": 1, "followup": 1}
    assert list(report["configs"]) == configs
    for name, config in report["configs"].items():
        assert config["settings"]["retrieval"] == ("dense" if name == "naive" else name)
        assert config["settings"]["answer_mode"] == "extractive"
        overall = config["overall"]
        for metric in ("recall@1", "recall@5", "recall@10", "mrr", "ndcg@10", "must_include",
                       "facts@5", "facts@10", "facts@20", "oracle3@5", "oracle3@10",
                       "token_f1", "rouge_l", "semantic_similarity", "citation_precision",
                       "citation_recall", "gold_cited", "all_gold_cited", "groundedness",
                       "readability_defects", "abstention_recall", "false_answer_rate",
                       "words_p50", "words_p90", "retrieve_p50_ms", "total_p95_ms"):  # fmt: skip
            assert overall[metric] is not None, (name, metric)
        assert set(config["by_kind"]) == {"single", "multi", "unanswerable", "followup"}
        assert config["by_kind"]["unanswerable"]["recall@5"] is None
        assert config["by_kind"]["multi"]["gold_cited"] is None
        assert config["index"]["documents"] == 4
        tradeoff = config["abstention_tradeoff"]
        assert tradeoff["threshold"] == config["settings"]["abstain_threshold"]
        assert tradeoff["operating"]["declined_unanswerable"] == overall["abstention_recall"]
        assert tradeoff["operating"]["declined_answerable"] == overall["over_abstention"]
    hybrid = report["configs"]["hybrid"]["overall"]
    assert hybrid["recall@5"] == 1.0  # four documents: every gold one is in the top 5

    # naive reads its own index, built with LangChain's splitter from the same corpus
    naive, hybrid_config = report["configs"]["naive"], report["configs"]["hybrid"]
    assert naive["settings"]["chunker"] == "recursive" and naive["settings"]["top_k"] == 4
    assert naive["index"]["own"] and not hybrid_config["index"]["own"]
    naive_index = Path(naive["index"]["dir"])
    assert naive_index.parent.parent == data_dir / "evals" / "indexes"
    assert naive_index.parent.name.startswith("corpus-")
    assert naive_index != Path(hybrid_config["index"]["dir"])
    assert json.loads((naive_index / "settings.json").read_text())["chunker"] == "recursive"
    assert {c["index"]["dir"] for n, c in report["configs"].items() if n != "naive"} == {
        hybrid_config["index"]["dir"]
    }

    rows = [json.loads(line) for line in (first / "items.jsonl").read_text().splitlines()]
    assert len(rows) == 24 and {r["config"] for r in rows} == set(configs)
    t1 = next(r for r in rows if r["id"] == "t1" and r["config"] == "hybrid")
    assert t1["retrieved_doc_ids"][0] == "eu-ai-act"
    # the answer quotes "1 August 2024"; the fact is written "August 1, 2024"
    assert "1 August 2024" in t1["answer"] and t1["must_include_found"] == [True]
    assert t1["metrics"]["facts@5"] == 1.0 and t1["metrics"]["gold_cited"] == 1.0
    assert t1["words"] > 0 and t1["readability"] == [] and t1["evidence"] > 0
    assert t1["timings"]["total"] >= t1["timings"]["retrieve"] > 0

    md = (first / "report.md").read_text()
    assert "## Headline (all items)" in md and "### `naive`" in md and "### `hybrid`" in md
    assert "| Metric | naive | dense | bm25 | hybrid |" in md
    assert md.index("## Headline") < md.index("## By kind") < md.index("## Plots")
    assert md.index("## Plots") < md.index("## Worst items")
    assert md.count("### The 10 worst items") == 4 and "- Expected:" in md
    assert "## Readability" in md and "| any (share of answered answers) |" in md
    assert "## All metrics (all items)" in md
    for png in ("metrics.png", "facts.png", "abstention.png"):
        assert f"![{png}]({png})" in md

    # Again without a warm-up: the naive index is up to date and costs nothing.
    assert main(common + ["--config", "naive,hybrid", "--split", "dev", "--limit", "2",
                          "--no-warm"]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "0 added, 0 updated, 4 unchanged, 0 removed, 0 failed; 0 chunks written" in err
    first_run, second_run = _runs(out)
    second = json.loads((second_run / "report.json").read_text())
    assert second["items"] == 2 and second["item_ids"] == ["t1", "t2"]
    assert second["warm_up_seconds"] == 0
    assert second["configs"]["naive"]["index"]["dir"] == naive["index"]["dir"]

    assert main(["--out", str(out), "--compare", first_run.name, str(second_run)]) == 0
    text = capsys.readouterr().out
    assert "[hybrid]" in text and "Recall@5" in text and "B − A" in text
    assert "[naive]" in text and "facts@5" in text
    assert "different items" in text


def test_a_config_that_shapes_the_index_differently_gets_its_own(tmp_path):
    base = Settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "docs")
    root = tmp_path / "data" / "evals" / "indexes"
    for name in ("dense", "bm25", "hybrid"):
        config = _config_run(name, base, root)
        assert not config.own_index and config.settings.data_dir == base.data_dir
    naive = _config_run("naive", base, root)
    assert naive.own_index and naive.settings.chunker == "recursive"
    assert naive.settings.data_dir.parent == root
    assert naive.settings.data_dir.name.startswith("docs-")
    # the same corpus and settings find the same index; another corpus or chunking does not
    assert own_index_dir(root, base.corpus_dir, naive.settings) == naive.settings.data_dir
    other = Settings(data_dir=base.data_dir, corpus_dir=tmp_path / "elsewhere" / "docs")
    assert own_index_dir(root, other.corpus_dir, naive.settings) != naive.settings.data_dir
    bigger = naive.settings.with_(chunk_tokens=500)
    assert own_index_dir(root, base.corpus_dir, bigger) != naive.settings.data_dir


def test_index_key_tells_chunkers_apart():
    assert index_key(Settings(chunker="recursive")) != index_key(Settings(chunker="tokens"))
    assert index_key(Settings(retrieval="bm25", top_k=9)) == index_key(Settings())


def test_set_reads_yes_no_settings_as_booleans():
    assert parse_overrides(["selector=false", "check_names=yes"]) == {
        "selector": False,
        "check_names": True,
    }


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
        (["--set", "selector=maybe"], "true or false"),
        (["--dataset", "missing.jsonl"], "no dataset"),
        (["--compare", "a", "b"], "no report"),
    ],
)
def test_cli_errors_are_messages(args, message, capsys, tmp_path):
    assert main(args + ["--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err

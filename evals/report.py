"""Write a run's report.md, report.json, items.jsonl and plots; compare two saved reports."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from evals.dataset import KINDS, DatasetError
from evals.metrics import READABILITY_KINDS
from evals.runner import (
    ABSTENTION_METRICS,
    ANSWER_METRICS,
    CITATION_METRICS,
    FACT_METRICS,
    LATENCY_METRICS,
    LENGTH_METRICS,
    POOL_K,
    READABILITY_METRICS,
    RETRIEVAL_METRICS,
    SEARCH_K,
    RunResult,
)

LABELS = {
    "recall@1": "Recall@1",
    "recall@3": "Recall@3",
    "recall@5": "Recall@5",
    "recall@10": "Recall@10",
    "mrr": "MRR",
    "ndcg@10": "nDCG@10",
    "must_include": "Must-include recall",
    "first_fact": "First sentence states a key fact",
    "facts@5": "facts@5: key facts in top 5 passages",
    "facts@10": "facts@10: key facts in top 10 passages",
    "facts@20": "facts@20: key facts in top 20 passages",
    "oracle3@5": "oracle3@5: best 3 sentences of top 5",
    "oracle3@10": "oracle3@10: best 3 sentences of top 10",
    "token_f1": "Token F1",
    "rouge_l": "ROUGE-L",
    "semantic_similarity": "Semantic similarity",
    "citation_precision": "Citation precision (gold doc)",
    "citation_recall": "Citation recall",
    "gold_cited": "Gold doc cited (single)",
    "followup_cited": "Gold doc cited (follow-up)",
    "all_gold_cited": "All gold docs cited (multi)",
    "citation_support": "Citation precision (supports)",
    "groundedness": "Groundedness",
    "supported": "Sentences verified",
    "readability_defects": "Answers with readability defects",
    "abstention_precision": "Abstention precision",
    "abstention_recall": "Abstention recall",
    "false_answer_rate": "False-answer rate",
    "over_abstention": "Abstained on answerable",
    "words_p50": "Answer words p50",
    "words_p90": "Answer words p90",
    "retrieve_p50_ms": "Retrieval p50 (ms)",
    "retrieve_p95_ms": "Retrieval p95 (ms)",
    "total_p50_ms": "Answer p50 (ms)",
    "total_p95_ms": "Answer p95 (ms)",
}
TABLE_METRICS = (
    RETRIEVAL_METRICS
    + ANSWER_METRICS[:2]  # must-include recall, then where the missing facts were lost
    + FACT_METRICS
    + ANSWER_METRICS[2:]
    + CITATION_METRICS
    + READABILITY_METRICS
    + ABSTENTION_METRICS
    + LENGTH_METRICS
    + LATENCY_METRICS
)
HEADLINE_METRICS = [
    "recall@5", "must_include", "first_fact", *FACT_METRICS, "gold_cited", "followup_cited",
    "all_gold_cited", "groundedness", "supported", "abstention_recall", "over_abstention",
    "readability_defects", *LENGTH_METRICS, "total_p50_ms",
]  # fmt: skip
PLOT_METRICS = [
    "recall@5", "mrr", "ndcg@10", "must_include", "token_f1", "rouge_l", "semantic_similarity",
    "citation_precision", "citation_recall", "groundedness", "abstention_recall",
]  # fmt: skip
LOWER_IS_BETTER = {"false_answer_rate", "over_abstention", "readability_defects", *LATENCY_METRICS}
NOT_RANKED = set(LENGTH_METRICS)  # shorter is not better by itself: no bold for the best
FACT_TICKS = {
    "facts@20": "top 20\npassages",
    "facts@10": "top 10\npassages",
    "facts@5": "top 5\npassages",
    "oracle3@10": "best 3 sentences\nof top 10",
    "oracle3@5": "best 3 sentences\nof top 5",
    "must_include": "the answer\n(must-include)",
}
FACT_PLOT = list(FACT_TICKS)


def run_dir(out: Path, result: RunResult) -> Path:
    stamp = datetime.fromisoformat(result.started).strftime("%Y%m%d-%H%M%S")
    base = out / f"{stamp}-{'+'.join(result.names)}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def write(result: RunResult, out: Path) -> Path:
    """Write everything for one run into a new folder under ``out``; return that folder."""
    folder = run_dir(Path(out), result)
    folder.mkdir(parents=True)
    data = to_json(result)
    (folder / "report.json").write_text(
        json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    with (folder / "items.jsonl").open("w", encoding="utf-8") as fh:
        for config in result.configs:
            for row in config.rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    plots = plot(data, folder, latencies(result))
    (folder / "report.md").write_text(markdown(result, data, plots), encoding="utf-8")
    return folder


def to_json(result: RunResult) -> dict[str, Any]:
    kinds = Counter(i.kind for i in result.items)
    return {
        "format": "accord-eval/1",
        "created": result.started,
        "dataset": result.dataset,
        "split": result.split,
        "corpus": result.corpus,
        "items": len(result.items),
        "items_by_kind": {k: kinds[k] for k in KINDS if kinds[k]},
        "item_ids": [i.id for i in result.items],
        "search_k": SEARCH_K,
        "pool_k": POOL_K,
        "grounded_threshold": result.grounded_threshold,
        "warm_up_seconds": round(result.warm_up_seconds, 3),
        "torch_threads": result.threads,
        "seconds": round(result.seconds, 3),
        "configs": {
            c.name: {
                "settings": c.settings.to_dict(),
                "index": {
                    "dir": str(c.settings.index_dir),
                    "own": c.own_index,
                    "documents": c.documents,
                },
                "answer_seconds": round(c.seconds, 3),
                **_rounded(c.summary),
            }
            for c in result.configs
        },
    }


def _rounded(value):
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- markdown


def fmt(name: str, value: Any) -> str:
    if value is None:
        return "–"
    if name.endswith("_ms"):
        return f"{value:,.0f}"
    if name.startswith("words_"):
        return f"{value:.0f}"
    return f"{value:.3f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def headline_table(data: dict[str, Any]) -> str:
    """The figures the targets are set on, one column per configuration."""
    return comparison_table(data, metrics=HEADLINE_METRICS)


def comparison_table(
    data: dict[str, Any], block: str = "overall", metrics: list[str] | None = None
) -> str:
    names = list(data["configs"])
    rows = []
    for metric in metrics or TABLE_METRICS:
        values = [data["configs"][n][block].get(metric) for n in names]
        if all(v is None for v in values):
            continue
        cells = [fmt(metric, v) for v in values]
        best = _best(metric, values)
        if len(names) > 1 and best is not None:
            cells = [f"**{c}**" if values[i] == best else c for i, c in enumerate(cells)]
        rows.append([LABELS[metric]] + cells)
    return _table(["Metric"] + names, rows)


def _best(metric: str, values: list) -> float | None:
    if metric in NOT_RANKED:
        return None
    present = [v for v in values if v is not None]
    if len(present) < 2 or len(set(present)) == 1:
        return None
    return min(present) if metric in LOWER_IS_BETTER else max(present)


def config_table(config: dict[str, Any], metrics: list[str] | None = None) -> str:
    kinds = [k for k in KINDS if k in config["by_kind"]]
    header = ["Metric", f"overall (n={config['overall']['items']})"] + [
        f"{k} (n={config['by_kind'][k]['items']})" for k in kinds
    ]
    rows = []
    for metric in metrics or TABLE_METRICS:
        values = [config["overall"].get(metric)] + [config["by_kind"][k].get(metric) for k in kinds]
        if all(v is None for v in values):
            continue
        rows.append([LABELS[metric]] + [fmt(metric, v) for v in values])
    return _table(header, rows)


def index_warnings(data: dict[str, Any]) -> list[str]:
    """A line for each configuration whose own index holds a different number of documents
    than the run's index: its figures would then not compare like with like."""
    configs = data["configs"]
    shared = [c["index"]["documents"] for c in configs.values() if not c["index"]["own"]]
    out = []
    for name, config in configs.items():
        index = config["index"]
        if index["own"] and shared and index["documents"] != shared[0]:
            out.append(
                f"warning: `{name}` read its own index with {index['documents']} documents, "
                f"the run's index holds {shared[0]}: is the corpus folder all the run's index "
                "was built from?"
            )
    return out


def threshold_label(settings: dict[str, Any], used: float | None = None) -> str:
    """The abstention setting in force, as `name value`: the one whose value the run declined
    below (``used``, the trade-off's threshold), else the selector's answer_threshold when the
    selector was on, else the ranker's abstain_threshold (runs saved before the trade-off)."""
    for name in ("abstain_threshold", "answer_threshold"):
        if used is not None and settings.get(name) == used:
            return f"{name} {used}"
    if settings.get("selector"):
        return f"answer_threshold {settings.get('answer_threshold')}"
    return f"abstain_threshold {settings.get('abstain_threshold')}"


def calibration_hints(data: dict[str, Any]) -> list[str]:
    """Per configuration: the abstain threshold that declines most unanswerable items while
    declining at most the run's limit (5%) of the answerable ones, beside the current one."""
    out = []
    for name, config in data["configs"].items():
        tradeoff = config.get("abstention_tradeoff")
        if not tradeoff or not tradeoff["points"]:
            continue
        now, hint = tradeoff["operating"], tradeoff["hint"]
        limit = tradeoff["max_declined_answerable"]
        threshold_name = threshold_label(config.get("settings", {}), tradeoff["threshold"])
        threshold_name = threshold_name.split()[0]
        current = (
            f"now {tradeoff['threshold']:.3f}: {now['declined_unanswerable']:.3f} / "
            f"{now['declined_answerable']:.3f}"
            if now
            else f"now {tradeoff['threshold']:.3f}"
        )
        where = f"{data['split']} split" + ("" if data["split"] == "dev" else ", tune on dev only")
        if hint is None:
            out.append(
                f"calibration hint `{name}` ({where}): no abstain threshold keeps declined "
                f"answerable items ≤ {limit:.2f} ({current})"
            )
            continue
        out.append(
            f"calibration hint `{name}` ({where}): {threshold_name} {hint['threshold']:.3f} "
            f"declines {hint['declined_unanswerable']:.3f} of unanswerable and "
            f"{hint['declined_answerable']:.3f} of answerable items (limit {limit:.2f}; "
            f"{current})"
        )
    return out


def readability_table(data: dict[str, Any]) -> str:
    """Answers flagged per defect kind (an answer counts once per kind), per configuration."""
    names = list(data["configs"])
    rows = [
        [kind]
        + [str(data["configs"][n]["overall"]["readability_by_kind"].get(kind, 0)) for n in names]
        for kind in READABILITY_KINDS
    ]
    shares = [data["configs"][n]["overall"]["readability_defects"] for n in names]
    rows.append(["any (share of answered answers)"] + [fmt("", v) for v in shares])
    return _table(["Defect"] + names, rows)


def _flagged_md(rows: list[dict[str, Any]], limit: int = 40) -> str:
    flagged = [r for r in rows if r.get("readability")]
    if not flagged:
        return "No answer flagged."
    out = []
    for r in flagged[:limit]:
        defects = "; ".join(f"{d['kind']}: “{_clip(d['sentence'], 160)}”" for d in r["readability"])
        out.append(f"- **{r['id']}** ({r['kind']}) — {defects}")
    if len(flagged) > limit:
        out.append(f"- … {len(flagged) - limit} more in items.jsonl (field `readability`)")
    return "\n".join(out)


def _clip(text: str, limit: int = 400) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def worst(rows: list[dict[str, Any]], n: int = 10) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["quality"], r["id"]))[:n]


def _worst_md(rows: list[dict[str, Any]]) -> str:
    out = []
    for r in worst(rows):
        m = r["metrics"]
        facts = ", ".join(
            f"{f} {'✓' if ok else '✗'}"
            for f, ok in zip(
                r["must_include"],
                r["must_include_found"] or [False] * len(r["must_include"]),
                strict=True,
            )
        )
        got = (
            r["error"]
            and f"error: {r['error']}"
            or ("(abstained) " if r["abstained"] else "") + _clip(r["answer"])
        )
        lines = [
            f"**{r['id']}** ({r['kind']}, quality {r['quality']:.2f})",
            f"- Question: {_clip(r['question'], 300)}",
        ]
        if r["history"]:
            last = [t["content"] for t in r["history"] if t.get("role") == "user"][-1:]
            if last:
                lines.append(f"- Earlier question: {_clip(last[0], 200)}")
        lines.append(
            f"- Expected: {_clip(r['reference_answer'], 300) or '–'}"
            + (f" — must include: {facts}" if facts else "")
        )
        lines.append(f"- Got: {got}")
        if r["gold_doc_ids"]:
            lines.append(
                f"- Gold: {', '.join(r['gold_doc_ids'])}; retrieved: "
                f"{', '.join(r['retrieved_doc_ids'][:5]) or '–'}; cited: "
                f"{', '.join(dict.fromkeys(r['cited_doc_ids'])) or '–'}; recall@5 "
                f"{fmt('', m['recall@5'])}"
            )
        if m.get("facts@5") is not None:
            lines.append(
                "- Key facts in the top 5/10/20 passages: "
                + "/".join(fmt("", m[f"facts@{k}"]) for k in (5, 10, 20))
                + "; in their best 3 sentences (top 5/10): "
                + "/".join(fmt("", m[f"oracle3@{k}"]) for k in (5, 10))
            )
        if r.get("readability"):
            kinds = ", ".join(dict.fromkeys(d["kind"] for d in r["readability"]))
            lines.append(f"- Readability: {kinds}")
        out.append("\n".join(lines))
    return "\n\n".join(out)


def markdown(result: RunResult, data: dict[str, Any], plots: list[str]) -> str:
    kinds = ", ".join(f"{n} {k}" for k, n in data["items_by_kind"].items())
    indexes = "; ".join(
        f"`{n}` {'its own' if c['index']['own'] else 'the run’s'} (`{c['index']['dir']}`, "
        f"{c['index']['documents']} documents)"
        for n, c in data["configs"].items()
    )
    parts = [
        f"# Accord evaluation — {data['created']}",
        "",
        f"- Dataset: `{data['dataset']}`, split **{data['split']}**: {data['items']} items "
        f"({kinds})",
        f"- Corpus: `{data['corpus']}`",
        f"- Configurations: {', '.join(f'`{n}`' for n in data['configs'])}",
        f"- Indexes: {indexes}",
        f"- Ranking metrics over the documents of the top {data['search_k']} passages; key facts "
        f"looked for in the top {data.get('pool_k', 20)}; groundedness threshold "
        f"{data['grounded_threshold']:.2f}",
        f"- Run time {data['seconds']:.1f} s (warm-up {data['warm_up_seconds']:.1f} s; latencies "
        + (
            "are measured with the sentence-vector cache warm"
            if data["warm_up_seconds"]
            else "include the cold sentence-vector cache (no warm-up)"
        )
        + f", {data.get('torch_threads')} torch thread(s))",
        "",
        "## Headline (all items)",
        "",
        headline_table(data),
    ]
    notes = index_warnings(data) + calibration_hints(data)
    if notes:
        parts += [""] + [f"- {line}" for line in notes]
    parts += ["", "## By kind"]
    for config in result.configs:
        block = data["configs"][config.name]
        s = block["settings"]
        used = (block.get("abstention_tradeoff") or {}).get("threshold")
        parts += [
            "",
            f"### `{config.name}`",
            "",
            f"retrieval `{s['retrieval']}`, chunker `{s.get('chunker', 'tokens')}`, answers "
            f"`{s['answer_mode']}`"
            + (f" (`{s['llm_model']}`)" if s["answer_mode"] != "extractive" else "")
            + f", top_k {s['top_k']}, {threshold_label(s, used)}, "
            f"{block['answer_seconds']:.1f} s for {block['overall']['items']} answers",
            "",
            config_table(block, HEADLINE_METRICS),
        ]
    if plots:
        parts += ["", "## Plots", ""] + [f"![{p}]({p})" for p in plots]
    parts += [
        "",
        "## Readability",
        "",
        "Answers (not declined) flagged by the readability check, per defect kind:",
        "",
        readability_table(data),
    ]
    for config in result.configs:
        parts += ["", f"### Flagged answers (`{config.name}`)", "", _flagged_md(config.rows)]
    parts += ["", "## Worst items"]
    for config in result.configs:
        parts += [
            "",
            f"### The 10 worst items (`{config.name}`)",
            "",
            _worst_md(config.rows),
        ]
    parts += ["", "## All metrics (all items)", "", comparison_table(data)]
    parts += ["", "## What the metrics mean", "", METRIC_NOTES]
    return "\n".join(parts) + "\n"


METRIC_NOTES = """\
- **Recall@k**: share of an item's gold documents among the first k distinct documents retrieved.
- **MRR**: 1 / rank of the first gold document (0 when none is retrieved).
- **nDCG@10**: rank-discounted gain of the gold documents in the top 10, over the ideal ordering.
- **Must-include recall**: share of the item's key facts found in the answer, after normalising
  case, accents, numbers ("1.5 million" = "1 500 000") and dates ("2 August 2025" =
  "August 2, 2025").
- **Where a fact is lost**: **facts@k** is the share of key facts found (the same way) in the
  text of the top k passages retrieved (k = 5, 10, 20); **oracle3@k** the share that the best
  3 sentences of the top k passages would carry, chosen with hindsight (greedy: the sentence
  stating most facts not yet covered, three times). facts@k low: retrieval loses the fact;
  oracle3@k high but must-include low: the composer picks the wrong sentences.
- **Token F1 / ROUGE-L**: word overlap (SQuAD-style F1) and longest-common-subsequence F-measure
  (`rouge-score`, stemmed) between the answer and the reference answer.
- **Semantic similarity**: cosine of the MiniLM embeddings of the answer and the reference.
- **Citation precision (gold doc)**: share of citations pointing into a gold document;
  **(supports)**: share of citations whose quoted sentence supports the citing sentence (support ≥
  the groundedness threshold). **Citation recall**: share of gold documents cited.
  **Gold doc cited (single)**: share of single-document items whose answer cites the gold
  document; **All gold docs cited (multi)**: share of multi-document items citing every one.
- **Groundedness**: share of answer sentences whose support (cosine to the best sentence of the
  passage they cite) reaches the calibrated threshold.
- **Abstention precision / recall**: of the questions the bot declined, the share that were
  unanswerable; of the unanswerable questions, the share it declined. **False-answer rate**:
  unanswerable questions it answered anyway. **Abstained on answerable**: answerable questions
  it declined.
- Answer metrics skip unanswerable items; an answerable item the bot declined scores 0 on them.
- **Readability defects**: share of answered (not declined) answers with at least one of: a
  heading as a sentence, a fragment ending in ":" without its list, a sentence cut from its
  beginning (lower-case first letter), a repeated sentence (same text or word-set Jaccard ≥ 0.9),
  a preambular clause ("Recognizing…", "We, the Leaders…"), a boilerplate line (series number,
  "Distr.: General", a document symbol or date alone).
- **Answer words**: median and 90th percentile of the words of answered answers, markers
  stripped.
- **Abstention trade-off**: for thresholds swept over the observed evidence scores, the share of
  unanswerable items declined against the share of answerable items declined; an item declined
  for another reason (an unknown name) counts as declined at every threshold. The calibration
  hint is the threshold declining most unanswerable items with at most 5% of answerable ones
  declined; tune it on the dev split.
- **Latency**: p50/p95 of retrieval and of the whole `Bot.ask` call.
"""


# --------------------------------------------------------------------------- plots


def latencies(result: RunResult) -> dict[str, dict[str, list[float]]]:
    """Per configuration, the retrieval and whole-answer times of every item, in ms."""
    return {
        c.name: {
            stage: [r["timings"][stage] * 1000 for r in c.rows if stage in r["timings"]]
            for stage in ("retrieve", "total")
        }
        for c in result.configs
    }


def plot(
    data: dict[str, Any], folder: Path, timings: dict[str, dict[str, list[float]]]
) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(data["configs"])
    written = []

    metrics = [
        m
        for m in PLOT_METRICS
        if any(data["configs"][n]["overall"].get(m) is not None for n in names)
    ]
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(metrics)), 4.5))
    width = 0.8 / len(names)
    x = np.arange(len(metrics))
    for i, name in enumerate(names):
        values = [data["configs"][name]["overall"].get(m) or 0.0 for m in metrics]
        ax.bar(x + (i - (len(names) - 1) / 2) * width, values, width, label=name)
    ax.set_xticks(
        x, [LABELS[m].replace(" (gold doc)", "") for m in metrics], rotation=30, ha="right"
    )
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score (all items)")
    ax.set_title(f"Accord metrics by configuration — {data['split']} split, {data['items']} items")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(folder / "metrics.png", dpi=110)
    plt.close(fig)
    written.append("metrics.png")

    present = [k for k in KINDS if any(k in data["configs"][n]["by_kind"] for n in names)]
    kinds = [k for k in present if k != "unanswerable"]
    panels = [("recall@5", kinds), ("must_include", kinds)]
    if "unanswerable" in present:
        panels.append(("abstention_recall", ["unanswerable"]))
    fig, axes = plt.subplots(
        1, len(panels), figsize=(4.2 * len(panels), 4.2), sharey=True,
        gridspec_kw={"width_ratios": [max(len(k), 1) for _, k in panels]},
    )  # fmt: skip
    for ax, (metric, columns) in zip(np.atleast_1d(axes), panels, strict=True):
        for i, name in enumerate(names):
            by_kind = data["configs"][name]["by_kind"]
            values = [(by_kind.get(k) or {}).get(metric) or 0.0 for k in columns]
            offset = (i - (len(names) - 1) / 2) * width
            ax.bar(np.arange(len(columns)) + offset, values, width, label=name)
        ax.set_xticks(np.arange(len(columns)), columns)
        ax.set_title(LABELS[metric] + (" by kind" if metric != "abstention_recall" else ""))
        ax.set_ylim(0, 1.05)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = np.atleast_1d(axes)[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(names), frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    fig.savefig(folder / "by_kind.png", dpi=110)
    plt.close(fig)
    written.append("by_kind.png")

    facts = [
        m for m in FACT_PLOT if any(data["configs"][n]["overall"].get(m) is not None for n in names)
    ]
    if len(facts) > 1:
        fig, ax = plt.subplots(figsize=(max(8, 1.6 * len(facts)), 4.4))
        x = np.arange(len(facts))
        for i, name in enumerate(names):
            values = [data["configs"][name]["overall"].get(m) or 0.0 for m in facts]
            bars = ax.bar(x + (i - (len(names) - 1) / 2) * width, values, width, label=name)
            ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
        ax.set_xticks(x, [FACT_TICKS[m] for m in facts], fontsize=9)
        ax.set_ylim(0, 1.1)
        ax.set_ylabel("share of key facts (answerable items)")
        ax.set_title("Where key facts are lost: retrieved passages → best 3 sentences → answer")
        ax.legend()
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        fig.savefig(folder / "facts.png", dpi=110)
        plt.close(fig)
        written.append("facts.png")

    curves = {
        n: data["configs"][n].get("abstention_tradeoff")
        for n in names
        if (data["configs"][n].get("abstention_tradeoff") or {}).get("points")
    }
    if curves:
        fig, ax = plt.subplots(figsize=(6.2, 5))
        for i, (name, tradeoff) in enumerate(curves.items()):
            color = f"C{i}"
            xs = [p["declined_answerable"] for p in tradeoff["points"]]
            ys = [p["declined_unanswerable"] for p in tradeoff["points"]]
            ax.plot(xs, ys, drawstyle="steps-post", color=color, label=name, alpha=0.85)
            now = tradeoff["operating"]
            if now:
                ax.plot(
                    now["declined_answerable"], now["declined_unanswerable"], "o", color=color,
                    markersize=8, label=f"{name}: now ({tradeoff['threshold']:.2f})",
                )  # fmt: skip
            hint = tradeoff["hint"]
            if hint:
                ax.plot(
                    hint["declined_answerable"], hint["declined_unanswerable"], "x", color=color,
                    markersize=9, mew=2, label=f"{name}: hint ({hint['threshold']:.3f})",
                )  # fmt: skip
        limit = next(iter(curves.values()))["max_declined_answerable"]
        ax.axvline(limit, color="grey", linestyle=":", linewidth=1)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.05)
        ax.set_xlabel("answerable items declined (lower is better)")
        ax.set_ylabel("unanswerable items declined (higher is better)")
        ax.set_title(f"Abstention trade-off over the evidence threshold — {data['split']} split")
        ax.legend(fontsize=8, loc="lower right")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(folder / "abstention.png", dpi=110)
        plt.close(fig)
        written.append("abstention.png")

    if timings:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for ax, stage, title in zip(
            axes, ("retrieve", "total"), ("retrieval", "whole answer"), strict=True
        ):
            series = [timings[n][stage] or [0.0] for n in names]
            ax.boxplot(series, tick_labels=names, showfliers=True)
            for i, values in enumerate(series, start=1):
                ax.scatter(
                    np.full(len(values), i)
                    + np.random.default_rng(i).uniform(-0.12, 0.12, len(values)),
                    values,
                    s=6,
                    alpha=0.4,
                )
            ax.set_title(f"Latency of {title} (ms)")
            flat = [v for values in series for v in values if v > 0]
            if flat and max(flat) / min(flat) > 20:  # an LLM next to extractive answers
                ax.set_yscale("log")
            else:
                ax.set_ylim(bottom=0)
            ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        fig.savefig(folder / "latency.png", dpi=110)
        plt.close(fig)
        written.append("latency.png")
    return written


# --------------------------------------------------------------------------- compare


def resolve_report(ref: str, out: Path) -> Path:
    """A report.json path, a run folder, or a run folder's name (or unique prefix) in ``out``."""
    candidates = [Path(ref), Path(out) / ref]
    for path in candidates:
        if path.is_file():
            return path
        if (path / "report.json").is_file():
            return path / "report.json"
    matches = sorted(Path(out).glob(f"{ref}*/report.json")) if Path(out).is_dir() else []
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        names = ", ".join(m.parent.name for m in matches)
        raise DatasetError(f"{ref!r} matches several runs in {out}: {names}")
    raise DatasetError(f"no report at {ref!r} (nor in {out}); pass a report.json or run folder")


def load_report(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or "configs" not in data:
        raise DatasetError(f"{path} is not an Accord evaluation report")
    return data


def compare(a_path: Path, b_path: Path) -> str:
    """A text table of every metric of A and B with B − A, per shared configuration."""
    a, b = load_report(a_path), load_report(b_path)
    lines = [
        f"A: {a_path}  ({a.get('created')}, split {a.get('split')}, {a.get('items')} items)",
        f"B: {b_path}  ({b.get('created')}, split {b.get('split')}, {b.get('items')} items)",
    ]
    if a.get("item_ids") != b.get("item_ids"):
        lines.append("note: the two runs scored different items; differences mix both effects")
    pairs = [(n, n) for n in a["configs"] if n in b["configs"]]
    if not pairs and len(a["configs"]) == 1 and len(b["configs"]) == 1:
        pairs = [(next(iter(a["configs"])), next(iter(b["configs"])))]
    if not pairs:
        raise DatasetError(
            f"the reports share no configuration (A: {', '.join(a['configs'])}; "
            f"B: {', '.join(b['configs'])})"
        )
    for name_a, name_b in pairs:
        ca, cb = a["configs"][name_a]["overall"], b["configs"][name_b]["overall"]
        title = name_a if name_a == name_b else f"{name_a} → {name_b}"
        rows = []
        for metric in TABLE_METRICS:
            va, vb = ca.get(metric), cb.get(metric)
            if va is None and vb is None:
                continue
            delta = "" if va is None or vb is None else _delta(metric, vb - va)
            rows.append((LABELS[metric], fmt(metric, va), fmt(metric, vb), delta))
        width = max(len(r[0]) for r in rows)
        lines += ["", f"[{title}]", f"{'metric':<{width}}  {'A':>9}  {'B':>9}  {'B − A':>10}"]
        lines += [f"{r[0]:<{width}}  {r[1]:>9}  {r[2]:>9}  {r[3]:>10}" for r in rows]
        changed = _settings_diff(
            a["configs"][name_a].get("settings", {}), b["configs"][name_b].get("settings", {})
        )
        if changed:
            lines.append("settings changed: " + "; ".join(changed))
    return "\n".join(lines)


def _delta(metric: str, diff: float) -> str:
    if metric.endswith("_ms"):
        text = f"{diff:+,.1f}"
    elif metric.startswith("words_"):
        text = f"{diff:+.0f}"
    else:
        text = f"{diff:+.3f}"
    if abs(diff) < 1e-9 or metric in NOT_RANKED:
        return text
    better = diff < 0 if metric in LOWER_IS_BETTER else diff > 0
    return text + (" ▲" if better else " ▼")


def _settings_diff(a: dict, b: dict) -> list[str]:
    ignore = {"data_dir", "corpus_dir"}
    return [
        f"{k}: {a.get(k)!r} → {b.get(k)!r}"
        for k in sorted(set(a) | set(b))
        if k not in ignore and a.get(k) != b.get(k)
    ]

"""python -m evals: score Accord against reference answers, or compare two saved runs."""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from dataclasses import fields
from pathlib import Path

from bot import AccordError, Bot, Settings
from bot.errors import ConfigError
from bot.settings import yes_no
from evals import report
from evals.configs import CONFIGS, DEFAULT_CONFIG, parse_configs, settings_for
from evals.dataset import DEFAULT_DATASET, load_dataset
from evals.runner import GROUNDED_THRESHOLD, index_key, run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m evals",
        description="Score Accord's retrieval, answers, citations and abstention against a "
        "reference Q&A set, side by side for several configurations.",
    )
    parser.add_argument(
        "--dataset",
        default=str(DEFAULT_DATASET),
        help="JSONL reference set (default: evals/dataset.jsonl)",
    )
    parser.add_argument(
        "--corpus",
        help="ingest this folder (or file) into a separate index under <data>/evals/indexes/ "
        "and evaluate against it; later runs on the same path re-ingest only what changed",
    )
    parser.add_argument(
        "--split",
        choices=("dev", "test", "all"),
        default="dev",
        help="which items to run (default dev: tune on dev, look at test only to report; items "
        "without a split field belong to every split)",
    )
    parser.add_argument(
        "--config",
        default=DEFAULT_CONFIG,
        help=f"comma-separated configurations to run on the same questions: "
        f"{', '.join(CONFIGS)} (default {DEFAULT_CONFIG}; llm needs ACCORD_LLM_MODEL)",
    )
    parser.add_argument("--limit", type=int, help="only the first N items (quick runs)")
    parser.add_argument("--out", help="where run folders go (default <data>/evals)")
    parser.add_argument(
        "--compare",
        nargs=2,
        metavar=("A", "B"),
        help="print B − A for two saved runs (report.json, run folder, or a "
        "run folder name in --out) and exit",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting for every configuration, e.g. --set top_k=8",
    )
    parser.add_argument(
        "--grounded-threshold",
        type=float,
        default=GROUNDED_THRESHOLD,
        help=f"support needed for a sentence to count as grounded "
        f"(default {GROUNDED_THRESHOLD}, calibrated with --calibrate)",
    )
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="measure the groundedness threshold on the chosen split and exit",
    )
    parser.add_argument(
        "--no-ingest",
        action="store_true",
        help="use the existing index as it is (default: bring it up to date "
        "with corpus/ first, which is cheap when nothing changed)",
    )
    parser.add_argument(
        "--warm",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="ask every question once, untimed, before the timed pass, so latencies are those "
        "of a running server (default on; --no-warm halves the run time, and latencies then "
        "include embedding the retrieved sentences the first time they are seen)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def parse_overrides(pairs: list[str]) -> dict[str, object]:
    types = {f.name: str(f.type) for f in fields(Settings)}
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in types:
            raise ConfigError(
                f"--set {pair!r}: use KEY=VALUE with a setting name ({', '.join(sorted(types))})"
            )
        if types[key] == "bool":  # bool("false") is True: read it as the environment is read
            try:
                out[key] = yes_no(value)
            except ValueError:
                raise ConfigError(f"--set {pair!r}: {key} needs true or false") from None
            continue
        try:
            out[key] = {"int": int, "float": float}.get(types[key], str)(value)
        except ValueError:
            raise ConfigError(f"--set {pair!r}: {key} needs a number") from None
    return out


def prepare_index(base: Settings, args) -> tuple[Settings, str]:
    """The settings pointing at the index to evaluate, ingested as needed; and the corpus."""
    if args.corpus:
        corpus = Path(args.corpus).expanduser().resolve()
        if not corpus.exists():
            raise AccordError(f"--corpus {args.corpus}: no such file or folder")
        digest = hashlib.sha1(str(corpus).encode()).hexdigest()[:8]
        index_dir = base.data_dir / "evals" / "indexes" / f"{corpus.name}-{digest}"
        settings = base.with_(data_dir=index_dir, corpus_dir=corpus)
        # The index is our cache: when settings that shape it change, rebuild it rather than
        # ask the user to.
        stamp = index_dir / "fingerprint.json"
        fingerprint = json.dumps(index_key(settings), sort_keys=True, default=str)
        # A stamp written before index_key (the bare fingerprint, blind to the chunker's name)
        # stands for the default token chunker.
        legacy = json.dumps(settings.index_fingerprint(), sort_keys=True)
        accepted = {fingerprint} | ({legacy} if settings.chunker == "tokens" else set())
        rebuild = stamp.exists() and stamp.read_text() not in accepted
        if rebuild or (not stamp.exists() and index_dir.exists()):
            print(f"settings that shape the index changed: rebuilding {index_dir}", file=sys.stderr)
            rebuild = True
        _ingest(Bot(settings=settings), [corpus], args, always=True, rebuild=rebuild)
        stamp.write_text(fingerprint)
        return settings, str(corpus)
    if not args.no_ingest:
        _ingest(Bot(settings=base), None, args, always=False)
    return base, str(base.corpus_dir)


def _ingest(bot: Bot, paths, args, always: bool, rebuild: bool = False) -> None:
    # A bar only when there is real work ahead: an up-to-date index is checked in a blink.
    empty = rebuild or not bot.status()["documents"]
    result = bot.ingest(paths, rebuild=rebuild, progress=empty and not args.quiet)
    for source, reason in result.failed:
        print(f"warning: not ingested: {source}: {reason}", file=sys.stderr)
    if always or result.added or result.updated or result.removed:
        print(f"index {bot.settings.index_dir}: {result.summary()}", file=sys.stderr)
    if not bot.status()["chunks"]:
        raise AccordError(f"nothing could be ingested into {bot.settings.index_dir}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(message)s")
    try:
        base = Settings.from_env(**parse_overrides(args.overrides))
        out = Path(args.out) if args.out else base.data_dir / "evals"
        if args.compare:
            a, b = (report.resolve_report(ref, out) for ref in args.compare)
            print(report.compare(a, b))
            return 0
        names = parse_configs(args.config)
        for name in names:
            settings_for(name, base)  # fail now on an unusable configuration (llm unset)
        items = load_dataset(args.dataset, args.split)
        if args.limit:
            items = items[: args.limit]
        settings, corpus = prepare_index(base, args)
        if args.calibrate:
            from evals.calibrate import calibrate

            result = calibrate(Bot(settings=settings_for(DEFAULT_CONFIG, settings)), items)
            print(f"groundedness calibration on {args.dataset} ({args.split}, {len(items)} items)")
            print(result.describe())
            return 0
        result = run(
            items,
            names,
            settings,
            split=args.split,
            dataset=args.dataset,
            corpus=corpus,
            grounded_threshold=args.grounded_threshold,
            warm=args.warm,
            progress=not args.quiet,
            index_root=base.data_dir / "evals" / "indexes",
            ingest=not args.no_ingest,
        )
        folder = report.write(result, out)
    except AccordError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: no report written", file=sys.stderr)
        return 130
    for config in result.configs:
        if config.ingest_summary:
            print(f"{config.name}: {config.ingest_summary}", file=sys.stderr)
    data = report.load_report(folder / "report.json")
    print(
        f"{len(items)} items ({args.split}) × {len(names)} configuration(s) "
        f"in {result.seconds:.1f} s"
    )
    print()
    print(report.headline_table(data))
    for line in report.index_warnings(data) + report.calibration_hints(data):
        print(line)
    print()
    print(f"report: {folder / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Every speed benchmark in one run: python bench/run.py [--quick] [--only ingest,scale,...]

Prints each table and saves it as JSON under ``<data dir>/bench/<time>/`` (with the machine it
ran on). ``--quick`` finishes in a few minutes: fewer questions, no 100,000-chunk index, no
fp32 ingest. Timings move with machine load; compare the ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from bench.common import machine  # noqa: E402

SUITES = ("ingest", "scale", "startup", "server", "concurrency", "selector", "replicas")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/run.py", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few minutes: smaller runs")
    parser.add_argument("--only", help=f"comma-separated subset of {', '.join(SUITES)}")
    parser.add_argument("--sizes", help="scale sizes in chunks (default 1000,10000,100000)")
    parser.add_argument("--out", type=Path, help="folder for the JSON tables")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from bot.offline import prepare
    from bot.settings import Settings

    settings = Settings.from_env()
    prepare(settings.data_dir)
    chosen = args.only.split(",") if args.only else list(SUITES)
    unknown = set(chosen) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(sorted(unknown))}; choose from {SUITES}")
    out = args.out or settings.data_dir / "bench" / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    info = machine() | {"quick": args.quick, "suites": chosen}
    (out / "machine.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    print(f"# Accord benchmarks · {info} · tables saved in {out}", flush=True)
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    else:
        sizes = [1000, 10000] if args.quick else [1000, 10000, 100000]
    for suite in chosen:
        started = time.perf_counter()
        module = __import__(f"bench.{suite}", fromlist=["run"])
        kwargs = {"sizes": sizes} if suite == "scale" else {}
        for table in module.run(args.quick, out, **kwargs):
            print(table.render(), flush=True)
        print(f"  ({suite}: {time.perf_counter() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

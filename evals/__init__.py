"""Accord's evaluation suite: ``python -m evals`` (see ``python -m evals --help``).

``load_dataset`` reads a reference set, ``run`` answers and scores it with one or more named
configurations, ``report.write`` saves report.md, report.json, items.jsonl and plots.
"""

from evals.dataset import Item, load_dataset
from evals.runner import GROUNDED_THRESHOLD, RunResult, run

__all__ = ["GROUNDED_THRESHOLD", "Item", "RunResult", "load_dataset", "run"]

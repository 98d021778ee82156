"""A test hook, and nothing else: ``ACCORD_TEST_KILL_AT=<point>:<n>`` makes this process SIGKILL
itself the n-th time it reaches the named write point, so tests and ``bench/stress_crash.py``
can stop an ingest at exactly the moment they want to prove safe.

Points, in the order an ingest reaches them for one document or one run:

    vectors.before   a document is parsed and chunked; nothing of it written yet
    vectors.during   half of its chunks are in the vector store
    vectors.after    all its chunks are in the vector store; the catalog not yet written
    catalog          inside the catalog transaction, before it commits
    prune            a vanished document's vectors are deleted; its catalog entry not yet
    keyword          the next snapshot's keyword index is written; its chunk file not yet
    pointer          the next snapshot is complete; readers not yet pointed at it

Unset (always, outside tests) it costs one dictionary lookup per point.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

ENV = "ACCORD_TEST_KILL_AT"
POINTS = (
    "vectors.before",
    "vectors.during",
    "vectors.after",
    "catalog",
    "prune",
    "keyword",
    "pointer",
)
_reached: dict[str, int] = {}


def kill_point(name: str, before: Callable[[], object] | None = None) -> None:
    """Die here when the hook names this point and this is its n-th visit; ``before`` runs
    first (to leave a write half done)."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    point, _, count = wanted.partition(":")
    if point != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] == int(count or 1):
        if before is not None:
            before()
        die()


def die() -> None:
    """SIGKILL: no finally blocks, no flushing, exactly as an OOM kill or a pulled plug."""
    os.kill(os.getpid(), signal.SIGKILL)

"""An ingest stopped at every write point, then run again: the index matches the corpus exactly.

In the suite the stop is an exception raised at the point (``bot.faults``), so it costs no
process start; ``bench/stress_crash.py`` does the same with real SIGKILLs of ``ingest.py`` on a
few hundred documents. Either way nothing after the point runs, and SQLite discards the open
transaction as it would after a kill.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import Bot, faults
from bot.recovery import IN_PROGRESS, audit

TEMPLATE = (
    "# Accord {n}\n\nThe accord number {n} asks signatories to publish a register of "
    "{topic} every year.\n\nIt was agreed by {n} ministries.\n"
)


class Killed(BaseException):
    """Stands in for SIGKILL: not an Exception, so no handler of ours swallows it."""


def write_corpus(folder: Path, numbers, topic: str = "algorithms") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in numbers:
        (folder / f"accord-{n:03d}.md").write_text(TEMPLATE.format(n=n, topic=topic))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, embedder):
    """Eight documents, ingested once and put aside."""
    root = tmp_path_factory.mktemp("crash")
    write_corpus(root / "corpus", range(8))
    assert Bot(data_dir=root / "data").ingest([root / "corpus"]).ok
    for name in ("corpus", "data"):
        shutil.copytree(root / name, root / f"pristine-{name}")
    return root


@pytest.fixture
def clean_index(pristine, tmp_path) -> tuple[Path, Path]:
    """The pristine corpus restored in place (the catalog records full paths) and a copy of
    its index in a new folder (Chroma keeps one client per folder and process)."""
    shutil.rmtree(pristine / "corpus")
    shutil.copytree(pristine / "pristine-corpus", pristine / "corpus")
    shutil.copytree(pristine / "pristine-data", tmp_path / "data")
    return pristine / "corpus", tmp_path / "data"


@pytest.fixture
def killing(monkeypatch):
    def arm(point: str, count: int) -> None:
        monkeypatch.setenv(faults.ENV, f"{point}:{count}")
        monkeypatch.setattr(faults, "_reached", {})

    def die() -> None:
        raise Killed

    monkeypatch.setattr(faults, "die", die)
    return arm


# (point, which visit). Documents are written in name order: 000 and 001 (changed), then 008,
# 009 and 010 (new); the 4th visit is 009, which is deleted before the rerun. The prune,
# keyword and pointer points are visited once per run. (Without the recovery, the kills
# after 009's vectors leave a stray vector: checked when the recovery was written.)
CASES = [
    ("vectors.after", 4),
    ("catalog", 4),
    ("prune", 1),
    ("keyword", 1),
]  # bench/stress_crash.py covers every point (vectors.before, vectors.during, pointer too)


@pytest.mark.parametrize(("point", "count"), CASES)
def test_an_ingest_killed_at_any_write_point_is_completed_by_the_next(
    clean_index, killing, monkeypatch, point, count
):
    corpus, data = clean_index
    # The interrupted run changes two documents, adds three and drops two.
    write_corpus(corpus, (0, 1), topic="data centres")
    write_corpus(corpus, (8, 9, 10))
    for n in (6, 7):
        (corpus / f"accord-{n:03d}.md").unlink()

    killing(point, count)
    with pytest.raises(Killed):
        Bot(data_dir=data).ingest([corpus])
    monkeypatch.delenv(faults.ENV)
    assert Bot(data_dir=data).index.catalog.get_meta(IN_PROGRESS), "the run marked itself"

    # Before the rerun, one of the new documents is deleted after all: whatever the killed
    # run wrote of it must go too.
    (corpus / "accord-009.md").unlink()
    report = Bot(data_dir=data).ingest([corpus])
    assert report.ok, report.failed

    bot = Bot(data_dir=data)
    counted = audit(bot.index)
    assert counted.ok, counted.problems
    sources = sorted(Path(d.source).name for d in bot.documents())
    assert sources == sorted(p.name for p in corpus.iterdir())
    assert counted.documents == 8 and counted.catalog_chunks == counted.stored_chunks
    assert counted.snapshot_chunks == counted.keyword_chunks == counted.catalog_chunks
    changed = bot.search("register of data centres", k=3, mode="dense")
    assert changed and changed[0].chunk.doc_id in {"accord-000", "accord-001"}


def test_without_recovery_a_kill_after_the_vectors_leaves_strays(clean_index, killing):
    """The counterpart of the test above: the audit does see what a crash leaves behind, so
    its passing there means the recovery worked, not that the audit is blind."""
    corpus, data = clean_index
    write_corpus(corpus, (8,))
    killing("vectors.after", 1)
    with pytest.raises(Killed):
        Bot(data_dir=data).ingest([corpus])
    counted = audit(Bot(data_dir=data).index)
    assert any("not in the catalog" in p for p in counted.problems), counted.problems
    assert "an ingest is marked as in progress" in counted.problems


def test_the_hook_is_inert_unless_named(monkeypatch):
    monkeypatch.delenv(faults.ENV, raising=False)
    faults.kill_point("catalog")  # returns: nothing armed
    monkeypatch.setenv(faults.ENV, "keyword:1")
    faults.kill_point("catalog")  # another point
    assert set(faults.POINTS) >= {p for p, _ in CASES}


@pytest.mark.parametrize(("point", "count"), [("vectors.during", 40), ("catalog", 60)])
def test_ingest_py_killed_with_sigkill_is_completed_by_the_next_run(tmp_path, point, count):
    """The real thing once per kind of write: ``ingest.py`` in its own process, SIGKILLed by
    the hook mid-way through a hundred documents, then run again."""
    import os
    import signal
    import subprocess
    import sys

    project = Path(__file__).resolve().parent.parent
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    write_corpus(corpus, range(100))
    env = {**os.environ, "ACCORD_DATA_DIR": str(data), "ACCORD_TORCH_THREADS": "1"}
    command = [sys.executable, str(project / "ingest.py"), str(corpus)]
    killed = subprocess.run(
        command, env={**env, faults.ENV: f"{point}:{count}"}, capture_output=True, timeout=300
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    rerun = subprocess.run(command, env=env, capture_output=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]

    bot = Bot(data_dir=data)
    counted = audit(bot.index)
    assert counted.ok, counted.problems
    assert counted.documents == 100 == len({d.doc_id for d in bot.documents()})
    assert counted.catalog_chunks == counted.stored_chunks == counted.snapshot_chunks

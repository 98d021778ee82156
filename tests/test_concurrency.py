"""Many questions through one ``Bot`` while ingests run beside them: in this process, in
another process (``ingest.py``), and two ingests at once. Real model, real Chroma, the fixture
corpus. Run with ``-s`` to see the figures (threads, questions, ingests, errors)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable

import pytest

from bot import Answer, Bot
from bot.snapshot import Snapshot
from tests.conftest import FIXTURE_CORPUS, PROJECT

THREADS = 8
QUESTIONS_EACH = 3  # at least; readers keep asking until the ingests are done
MAX_SECONDS = 180  # a bound, should an ingest hang

QUESTIONS = [
    ("Where was the first AI safety summit held?", None),
    ("Which agency restricted exports of chipmaking equipment?", None),
    ("When do the EU's bans on AI practices start to apply?", None),
    ("Who co-hosted the AI Seoul Summit?", None),  # in the index only while the extra file is
    ("And who signed it?", [{"role": "user", "content": "What is the Bletchley Declaration?"}]),
    ("What did the G7 publish for developers of advanced AI?", {"issuers": ["G7"]}),
]

EXTRA = """---
title: "Test fixture: the Seoul summit"
date: 2024-05-21
issuer: Korean government
---

# The AI Seoul Summit

South Korea and the United Kingdom co-hosted the AI Seoul Summit on 21 and 22 May 2024.
Sixteen companies signed the Frontier AI Safety Commitments at the summit.
"""
EDITED = EXTRA.replace("Sixteen companies", "Sixteen technology companies") + (
    "\nThe next summit was set for Paris in February 2025.\n"
)


def record_snapshots(bot: Bot) -> dict[str, Snapshot]:
    """Every snapshot a question of ``bot`` is given, by generation."""
    seen: dict[str, Snapshot] = {}
    real = bot.index.snapshot

    def recording() -> Snapshot:
        snapshot = real()
        seen.setdefault(snapshot.generation, snapshot)
        return snapshot

    bot.index.snapshot = recording
    return seen


def ask_while(
    bot: Bot, busy: Callable[[], bool], pause: float = 0.0
) -> tuple[list[Answer], list[str]]:
    """THREADS threads, each asking QUESTIONS_EACH questions or more while ``busy()``, then one
    more once it is not (that one reads what the ingest published). ``pause`` between questions
    leaves another process some CPU. Returns the answers and the errors (with tracebacks)."""
    answers: list[Answer] = []
    errors: list[str] = []
    start = threading.Barrier(THREADS)
    deadline = time.monotonic() + MAX_SECONDS

    def ask(question: str, extra) -> None:
        history = extra if isinstance(extra, list) else None
        filters = extra if isinstance(extra, dict) else None
        try:
            answers.append(bot.ask(question, history, filters))
        except Exception:  # noqa: BLE001 - every failure is counted and shown
            errors.append(traceback.format_exc())

    def reader(offset: int) -> None:
        start.wait()
        asked = 0
        while (asked < QUESTIONS_EACH or busy()) and time.monotonic() < deadline:
            ask(*QUESTIONS[(offset + asked) % len(QUESTIONS)])
            asked += 1
            time.sleep(pause)
        while busy() and time.monotonic() < deadline:
            time.sleep(0.05)
        ask(*QUESTIONS[offset % len(QUESTIONS)])

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=MAX_SECONDS + 60)
    assert not any(t.is_alive() for t in threads), "a reader hung"
    assert time.monotonic() < deadline, "the ingest did not finish in time"
    return answers, errors


def assert_consistent(answers: list[Answer], seen: dict[str, Snapshot]) -> None:
    """Each answer's passages and citations are chunks of the one snapshot it was drawn from."""
    for answer in answers:
        snapshot = seen[answer.index_generation]
        for passage in answer.passages:
            assert snapshot.chunks.get(passage.chunk.chunk_id) is passage.chunk
        for citation in answer.citations:
            chunk = snapshot.chunks[citation.chunk_id]
            assert (citation.doc_id, citation.passage) == (chunk.doc_id, chunk.text)
            assert chunk.start <= citation.start < citation.end <= chunk.end


def figures(test: str, answers, errors, ingests: str, seconds: float, generations) -> None:
    print(
        f"\n[{test}] threads={THREADS} questions={len(answers) + len(errors)} "
        f"ingests={ingests} errors={len(errors)} snapshots answered from="
        f"{sorted(generations, key=int)} in {seconds:.1f} s"
    )


def ingest_py(data_dir, *paths) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "ingest.py", "--quiet", "--data-dir", str(data_dir), *map(str, paths)],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def bot(data_dir, embedder) -> Bot:
    """A bot over its own copy of the fixture corpus's index."""
    bot = Bot(data_dir=data_dir, embedder=embedder)
    assert len(bot.ingest([FIXTURE_CORPUS]).added) == 4
    return bot


def test_the_heavy_parts_are_built_once_when_many_threads_start_at_once(data_dir, embedder):
    bot = Bot(data_dir=data_dir, embedder=embedder)
    start = threading.Barrier(THREADS)
    built: list[tuple] = []

    def touch() -> None:
        start.wait()
        built.append((bot.index, bot.searcher, bot.answerer, bot.vectors))

    threads = [threading.Thread(target=touch) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == THREADS and len({tuple(map(id, parts)) for parts in built}) == 1


def test_questions_from_many_threads_while_this_process_ingests(bot, tmp_path):
    extra = tmp_path / "extra"
    extra.mkdir()
    doc = extra / "seoul-summit.md"
    seen = record_snapshots(bot)
    reports = []

    def writer() -> None:
        doc.write_text(EXTRA)
        reports.append(bot.ingest([extra]))
        doc.write_text(EDITED)
        reports.append(bot.ingest([extra]))
        doc.unlink()
        reports.append(bot.ingest([extra]))

    started = time.perf_counter()
    ingesting = threading.Thread(target=writer)
    ingesting.start()
    answers, errors = ask_while(bot, ingesting.is_alive)
    ingesting.join()
    generations = {a.index_generation for a in answers}
    figures("same process", answers, errors, "3 in a thread (add, edit, remove)",
            time.perf_counter() - started, generations)  # fmt: skip

    assert errors == [], errors[0]
    assert [(r.added, r.updated, r.removed) for r in reports] == [
        (["seoul-summit"], [], []),
        ([], ["seoul-summit"], []),
        ([], [], ["seoul-summit"]),
    ]
    assert len(answers) >= THREADS * (QUESTIONS_EACH + 1)
    assert_consistent(answers, seen)
    final = bot.snapshot()
    assert len(generations) >= 2 and final.generation in generations  # across the swaps
    assert not any(c.doc_id == "seoul-summit" for c in final.chunks.values())
    assert sorted(p.name for p in (bot.settings.index_dir / "snapshots").iterdir()) == sorted(
        {"current", final.generation, str(int(final.generation) - 1)}
    )  # older snapshots are cleaned away; the previous one stays a round


def test_questions_from_many_threads_while_ingest_py_runs_in_another_process(bot, tmp_path):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "seoul-summit.md").write_text(EXTRA)
    seen = record_snapshots(bot)
    before = bot.snapshot().generation

    started = time.perf_counter()
    process = ingest_py(bot.settings.data_dir, extra)
    # Readers pause between questions so the other process gets some of the two cores.
    answers, errors = ask_while(bot, lambda: process.poll() is None, pause=1.0)
    out, err = process.communicate(timeout=300)
    generations = {a.index_generation for a in answers}
    figures("other process", answers, errors, "1 ingest.py process (add)",
            time.perf_counter() - started, generations)  # fmt: skip

    assert process.returncode == 0, err
    assert "1 added" in out
    assert errors == [], errors[0]
    assert_consistent(answers, seen)
    # The next question reads the snapshot the other process published.
    after = bot.snapshot()
    assert after.generation != before
    assert any(c.doc_id == "seoul-summit" for c in after.chunks.values())
    found = bot.search("Frontier AI Safety Commitments", mode="bm25")
    assert found[0].chunk.doc_id == "seoul-summit"
    assert after.generation in generations  # the last questions were answered from it


def test_two_ingest_processes_take_turns_and_leave_a_clean_index(data_dir, indexed_dir, embedder):
    first, second = ingest_py(data_dir, FIXTURE_CORPUS), ingest_py(data_dir, FIXTURE_CORPUS)
    outputs = [p.communicate(timeout=300) for p in (first, second)]
    for process, (out, err) in zip((first, second), outputs, strict=True):
        print(f"\n[two ingests] pid {process.pid} exit {process.returncode}: {out.strip()}")
        if err.strip():
            print(f"[two ingests] pid {process.pid} said: {err.strip()}")
        assert process.returncode == 0, err

    waited = [i for i, (_, err) in enumerate(outputs) if "another ingest is running" in err]
    assert len(waited) == 1, outputs  # one took the index, the other waited for it
    other = (first, second)[1 - waited[0]]
    assert f"another ingest is running (pid {other.pid}); waiting" in outputs[waited[0]][1]
    summaries = sorted(out for out, _ in outputs)
    assert "0 added, 0 updated, 4 unchanged" in summaries[0]
    assert "4 added" in summaries[1]

    bot = Bot(data_dir=data_dir, embedder=embedder)
    clean = {c.chunk_id for c in Bot(data_dir=indexed_dir).index.catalog.chunks()}
    catalog = {c.chunk_id for c in bot.index.catalog.chunks()}
    chroma = set(bot.index.store.lc._collection.get(include=[])["ids"])
    snapshot = bot.snapshot()
    assert catalog == chroma == set(snapshot.keyword.ids) == set(snapshot.chunks) == clean
    assert snapshot.generation == bot.index.catalog.generation

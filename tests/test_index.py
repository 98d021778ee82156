import re

import pytest

from bot import AccordError, Bot
from bot.embeddings import MiniLMEmbedder
from tests.conftest import FIXTURE_CORPUS


@pytest.fixture
def embed_calls(monkeypatch, embedder):
    """Counts texts sent to the embedding model (the real one still runs)."""
    calls = []
    real = MiniLMEmbedder.embed_batch

    def counting(self, texts):
        calls.append(len(texts))
        return real(self, texts)

    monkeypatch.setattr(MiniLMEmbedder, "embed_batch", counting)
    return calls


def stored_ids(bot: Bot) -> set[str]:
    return set(bot.index.store.lc._collection.get(include=[])["ids"])


def catalog_ids(bot: Bot) -> set[str]:
    return {c.chunk_id for c in bot.index.catalog.chunks()}


def test_reingesting_an_unchanged_folder_embeds_nothing(data_dir, corpus_copy, embed_calls):
    bot = Bot(data_dir=data_dir)
    first = bot.ingest([corpus_copy])
    assert sorted(first.added) == [
        "bletchley-summit",
        "chip-export-controls",
        "eu-ai-act",
        "hiroshima-process",
    ]
    assert first.chunks == len(catalog_ids(bot)) > 0
    embed_calls.clear()

    again = Bot(data_dir=data_dir).ingest([corpus_copy])
    assert sorted(again.unchanged) == sorted(first.added)
    assert (again.added, again.updated, again.removed, again.chunks) == ([], [], [], 0)
    assert embed_calls == []


def test_a_changed_document_replaces_its_old_chunks(data_dir, corpus_copy):
    bot = Bot(data_dir=data_dir)
    bot.ingest([corpus_copy])
    before = catalog_ids(bot)
    path = corpus_copy / "eu-ai-act.md"
    path.write_text(path.read_text().replace("35 million euros", "40 million euros"))

    report = bot.ingest([corpus_copy])
    assert report.updated == ["eu-ai-act"] and len(report.unchanged) == 3
    after = catalog_ids(bot)
    assert after != before
    assert stored_ids(bot) == after  # old vectors deleted, new ones stored
    assert "40 million euros" in bot.ask("How large can fines under the EU AI Act be?").text


def test_a_deleted_file_is_pruned_unless_asked_not_to(data_dir, corpus_copy):
    bot = Bot(data_dir=data_dir)
    bot.ingest([corpus_copy])
    (corpus_copy / "chip-export-controls.md").unlink()

    kept = bot.ingest([corpus_copy], prune=False)
    assert kept.removed == [] and "chip-export-controls" in {d.doc_id for d in bot.documents()}

    pruned = bot.ingest([corpus_copy])
    assert pruned.removed == ["chip-export-controls"]
    assert "chip-export-controls" not in {d.doc_id for d in bot.documents()}
    assert stored_ids(bot) == catalog_ids(bot)


def test_a_broken_file_is_reported_and_the_rest_ingested(data_dir, corpus_copy):
    (corpus_copy / "broken.md").write_text("---\ntitle: [oops\n---\ntext\n")
    (corpus_copy / "binary.txt").write_bytes(b"\x00\x00\x00")
    report = Bot(data_dir=data_dir).ingest([corpus_copy])
    assert len(report.added) == 4
    reasons = dict(report.failed)
    assert "malformed YAML" in reasons[str(corpus_copy / "broken.md")]
    assert "binary" in reasons[str(corpus_copy / "binary.txt")]
    assert not report.ok


def test_a_file_that_breaks_keeps_its_last_good_version(data_dir, corpus_copy):
    bot = Bot(data_dir=data_dir)
    bot.ingest([corpus_copy])
    (corpus_copy / "eu-ai-act.md").write_bytes(b"\xff\xfe not utf-8 \x00")
    report = bot.ingest([corpus_copy])
    assert report.failed and report.removed == []
    assert "eu-ai-act" in {d.doc_id for d in bot.documents()}


def test_an_interrupted_ingest_is_completed_by_the_next_run(data_dir, corpus_copy, monkeypatch):
    bot = Bot(data_dir=data_dir)
    catalog = bot.index.catalog
    real_put = catalog.put
    committed = []

    def put_then_die(doc, chunks):
        if committed:
            raise KeyboardInterrupt  # the vectors are stored; the catalog commit never happens
        real_put(doc, chunks)
        committed.append(doc.doc_id)

    monkeypatch.setattr(catalog, "put", put_then_die)
    with pytest.raises(KeyboardInterrupt):
        bot.ingest([corpus_copy])
    monkeypatch.setattr(catalog, "put", real_put)
    assert stored_ids(bot) > catalog_ids(bot)  # vectors written beyond the catalog

    resumed = Bot(data_dir=data_dir).ingest([corpus_copy])
    assert resumed.unchanged == committed
    assert len(resumed.added) == 3
    fresh = Bot(data_dir=data_dir)
    assert stored_ids(fresh) == catalog_ids(fresh)  # no orphan or duplicate vectors
    assert fresh.ask("Where was the first AI safety summit held?").citations


def test_rebuild_starts_over(data_dir, corpus_copy):
    bot = Bot(data_dir=data_dir)
    bot.ingest([corpus_copy])
    report = bot.ingest([corpus_copy], rebuild=True)
    assert len(report.added) == 4 and report.unchanged == []


def test_changed_chunking_settings_require_a_rebuild(data_dir, corpus_copy):
    Bot(data_dir=data_dir).ingest([corpus_copy])
    with pytest.raises(AccordError, match="--rebuild"):
        Bot(data_dir=data_dir, chunk_tokens=200).ingest([corpus_copy])
    report = Bot(data_dir=data_dir, chunk_tokens=200).ingest([corpus_copy], rebuild=True)
    assert len(report.added) == 4


def test_same_file_name_in_two_folders_keeps_both(data_dir, corpus_copy, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "eu-ai-act.md").write_text("# Another EU text\n\nA different document entirely.\n")
    report = Bot(data_dir=data_dir).ingest([corpus_copy, other])
    assert len(report.added) == 5
    assert len({d for d in report.added if d.startswith("eu-ai-act")}) == 2


def test_a_question_reads_the_catalog_when_no_snapshot_is_on_disk(data_dir, corpus_copy):
    # An index from before snapshots, or one whose snapshot files were removed: questions are
    # still answered (from the catalog, in memory) and write nothing; the next ingest does.
    import shutil

    Bot(data_dir=data_dir).ingest([corpus_copy])
    shutil.rmtree(data_dir / "index" / "snapshots")
    fresh = Bot(data_dir=data_dir)
    passages = fresh.search("Bureau of Industry and Security", mode="bm25")
    assert passages and passages[0].chunk.doc_id == "chip-export-controls"
    assert not (data_dir / "index" / "snapshots").exists()
    assert fresh.ingest([corpus_copy]).added == []
    assert (data_dir / "index" / "snapshots" / "current").read_text().strip() == (
        fresh.snapshot().generation
    )


def test_questions_keep_the_last_complete_snapshot_while_an_ingest_is_under_way(data_dir):
    # Another process has committed a document to the catalog but not yet published its
    # snapshot: questions stay on the last complete one and build nothing themselves.
    from bot.records import Chunk, Document

    bot = Bot(data_dir=data_dir)
    bot.ingest([FIXTURE_CORPUS])
    published = bot.snapshot().generation
    index_dir = data_dir / "index"
    files_before = sorted(p.relative_to(index_dir) for p in (index_dir / "snapshots").rglob("*"))
    doc = Document("late", "Late", "Half-ingested text.", "/x/late.md", "h")
    bot.index.catalog.put(doc, [Chunk("late-h-0000", "late", 0, doc.text, 0, 19, 4)])
    assert bot.index.catalog.generation != published

    reader = Bot(data_dir=data_dir)
    assert reader.snapshot().generation == published
    assert "late-h-0000" not in reader.snapshot().chunks
    assert reader.ask("Where was the first AI safety summit held?").index_generation == published
    files_after = sorted(p.relative_to(index_dir) for p in (index_dir / "snapshots").rglob("*"))
    assert files_after == files_before


def test_ingest_progress_is_a_line_per_n_documents_when_stderr_is_no_terminal(
    data_dir, corpus_copy, monkeypatch, capsys
):
    """`app.py > log`: no repainting bar (carriage returns), a readable line per N documents."""
    import bot.index

    monkeypatch.setattr(bot.index, "PROGRESS_EVERY", 2)
    report = Bot(data_dir=data_dir).ingest([corpus_copy], progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.strip().splitlines()
    assert [line.split(" documents")[0] for line in lines] == ["ingest: 2/4", "ingest: 4/4"]
    assert re.fullmatch(r"ingest: 4/4 documents, \d+ chunks, 0 failed, \d+\.\d s", lines[-1])
    assert report.ok and len(report.added) == 4


def test_ingest_progress_is_a_bar_on_a_terminal():
    import os

    from bot.index import _Lines, _progress

    leader, follower = os.openpty()
    with os.fdopen(follower, "w") as terminal:
        assert not isinstance(_progress([1, 2], True, terminal), _Lines)
    os.close(leader)
    with open(os.devnull, "w") as log:
        assert isinstance(_progress([1, 2], True, log), _Lines)

"""Ingest, side by side: Accord, the raw model on exactly what Accord embeds, the usual stack.

For each corpus, in one process with the model already loaded:

- **accord**: ``Bot.ingest`` into an empty data dir (read, chunk, embed, store, keyword index,
  snapshot), recording every text handed to the model;
- **raw encode**: ``SentenceTransformer.encode`` on exactly those texts, in the same calls,
  with the same batch size, threads and precision: the floor Accord's ingest is compared with;
- **usual stack**: LangChain's ``RecursiveCharacterTextSplitter`` (1,000/200) over the files'
  text, the same MiniLM through a LangChain ``Embeddings`` (what ``HuggingFaceEmbeddings``
  does: ``SentenceTransformer.encode`` in fp32, its default batch of 32) and
  ``Chroma.from_documents`` into a fresh local Chroma.

Then re-ingests of the same folder: nothing changed, one file edited, one file deleted.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from bench.common import CORPUS, GOVERNANCE, Table

HF_EMBEDDINGS_NOTE = (
    "usual stack: langchain-huggingface is not installed, so the same MiniLM goes through a "
    "LangChain Embeddings wrapper doing what HuggingFaceEmbeddings does "
    "(SentenceTransformer.encode, fp32, batch 32, not normalised)"
)


class Recorder:
    """Wraps Accord's embedder and keeps every batch of texts it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls: list[list[str]] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_batch(self, texts):
        self.calls.append(list(texts))
        return self.inner.embed_batch(texts)

    def embed_query(self, text):
        return self.embed_batch([text])[0]

    def embed_passages(self, texts):
        # The windowing is Accord's; only the model calls are recorded.
        from bot.embeddings import Embedder

        return Embedder.embed_passages(self, texts)


def raw_encode(calls: list[list[str]], bf16: bool, threads: int) -> float:
    """Seconds for the bare model on the same texts, call for call."""
    import torch

    from bot.embeddings import _minilm

    model = _minilm()
    torch.set_num_threads(threads)
    started = time.perf_counter()
    for texts in calls:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model.encode(
                texts,
                batch_size=32,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
    return time.perf_counter() - started


class UsualEmbeddings:
    """What ``langchain_huggingface.HuggingFaceEmbeddings`` does with its defaults."""

    def __new__(cls):
        from langchain_core.embeddings import Embeddings

        from bot.embeddings import _minilm

        class _HF(Embeddings):
            def embed_documents(self, texts):
                vectors = _minilm().encode(list(texts), batch_size=32, show_progress_bar=False)
                return vectors.tolist()

            def embed_query(self, text):
                return self.embed_documents([text])[0]

        return _HF()


def usual_stack(corpus: Path, workdir: Path) -> tuple[float, int]:
    """Seconds and chunks for load → split → embed → Chroma.from_documents."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    embeddings = UsualEmbeddings()
    started = time.perf_counter()
    docs = [
        Document(page_content=path.read_text(encoding="utf-8"), metadata={"source": str(path)})
        for path in sorted(corpus.rglob("*"))
        if path.is_file() and path.suffix in (".md", ".txt") and path.stem != "README"
    ]
    splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(
        docs
    )
    client = chromadb.PersistentClient(
        path=str(workdir), settings=ChromaSettings(anonymized_telemetry=False)
    )
    Chroma.from_documents(splits, embeddings, client=client, collection_name="usual")
    return time.perf_counter() - started, len(splits)


def accord_ingest(corpus: Path, data_dir: Path, embedder, **settings):
    from bot import Bot

    recorder = Recorder(embedder)
    bot = Bot(data_dir=data_dir, embedder=recorder, **settings)
    started = time.perf_counter()
    report = bot.ingest([corpus])
    seconds = time.perf_counter() - started
    assert report.ok, report.failed
    return bot, recorder, seconds, report


def run(quick: bool, out: Path) -> list[Table]:
    import torch

    from bot.embeddings import get_embedder
    from bot.settings import Settings

    settings = Settings.from_env()
    embedder = get_embedder(settings.embedding_model, settings.torch_threads, settings.precision)
    embedder.embed_batch(["warm the model up"] * 40)  # load it outside every timing
    threads = torch.get_num_threads()
    precisions = ["auto"] if quick else ["auto", "fp32"]
    corpora = [("shipped corpus/", CORPUS)]
    if GOVERNANCE.is_dir():
        corpora.append(("governance-docs", GOVERNANCE))

    table = Table(
        "ingest",
        "Ingest: Accord beside the raw model and the usual LangChain stack (same run)",
        [
            "corpus",
            "pipeline",
            "precision",
            "chunks",
            "model texts",
            "seconds",
            "chunks/s",
            "× raw encode",
            "usual ÷ this",
        ],  # fmt: skip
        notes=[
            HF_EMBEDDINGS_NOTE,
            f"torch threads {threads}",
            "raw encode: the best of two runs on the texts Accord's ingest sent the model",
        ],  # fmt: skip
    )
    again = Table(
        "reingest",
        "Re-ingest of the same folder (Accord)",
        ["corpus", "change", "seconds", "embedded chunks", "% of full ingest"],
    )
    with tempfile.TemporaryDirectory(prefix="accord-bench-") as tmp:
        tmp = Path(tmp)
        for label, corpus in corpora:
            usual_s, usual_chunks = usual_stack(corpus, tmp / f"usual-{corpus.name}")
            for precision in precisions:
                local = get_embedder(settings.embedding_model, settings.torch_threads, precision)
                data = tmp / f"accord-{corpus.name}-{precision}"
                bot, recorder, seconds, report = accord_ingest(
                    corpus, data, local, precision=precision
                )
                texts = sum(len(c) for c in recorder.calls)
                # best of two: the floor is taken at its lowest, against Accord
                raw_s = min(raw_encode(recorder.calls, local.bf16, threads) for _ in range(2))
                name = "bf16" if local.bf16 else "fp32"
                table.add(corpus=label, pipeline="raw encode", precision=name, chunks="",
                          **{"model texts": texts, "seconds": raw_s,
                             "chunks/s": report.chunks / raw_s, "× raw encode": 1.0,
                             "usual ÷ this": usual_s / raw_s})  # fmt: skip
                table.add(corpus=label, pipeline="accord", precision=name, chunks=report.chunks,
                          **{"model texts": texts, "seconds": seconds,
                             "chunks/s": report.chunks / seconds,
                             "× raw encode": seconds / raw_s,
                             "usual ÷ this": usual_s / seconds})  # fmt: skip
                if precision == "auto":
                    reingest_rows(again, label, corpus, tmp, local, seconds)
            table.add(corpus=label, pipeline="usual stack", precision="fp32",
                      chunks=usual_chunks, **{"seconds": usual_s,
                      "chunks/s": usual_chunks / usual_s, "usual ÷ this": 1.0})  # fmt: skip
    for t in (table, again):
        t.save(out)
    return [table, again]


def reingest_rows(table: Table, label: str, corpus: Path, tmp: Path, embedder, full_s: float):
    """Nothing changed, one file edited, one deleted: on a copy of the folder."""
    from bot import Bot

    folder = tmp / f"copy-{corpus.name}"
    shutil.copytree(corpus, folder)
    data = tmp / f"again-{corpus.name}"
    recorder = Recorder(embedder)
    bot = Bot(data_dir=data, embedder=recorder)
    bot.ingest([folder])
    files = sorted(p for p in folder.glob("*.md") if p.stem != "README")
    edited, deleted = files[len(files) // 2], files[-1]

    def measure(change: str) -> None:
        recorder.calls.clear()
        started = time.perf_counter()
        report = bot.ingest([folder])
        seconds = time.perf_counter() - started
        table.add(corpus=label, change=change, seconds=seconds,
                  **{"embedded chunks": report.embedded,
                     "% of full ingest": 100 * seconds / full_s})  # fmt: skip

    measure("nothing")
    with edited.open("a", encoding="utf-8") as f:
        f.write("\n\nA paragraph added by the benchmark to change this file.\n")
    doc_chunks = None
    measure(f"edited {edited.name}")
    doc_chunks = next(d.chunks for d in bot.documents() if d.source == str(edited.resolve()))
    table.rows[-1]["change"] += f" ({doc_chunks} chunks)"
    deleted.unlink()
    measure(f"deleted {deleted.name}")

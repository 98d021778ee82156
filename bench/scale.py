"""Scale: retrieval and a full extractive ``Bot.ask`` at 1k, 10k and 100k chunks, with peak RSS.

The corpus is generated from the real documents (the shipped articles and, when present,
``../shared/governance-docs``): each generated file is one of them under a new name and title,
so its chunks are real text with real structure, in a temporary data dir. It is ingested through
``Bot.ingest`` like any folder, in a child process whose peak RSS is the ingest's; a second
child loads the index as ``app.py`` would and times questions.

Embedding 100,000 chunks for real would take most of an hour on two cores, and the model's
speed is measured by the ingest benchmark; here a chunk whose text the real model has already
embedded (under another title) gets that vector plus a small deterministic perturbation
(cosine ≈ 0.97 to it), through the same embedder contract. Questions are embedded by the real
model. Figures at scale are therefore the index's costs (chunking, store, keyword index,
snapshot, search, answer), not the model's.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.common import (
    CORPUS,
    GOVERNANCE,
    PYTHON,
    Table,
    child_env,
    median,
    peak_rss_mb,
    percentile,
    questions,
)

_TITLE = re.compile(r'^title:\s*"?(.*?)"?\s*$', re.MULTILINE)


def base_documents() -> list[Path]:
    folders = [CORPUS] + ([GOVERNANCE] if GOVERNANCE.is_dir() else [])
    return [p for f in folders for p in sorted(f.glob("*.md")) if p.stem != "README"]


def chunk_counts(paths: Sequence[Path]) -> list[int]:
    from bot.chunking import get_chunker
    from bot.settings import Settings
    from bot.sources import parse

    settings = Settings.from_env()
    chunker = get_chunker(settings.chunker)
    counts = []
    for path in paths:
        doc = parse(str(path), path.read_bytes(), ".md")
        counts.append(len(chunker(doc, settings.chunk_tokens, settings.chunk_overlap)))
    return counts


def generate(folder: Path, target: int) -> int:
    """Copies of the real documents under new names and titles until ``target`` chunks."""
    paths = base_documents()
    counts = chunk_counts(paths)
    folder.mkdir(parents=True, exist_ok=True)
    total, i = 0, 0
    while total < target:
        k = i % len(paths)
        text = paths[k].read_text(encoding="utf-8")
        variant = f"(variant {i // len(paths) + 1})"
        if _TITLE.search(text):
            text = _TITLE.sub(lambda m, v=variant: f'title: "{m.group(1)} {v}"', text, count=1)
        (folder / f"{paths[k].stem}-v{i:05d}.md").write_text(text, encoding="utf-8")
        total += counts[k]
        i += 1
    return total


class ReplayEmbedder:
    """The real MiniLM, except that a chunk body it has embedded before (under another title)
    gets that vector again, perturbed; see the module docstring."""

    name = "minilm"
    dimension = 384

    def __init__(self, cache: Path) -> None:
        from bot.embeddings import get_embedder

        self.real = get_embedder("minilm")
        self.cache = cache
        self.known: dict[str, np.ndarray] = {}
        if cache.exists():
            data = np.load(cache, allow_pickle=False)
            self.known = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def save(self) -> None:
        keys = np.array(list(self.known), dtype=object).astype(str)
        np.savez(self.cache, keys=keys, vectors=np.stack(list(self.known.values())))

    def embed_batch(self, texts):
        return self.real.embed_batch(texts)

    def embed_query(self, text):
        return self.real.embed_query(text)

    def embed_passages(self, texts):
        bodies = [t.split("\n\n", 1)[-1] for t in texts]
        keys = [hashlib.sha1(b.encode()).hexdigest() for b in bodies]
        wanted = {k: t for k, t in zip(keys, texts, strict=True) if k not in self.known}
        if wanted:
            fresh = self.real.embed_passages(list(wanted.values()))
            self.known.update(zip(wanted, fresh, strict=True))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for row, (key, text) in enumerate(zip(keys, texts, strict=True)):
            seed = int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)
            noise = np.random.default_rng(seed).standard_normal(self.dimension) * 0.013
            vector = self.known[key] + noise
            out[row] = vector / np.linalg.norm(vector)
        return out


# ---- children: each runs in its own process so its peak RSS is its own


def _profiler():
    try:
        from pyinstrument import Profiler
    except ImportError:
        return None
    return Profiler(interval=0.01)


def child_ingest(corpus: Path, data: Path, cache: Path, profile: Path) -> dict:
    from bot import Bot

    embedder = ReplayEmbedder(cache)
    bot = Bot(data_dir=data, embedder=embedder)
    profiler = _profiler()
    if profiler is not None:
        profiler.start()
    started = time.perf_counter()
    report = bot.ingest([corpus])
    full = time.perf_counter() - started
    if profiler is not None:
        profiler.stop()
        profile.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
    embedder.save()
    result = {"chunks": report.chunks, "documents": len(report.added), "ingest_s": full,
              "ingest_rss_mb": peak_rss_mb()}  # fmt: skip
    started = time.perf_counter()
    bot.ingest([corpus])
    result["reingest_nothing_s"] = time.perf_counter() - started
    edited = sorted(corpus.glob("*.md"))[0]
    with edited.open("a", encoding="utf-8") as f:
        f.write("\n\nA paragraph the benchmark adds to change one file.\n")
    profiler = _profiler()
    if profiler is not None:
        profiler.start()
    started = time.perf_counter()
    again = bot.ingest([corpus])
    result["reingest_one_s"] = time.perf_counter() - started
    if profiler is not None:
        profiler.stop()
        profile.with_name(f"{profile.stem}-edit.txt").write_text(
            profiler.output_text(unicode=True, show_all=False), encoding="utf-8"
        )
    result["reingest_one_embedded"] = again.embedded
    result["rss_after_reingest_mb"] = peak_rss_mb()
    return result


def child_query(data: Path, n_questions: int, profile: Path | None) -> dict:
    from bot import Bot

    asked = questions(n_questions)
    started = time.perf_counter()
    bot = Bot(data_dir=data)
    bot.ask(asked[0])  # loads the model, the snapshot and Chroma's index
    first = time.perf_counter() - started
    search = _timed(bot.search, asked, profile.with_name(f"{profile.stem}-search.txt"))
    ask = _timed(bot.ask, asked, profile.with_name(f"{profile.stem}-ask.txt"))
    ms = [1000 * s for s in search]
    ams = [1000 * s for s in ask]
    return {"questions": len(asked), "first_answer_s": first,
            "search_p50_ms": median(ms), "search_p95_ms": percentile(ms, 95),
            "ask_p50_ms": median(ams), "ask_p95_ms": percentile(ams, 95),
            "query_rss_mb": peak_rss_mb()}  # fmt: skip


def _timed(fn, asked: list[str], profile: Path) -> list[float]:
    """Seconds per question, under pyinstrument (its sampling costs little) when installed."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        profiler = None
    else:
        profiler = Profiler(interval=0.002)
        profiler.start()
    seconds = []
    for q in asked:
        t = time.perf_counter()
        fn(q)
        seconds.append(time.perf_counter() - t)
    if profiler is not None:
        profiler.stop()
        profile.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
    return seconds


def _child(args: list[str]) -> dict:
    proc = subprocess.run(
        [PYTHON, "-m", "bench.scale", *args], env=child_env(), capture_output=True, text=True
    )
    if proc.returncode:
        raise RuntimeError(f"bench.scale {args[0]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(quick: bool, out: Path, sizes: Sequence[int] = (1000, 10000, 100000)) -> list[Table]:
    table = Table(
        "scale",
        "Scale: generated corpus from the real documents (ingest, re-ingest, questions)",
        [
            "chunks",
            "docs",
            "ingest s",
            "ingest RSS MB",
            "re-ingest unchanged s",
            "re-ingest 1 edited s",
            "first answer s",
            "search p50 ms",
            "search p95 ms",
            "ask p50 ms",
            "ask p95 ms",
            "query RSS MB",
        ],  # fmt: skip
        notes=[
            "chunk vectors at scale replay the real model's vector of the same text under "
            "another title, perturbed (see bench/scale.py); questions use the real model",
            "targets on 2 cores: search p95 < 100 ms at 100k; ask p50 < 300 ms at 10k; "
            "RSS < 2 GB at 100k",
        ],
    )
    n_questions = 30 if quick else 80
    with tempfile.TemporaryDirectory(prefix="accord-scale-") as tmp:
        tmp = Path(tmp)
        cache = out / "replay-vectors.npz"
        for size in sizes:
            corpus = tmp / f"corpus-{size}"
            generate(corpus, size)
            data = tmp / f"data-{size}"
            profile = out / f"profile-{size}.txt"
            ingest = _child(["ingest", str(corpus), str(data), str(cache), str(profile)])
            query = _child(["query", str(data), str(n_questions), str(profile)])
            table.add(**{
                "chunks": ingest["chunks"], "docs": ingest["documents"],
                "ingest s": ingest["ingest_s"], "ingest RSS MB": ingest["ingest_rss_mb"],
                "re-ingest unchanged s": ingest["reingest_nothing_s"],
                "re-ingest 1 edited s": ingest["reingest_one_s"],
                "first answer s": query["first_answer_s"],
                "search p50 ms": query["search_p50_ms"], "search p95 ms": query["search_p95_ms"],
                "ask p50 ms": query["ask_p50_ms"], "ask p95 ms": query["ask_p95_ms"],
                "query RSS MB": query["query_rss_mb"],
            })  # fmt: skip
            table.save(out)
            print(f"  scale {size}: {ingest} {query}", file=sys.stderr, flush=True)
    table.notes.append(
        f"pyinstrument profiles: {out}/profile-<chunks>-{{ingest,ingest-edit,search,ask}}.txt"
    )
    table.save(out)
    return [table]


def main(argv: list[str]) -> int:
    from bot.offline import prepare

    what, *rest = argv
    if what == "ingest":
        corpus, data, cache, profile = map(Path, rest)
        prepare(data)
        result = child_ingest(corpus, data, cache, profile.with_name(f"{profile.stem}-ingest.txt"))
    else:
        data, n, profile = Path(rest[0]), int(rest[1]), Path(rest[2])
        prepare(data)
        result = child_query(data, n, profile)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

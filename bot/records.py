"""The typed records that flow between stages. Plain data, no behaviour beyond small helpers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Document:
    """A loaded source: the text we chunk and the metadata we cite."""

    doc_id: str
    title: str
    text: str
    source: str  # absolute file path or URL: the key incremental ingest diffs on
    content_hash: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Chunk:
    chunk_id: str
    doc_id: str
    index: int
    text: str  # exactly document.text[start:end]
    start: int
    end: int
    tokens: int
    headings: list[str] = field(default_factory=list)
    title: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def heading_path(self) -> str:
        return " > ".join(self.headings)

    @property
    def context_text(self) -> str:
        """What gets embedded and keyword-indexed: a short header gives the chunk its context."""
        header = self.title
        if self.headings:
            header = f"{header} — {self.heading_path}" if header else self.heading_path
        return f"{header}\n\n{self.text}" if header else self.text


@dataclass
class Passage:
    """A retrieved chunk with the scores that ranked it."""

    chunk: Chunk
    score: float  # fused score used for ranking
    dense: float | None = None  # cosine similarity to the query, when the dense retriever saw it
    keyword: float | None = None  # BM25 score, when the keyword retriever saw it
    rank: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The passage as a reader sees it: its text and the document facts a card shows
        (the same names as a :class:`Citation`'s)."""
        meta = self.chunk.metadata
        refs = meta.get("sources") or []
        return {
            "doc_id": self.chunk.doc_id,
            "title": self.chunk.title,
            "chunk_id": self.chunk.chunk_id,
            "text": self.chunk.text,
            "score": self.score,
            "issuer": str(meta.get("issuer") or ""),
            "date": str(meta.get("date") or ""),
            "source": str(meta.get("source_url") or meta.get("source") or ""),
            "sources": [str(r) for r in refs] if isinstance(refs, list) else [str(refs)],
        }


@dataclass
class Citation:
    number: int
    doc_id: str
    title: str
    source: str
    date: str
    issuer: str
    quote: str
    start: int
    end: int
    score: float
    chunk_id: str = ""
    passage: str = ""  # the whole chunk, so a reader sees the quote in context
    passage_start: int = 0  # document offset of passage[0]
    spans: list[tuple[int, int]] = field(default_factory=list)  # document offsets of each quote
    section: str = ""  # the part quoted: "Article 53(1)(a)", "operative paragraph 6" (bot.sections)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["spans"] = [list(s) for s in self.spans]
        return data


@dataclass
class Answer:
    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    passages: list[Passage] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    mode: str = "extractive"
    support: list[float] = field(default_factory=list)  # per answer sentence, 0..1
    evidence: float = 0.0  # score of the best sentence found; below the threshold we abstain
    index_generation: str = ""  # the index snapshot the answer was drawn from
    # Each answer sentence checked against what it cites (bot.verification.SentenceCheck).
    sentences: list[Any] = field(default_factory=list)
    model: str = ""  # the language model that wrote the text ("" for extractive answers)
    standalone: str = ""  # the question as searched, when a follow-up was rewritten
    dropped: list[Any] = field(default_factory=list)  # sentences strict mode removed

    @property
    def supported_share(self) -> float:
        """Share of answer sentences that their citations support (1.0 with no sentences)."""
        if not self.sentences:
            return 1.0
        return sum(s.supported for s in self.sentences) / len(self.sentences)

    current_to: str = ""  # "As of" date, for questions about the present or asked as of a day
    timeline: list = field(default_factory=list)  # bot.timeline.TimelineEvent, date order
    comparison: Any = None  # bot.comparison.Comparison, for "compare X and Y" questions
    # What a follow-up carries over (bot.thread.Thread): the cited documents, the main names.
    thread: Any = None
    # A question asking several things: each ask and whether the documents answer it.
    parts: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "text": self.text,
            "abstained": self.abstained,
            "mode": self.mode,
            "citations": [c.to_dict() for c in self.citations],
            "closest": [p.to_dict() for p in self.passages],
            "timings": self.timings,
            "support": self.support,
            "evidence": self.evidence,
            "index_generation": self.index_generation,
            "sentences": [s.to_dict() for s in self.sentences],
            "supported_share": self.supported_share,
            "dropped": [s.to_dict() for s in self.dropped],
            "model": self.model,
            "standalone": self.standalone,
            "current_to": self.current_to,
            "timeline": [asdict(e) for e in self.timeline],
            "comparison": asdict(self.comparison) if self.comparison else None,
            "thread": self.thread.to_dict() if self.thread else None,
            "parts": list(self.parts),
        }

    def to_markdown(self) -> str:
        """The answer with its sources as footnotes, ready to paste into a briefing."""
        from bot.export import answer_markdown

        return answer_markdown(self.to_dict())


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0  # chunks written (embedded) by this run
    embedded: int = 0  # texts sent to the embedding model
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed, "
            f"{len(self.failed)} failed; {self.chunks} chunks written in {self.seconds:.1f} s"
        )

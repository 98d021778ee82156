"""What the page tests share: a stub bot (no models) and a check for live markup."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.records import Answer, Citation, IngestReport
from bot.settings import Settings

UNSAFE = '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=1">'
PART_ONE = Citation(
    1,
    "d",
    "Doc",
    "/x/d.md",
    "2024-01-01",
    "EU",
    "Part one.",
    0,
    9,
    0.9,
    "c",
    "Part one.",
    0,
    [(0, 9)],
)


def no_live_markup(rendered: str) -> None:
    assert "<script" not in rendered and "<img" not in rendered
    assert "onerror=" not in rendered.replace("onerror=&quot;", "")
    assert "\n\n" not in rendered, "a blank line would end the HTML block in the chat"


class _Answerer:
    def __init__(self, mode: str) -> None:
        self.name = mode


class StubBot:
    """Streams a fixed answer (``deltas`` then an Answer citing ``citation``) and fakes ingest
    by file name: .txt fails, same* is unchanged, anything else is added in 2 chunks."""

    def __init__(
        self,
        data_dir: Path,
        fail: Exception | None = None,
        deltas: Sequence[str] = ("Part one", " [1]."),
        citation: Citation = PART_ONE,
    ) -> None:
        self.settings = Settings(data_dir=data_dir)
        self.fail = fail
        self.deltas = tuple(deltas)
        self.citation = citation
        self.seen: list[tuple] = []
        self.ingested: list[Path] = []

    def answerer_for(self, mode, settings=None):
        return _Answerer(mode)

    def stream(self, question, history=None, filters=None, answerer=None):
        self.seen.append((question, history, filters))
        self.answered_by = answerer.name if answerer else ""
        if self.fail:
            raise self.fail
        yield from self.deltas
        text = "".join(self.deltas).strip()
        yield Answer(question, text, [self.citation], False, [], {"total": 0.2})

    def ingest(self, paths, prune=True, on_wait=None):
        path = Path(paths[0])
        self.ingested.append(path)
        report = IngestReport()
        if path.suffix == ".txt":
            report.failed.append((str(path), "not valid UTF-8 (byte 3)"))
        elif path.name.startswith("same"):
            report.unchanged.append(path.stem)
        else:
            report.added.append(path.stem)
            report.chunks = 2
        return report

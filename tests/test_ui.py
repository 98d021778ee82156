"""The page's HTML and logic without a browser: escaping, highlights, links, streaming, errors,
filters and uploads (a stub bot stands in for the models)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from bot.errors import AccordError, SourceError
from bot.records import Answer, Chunk, Citation, IngestReport, Passage
from bot.sources import LOADERS
from bot.ui import (
    UPLOAD_SUFFIXES,
    ChatPage,
    answer_html,
    answer_text_html,
    citation_card,
    filters_summary,
    highlight,
    make_filters,
    passage_html,
    safe_filename,
    source_links,
    upload_results_html,
)

UNSAFE = '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=1">'


def no_live_markup(rendered: str) -> None:
    assert "<script" not in rendered and "<img" not in rendered
    assert "onerror=" not in rendered.replace("onerror=&quot;", "")
    assert "\n\n" not in rendered, "a blank line would end the HTML block in the chat"


def test_highlight_marks_spans_and_escapes_everything():
    text = f"Intro {UNSAFE}. The UK hosted the summit. Outro."
    start = text.index("The UK")
    end = text.index("Outro") - 1
    rendered = highlight(text, [(start, end)])
    no_live_markup(rendered)
    assert '<mark class="accord-quote">The UK hosted the summit.</mark>' in rendered
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in rendered


def test_highlight_merges_overlaps_and_clips_out_of_range_spans():
    rendered = highlight("abcdefghij", [(2, 5), (4, 7), (8, 99), (-3, 1), (6, 6)])
    assert rendered == (
        '<mark class="accord-quote">a</mark>b<mark class="accord-quote">cdefg</mark>h'
        '<mark class="accord-quote">ij</mark>'
    )


def test_passage_layout_headings_and_blank_lines():
    rendered = highlight("# Title\n\n## Where\n\nBody text.\n", [])
    assert rendered.startswith('<span class="accord-h">Title</span><br>')
    assert '<span class="accord-h">Where</span><br>Body text.' in rendered
    assert "<br><br>" not in rendered


def test_long_passage_shows_a_window_around_the_quote_and_the_whole_on_demand():
    passage = (
        ("Filler sentence number one. " * 40)
        + "The quoted claim is here. "
        + ("Trailing words again. " * 40)
    )
    start = passage.index("The quoted")
    rendered = passage_html(passage, [(start, start + len("The quoted claim is here."))])
    window, whole = rendered.split("<details", 1)
    assert window.count("The quoted claim") == 1 and "… " in window and " …" in window
    assert len(re.sub("<[^>]+>", "", window)) < len(passage) / 2
    assert "Show the whole passage" in whole and whole.count("Filler sentence") == 40


def test_citation_card_uses_document_offsets_and_escapes_metadata():
    passage = "# Heading\n\nFirst sentence. The quoted <b>claim</b>. Last."
    offset = 1000
    start = offset + passage.index("The quoted")
    end = offset + passage.index(" Last")
    citation = Citation(
        number=2,
        doc_id="d",
        title="<i>Title</i>",
        source="/data/uploads/doc<x>.md",
        date="2024-01-01",
        issuer="Issuer <u>",
        quote="The quoted <b>claim</b>.",
        start=start,
        end=end,
        score=0.8,
        chunk_id="c",
        passage=passage,
        passage_start=offset,
        spans=[(start, end)],
    ).to_dict()
    card = citation_card(citation, "a1", {"sources": ["javascript:alert(1)", "https://ex.org/p"]})
    no_live_markup(card)
    assert card.startswith('<article class="accord-card" id="a1-2">')
    assert "&lt;i&gt;Title&lt;/i&gt;" in card and "Issuer &lt;u&gt;" in card
    assert '<mark class="accord-quote">The quoted &lt;b&gt;claim&lt;/b&gt;.</mark>' in card
    assert "doc&lt;x&gt;.md" in card and "/data/uploads" not in card  # no server paths
    assert "javascript:" not in card
    assert 'href="https://ex.org/p"' in card


@pytest.mark.parametrize(
    ("source", "meta", "expected", "absent"),
    [
        ("https://www.gov.uk/x", {}, ['href="https://www.gov.uk/x"', "gov.uk&nbsp;↗"], []),
        (
            "/abs/path/file.md",
            {"sources": ["https://a.org/1", "https://b.org/2"]},
            ["file.md", 'href="https://a.org/1"', "+1"],
            ["/abs/path"],
        ),
        ("/abs/f.md", {"sources": "javascript:alert(1)"}, ["f.md"], ["javascript", "href"]),
        ("data:text/html,hi", {}, [], ["href"]),
        ('https://x.org/"onmouseover="alert(1)', {}, ["&quot;onmouseover=&quot;"], []),
    ],
)
def test_source_links(source, meta, expected, absent):
    rendered = source_links(source, meta)
    for piece in expected:
        assert piece in rendered
    for piece in absent:
        assert piece not in rendered


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "The **Seoul Statement** was *agreed* [1].",
            "The <strong>Seoul Statement</strong> was <em>agreed</em>",
        ),
        ("see [the pledge](javascript:alert) here", "see the pledge here"),
        ("see [it](javascript:alert(1)) here", "see [it](javascript:alert(1)) here"),
        ("window.__pwned and window.__pwned", "window.__pwned and window.__pwned"),
        ("logo ![alt text](https://example.com/pixel.png)", "logo alt text"),
        ("a [link](https://x.org/a?b=1&c=2)", 'href="https://x.org/a?b=1&amp;c=2"'),
        ("snake_case_name and 2 * 3 * 4", "snake_case_name and 2 * 3 * 4"),
        ("**<script>x</script>**", "<strong>&lt;script&gt;x&lt;/script&gt;</strong>"),
    ],
)
def test_markdown_from_the_sources_is_rendered_safely(source, expected):
    rendered = answer_text_html(source, "u")
    assert expected in rendered
    assert 'href="javascript' not in rendered and "<img" not in rendered


def test_answer_markers_link_to_cards_of_the_same_answer():
    rendered = answer_text_html(
        "One [1]. Two [2][3].\n\nNext <b>para</b> [1].", "u9", {1: 'Title "q"'}
    )
    assert rendered.count('<a class="accord-cite"') == 4
    assert 'href="#u9-1"' in rendered and 'href="#u9-3"' in rendered
    assert 'title="Title &quot;q&quot;"' in rendered
    assert rendered.count("<p>") == 2 and "&lt;b&gt;para&lt;/b&gt;" in rendered


def _passage(doc_id: str, title: str, text: str, **metadata) -> Passage:
    chunk = Chunk(f"{doc_id}:0", doc_id, 0, text, 0, len(text), 3, [], title, metadata)
    return Passage(chunk, 0.5)


def test_abstained_answer_says_so_and_lists_closest_passages():
    answer = Answer(
        "Where?",
        "Not covered.",
        abstained=True,
        passages=[
            _passage(
                "d1",
                "Doc one",
                "Some <em>text</em>.",
                issuer="G7",
                date="2023-10-30",
                source="/corpus/d1.md",
                sources=["https://g7.example/one"],
            ),
            _passage("d2", "Doc two", "More."),
        ],
    ).to_dict()
    rendered = answer_html(answer, "u1")
    assert "accord-abstained" in rendered and "No answer in the indexed documents" in rendered
    assert rendered.count('class="accord-card accord-closest"') == 2
    assert "&lt;em&gt;text&lt;/em&gt;" in rendered and "accord-cite" not in rendered
    first = rendered.split('id="u1-p2"')[0]
    assert '<span class="accord-issuer">G7</span>' in first
    assert '<span class="accord-date">2023-10-30</span>' in first
    assert "d1.md" in first and 'href="https://g7.example/one"' in first


def test_citation_cards_link_the_references_of_their_passage():
    passage = _passage("d", "Doc", "Part one.", sources=["https://ref.example/d"])
    citation = Citation(1, "d", "Doc", "/x/d.md", "", "", "Part one.", 0, 9, 0.9, "d:0")
    answer = Answer("q", "Part one [1].", [citation], passages=[passage]).to_dict()
    rendered = answer_html(answer, "u2")
    assert 'href="https://ref.example/d"' in rendered and "d.md" in rendered


def test_filters_are_validated_and_summarised():
    assert make_filters() == {}
    filters = make_filters(["European Union"], "2024-01-01", None, ["eu-ai-act"])
    assert filters == {
        "issuers": ["European Union"],
        "date_from": "2024-01-01",
        "doc_ids": ["eu-ai-act"],
    }
    assert filters_summary(filters, {"eu-ai-act": "The EU AI Act"}) == (
        "issuer European Union · from 2024-01-01 · document The EU AI Act"
    )
    with pytest.raises(AccordError, match="not a date"):
        make_filters(date_to="next week")


@pytest.mark.parametrize(
    ("picked", "expected"),
    [
        ("2024-03-05", "2024-03-05"),
        (" 2024-03-05 00:00:00 ", "2024-03-05"),
        (dt.datetime(2024, 3, 5, 23, 59), "2024-03-05"),
        (dt.date(2024, 3, 5), "2024-03-05"),
        (dt.datetime(2024, 3, 5, tzinfo=dt.UTC).timestamp(), "2024-03-05"),
        (1709596800, "2024-03-05"),
        ("2024", "2024"),
    ],
)
def test_date_picker_values_become_days(picked, expected):
    assert make_filters(date_from=picked) == {"date_from": expected}


def test_uploads_accept_exactly_what_the_loaders_read():
    assert set(UPLOAD_SUFFIXES) == set(LOADERS)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.md", "report.md"),
        ("../../etc/passwd", "passwd"),
        (".hidden.md", "hidden.md"),
        ("C:\\Users\\me\\notes.TXT", "notes.txt"),
        ("we ird<>name.pdf", "we ird_name.pdf"),
        ("", "upload"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_upload_results_table_escapes_names_and_counts():
    rendered = upload_results_html(
        [("<b>a</b>.md", "added", "2 chunks"), ("b.txt", "failed", "not valid UTF-8")]
    )
    assert "1 of 2 files indexed; 1 failed" in rendered
    assert "&lt;b&gt;a&lt;/b&gt;.md" in rendered and "✗ failed" in rendered


# ---------------------------------------------------------------- page logic with a stub bot


class _Settings:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir


class StubBot:
    def __init__(self, data_dir: Path, fail: Exception | None = None) -> None:
        self.settings = _Settings(data_dir)
        self.fail = fail
        self.seen: list[tuple] = []
        self.ingested: list[Path] = []

    def stream(self, question, history=None, filters=None):
        self.seen.append((question, history, filters))
        if self.fail:
            raise self.fail
        yield "Part one"
        yield " [1]."
        citation = Citation(
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
        yield Answer(question, "Part one [1].", [citation], False, [], {"total": 0.2})

    def ingest(self, paths, prune=True):
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


def test_respond_streams_then_renders_the_final_answer(data_dir):
    bot = StubBot(data_dir)
    page = ChatPage(bot)
    states = [[dict(e) for e in log] for log in page.respond("  Where   now? ", [])]
    assert len(states) == 4  # question + placeholder, two deltas, final answer
    assert "Searching the documents" in states[0][-1]["html"]
    assert "accord-streaming" in states[1][-1]["html"] and "Part one" in states[1][-1]["html"]
    final = states[-1]
    assert final[0]["text"] == "Where now?" and final[0]["ok"]
    assert final[-1]["ok"] and 'class="accord-card"' in final[-1]["html"]
    assert "accord-streaming" not in final[-1]["html"]
    # The next question carries the conversation as plain text.
    list(page.respond("And then?", final))
    assert bot.seen[-1][1] == [
        {"role": "user", "content": "Where now?"},
        {"role": "assistant", "content": "Part one [1]."},
    ]


def test_user_errors_appear_in_the_chat_and_stay_out_of_history(data_dir):
    page = ChatPage(StubBot(data_dir, fail=AccordError("nothing is indexed; run ingest.py")))
    log = list(page.respond("Anything?", []))[-1]
    assert "accord-error" in log[-1]["html"] and "run ingest.py" in log[-1]["html"]
    assert ChatPage.history(log) == []


def test_unexpected_errors_say_where_to_look(data_dir):
    page = ChatPage(StubBot(data_dir, fail=RuntimeError("boom")))
    log = list(page.respond("Anything?", []))[-1]
    assert "RuntimeError" in log[-1]["html"] and "server log" in log[-1]["html"]


def test_empty_question_does_nothing(data_dir):
    assert list(ChatPage(StubBot(data_dir)).respond("   ", [])) == []


def test_uploads_are_copied_then_ingested_with_a_result_per_file(data_dir, tmp_path):
    bot = StubBot(data_dir)
    page = ChatPage(bot)
    good = tmp_path / "good.md"
    good.write_text("# Good\n\nText.\n")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff")
    same = tmp_path / "same.md"
    same.write_text("x")
    odd = tmp_path / "notes.docx"
    odd.write_bytes(b"PK")
    progress = []
    rows = page.ingest_uploads(
        [good, bad, same, odd], progress=lambda *a, **k: progress.append(a[0])
    )
    assert rows == [
        ("good.md", "added", "2 chunks, as good"),
        ("bad.txt", "failed", "not valid UTF-8 (byte 3)"),
        ("same.md", "unchanged", "already indexed with the same content"),
        ("notes.docx", "failed", rows[3][2]),
    ]
    assert "unsupported file type .docx" in rows[3][2]
    assert bot.ingested == [data_dir / "uploads" / n for n in ("good.md", "bad.txt", "same.md")]
    assert sorted(p.name for p in (data_dir / "uploads").iterdir()) == ["good.md", "same.md"]
    assert progress[0] == (0, 4) and progress[-1] == (4, 4)


def test_a_failed_update_restores_the_previous_upload(data_dir, tmp_path):
    bot = StubBot(data_dir)
    uploads = data_dir / "uploads"
    uploads.mkdir(parents=True)
    (uploads / "doc.txt").write_text("old, indexed version")
    new = tmp_path / "doc.txt"
    new.write_bytes(b"\xff new broken version")
    rows = ChatPage(bot).ingest_uploads([new])
    assert rows[0][1] == "failed"
    assert (uploads / "doc.txt").read_text() == "old, indexed version"


def test_ask_api_accepts_json_strings_and_rejects_wrong_shapes(data_dir):
    class AskBot(StubBot):
        def ask(self, question, history=None, filters=None):
            self.seen.append((question, history, filters))
            return Answer(question, "ok", [], False, [], {})

    bot = AskBot(data_dir)
    page = ChatPage(bot)
    data = page.ask_api("q", '[{"role": "user", "content": "hi"}]', '{"issuers": ["G7"]}')
    assert data["text"] == "ok" and data["filters"]["issuers"] == ["G7"]
    assert bot.seen[-1] == ("q", [{"role": "user", "content": "hi"}], {"issuers": ["G7"]})
    with pytest.raises(AccordError, match="history must be a JSON list"):
        page.ask_api("q", {"role": "user"})
    with pytest.raises(AccordError, match="not valid JSON"):
        page.ask_api("q", None, "{issuers")


def test_source_error_type_is_an_accord_error():
    # The upload path reports SourceError reasons; they must be AccordErrors to be shown.
    assert issubclass(SourceError, AccordError)


# ---------------------------------------------------------------- the read/write lock


class LockProbeBot(StubBot):
    """Before each event it produces, checks that an upload could not take the index now."""

    page: ChatPage

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.writer_refused: list[bool] = []

    def stream(self, question, history=None, filters=None):
        for event in super().stream(question, history, filters):
            try:
                with self.page.lock.writing(timeout=0):
                    self.writer_refused.append(False)
            except AccordError:
                self.writer_refused.append(True)
            yield event


def test_the_read_lock_is_held_while_the_bot_produces_the_answer(data_dir):
    bot = LockProbeBot(data_dir)
    page = bot.page = ChatPage(bot)
    list(page.respond("Where?", []))
    assert bot.writer_refused == [True, True, True]


def test_an_abandoned_stream_does_not_hold_the_read_lock(data_dir):
    page = ChatPage(StubBot(data_dir))
    stream = page.respond("Where?", [])
    next(stream)  # the question and the placeholder
    next(stream)  # the first piece of the answer: the bot is paused mid-answer
    # The reader stops reading (a closed tab) and the generator stays alive: an upload must
    # still get the index at once, not wait for garbage collection.
    with page.lock.writing(timeout=0):
        pass
    stream.close()

"""The page logic with a stub bot (bot/ui/page.py): streaming, errors, filters, the API, and
an upload that never waits for a question."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.errors import AccordError, SourceError
from bot.records import Answer
from bot.ui import (
    ChatPage,
    filters_summary,
    make_filters,
)
from tests.ui_support import StubBot


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
    # The page keeps the answer as Answer.to_dict() (the one serialiser) and its filters.
    kept = final[-1]["answer"]
    assert set(kept) == set(Answer("q", "t").to_dict()) | {"filters"}
    assert kept["citations"] == [bot.citation.to_dict()] and kept["filters"] == {}
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


def test_ask_api_accepts_json_strings_and_rejects_wrong_shapes(data_dir):
    class AskBot(StubBot):
        def ask(self, question, history=None, filters=None, answerer=None):
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


# ---------------------------------------------------------------- questions and uploads at once


class ClosingBot(StubBot):
    """Records whether its stream was closed before it finished."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.closed = False

    def stream(self, question, history=None, filters=None, answerer=None):
        try:
            yield from super().stream(question, history, filters)
        except GeneratorExit:
            self.closed = True
            raise


def test_an_upload_goes_through_while_an_answer_is_half_streamed(data_dir, tmp_path):
    # The page holds no lock of its own (the Bot protects its index): a reader who stops
    # reading mid-answer (a closed tab) holds nothing up, and the answer still completes.
    bot = StubBot(data_dir)
    page = ChatPage(bot)
    stream = page.respond("Where?", [])
    next(stream)  # the question and the placeholder
    next(stream)  # the first piece of the answer: the bot is paused mid-answer
    doc = tmp_path / "doc.md"
    doc.write_text("# Doc\n\nText.\n")
    assert page.ingest_uploads([doc]) == [("doc.md", "added", "2 chunks, as doc")]
    assert list(stream)[-1][-1]["ok"]


def test_a_page_stream_that_is_dropped_closes_the_bots_stream(data_dir):
    bot = ClosingBot(data_dir)
    stream = ChatPage(bot).respond("Where?", [])
    next(stream)
    next(stream)
    stream.close()
    assert bot.closed


def test_a_question_that_cannot_be_asked_shows_why_and_stays_out_of_history(data_dir):
    page = ChatPage(StubBot(data_dir))
    answered = list(page.respond("Where?", []))[-1]
    log = ChatPage.failed_turn(answered, "<b>When?</b>", "date_from='soon' is not a date")
    assert [e["role"] for e in log] == ["user", "assistant", "user", "assistant"]
    assert log[2]["html"] == '<div class="accord-q">&lt;b&gt;When?&lt;/b&gt;</div>'
    assert "accord-error" in log[3]["html"] and "is not a date" in log[3]["html"]
    assert ChatPage.history(log) == ChatPage.history(answered) and len(answered) == 2


def test_the_page_offers_only_the_modes_it_was_given_and_says_why(data_dir):
    from bot.modes import ModeOption
    from bot.settings import Settings

    bot = StubBot(data_dir)
    bot.settings = Settings(data_dir=data_dir, answer_mode="ollama")
    page = ChatPage(bot, modes=[ModeOption("extractive", "extractive (no model)")])
    assert page.default_mode() == "extractive (no model)"
    assert "ACCORD_ANSWER_MODE=ollama does not work here" in page.unavailable[0]
    list(page.respond("Where?", [], None, "extractive (no model)"))
    assert bot.answered_by == "extractive"
    log = list(page.respond("Where?", [], None, "ollama · llama3"))[-1]
    assert "not available here" in log[-1]["text"]
    with pytest.raises(AccordError, match="not available here"):
        page.ask_api("Where?", None, None, "ollama")


def test_local_is_listed_as_not_installed_with_the_command_that_adds_it(data_dir, monkeypatch):
    """`make chat` does not build llama.cpp: the selector still lists `local`, says how to get
    it, and asking in it says the same instead of answering from another mode."""
    from bot import local_llm

    monkeypatch.setattr(local_llm, "available", lambda: False)
    stub = StubBot(data_dir)
    page = ChatPage(stub)
    assert page.mode_labels() == [
        "extractive (no model)",
        "local · not installed (run: make local-model)",
    ]
    assert page.default_mode() == "extractive (no model)"
    assert page.mode_list()[1] == {
        "mode": "local",
        "label": "local · not installed (run: make local-model)",
        "available": False,
        "enable": "make local-model",
    }
    assert any("make local-model" in reason for reason in page.unavailable)
    log = list(page.respond("Where?", [], None, page.mode_labels()[1]))[-1]
    assert "run `make local-model`" in log[-1]["text"] and not log[-1]["ok"]
    assert not hasattr(stub, "answered_by"), "nothing answered in another mode"
    with pytest.raises(AccordError, match="make local-model"):
        page.ask_api("Where?", None, None, "local")
    # Where llama.cpp is installed, local is a working mode like any other.
    monkeypatch.setattr(local_llm, "available", lambda: True)
    page = ChatPage(StubBot(data_dir))
    assert [m["mode"] for m in page.mode_list()] == ["extractive", "local"]
    assert all(m["available"] for m in page.mode_list())

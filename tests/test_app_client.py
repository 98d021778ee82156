"""The page's API through the real client (gradio_client), and app.py's start-up path."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
FIXTURE_CORPUS = Path(__file__).parent / "fixtures" / "corpus"

# Every event on the page has an explicit api_name; only these three are public.
PUBLIC = {"/ask", "/modes", "/status", "/documents", "/export"}
ALL_NAMES = {
    "ask",
    "modes",
    "status",
    "documents",
    "refresh",
    "chat",
    "use_example",
    "chat_example",
    "new_chat",
    "clear_chat",
    "active_filters",
    "clear_filters",
    "like",
    "comment",
    "upload",
    "export",
    "export_files",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_app_module():
    spec = importlib.util.spec_from_file_location("accord_app", PROJECT / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def served(page_server):
    return page_server


@pytest.fixture
def client(api_client):
    return api_client


def test_ask_returns_structured_citations(client):
    data = client.predict("Where was the first AI safety summit held?", [], {}, api_name="/ask")
    assert isinstance(data, dict)
    assert data["abstained"] is False
    assert "Bletchley Park" in data["text"] and "[1]" in data["text"]
    first = data["citations"][0]
    assert first["number"] == 1
    assert first["doc_id"] == "bletchley-summit"
    assert first["title"] == "Test fixture: the Bletchley Park summit"
    assert first["issuer"] == "UK government" and first["date"] == "2023-11-01"
    assert first["source"].endswith("bletchley-summit.md")
    assert "Bletchley Park" in first["quote"]
    # The spans locate each quoted sentence inside the passage the reader is shown.
    offset = first["passage_start"]
    quoted = [first["passage"][s - offset : e - offset] for s, e in first["spans"]]
    assert quoted and all(q and q in first["quote"] for q in quoted)
    # Every [n] in the text has a citation with that number.
    numbers = {c["number"] for c in data["citations"]}
    assert numbers == set(range(1, len(numbers) + 1))
    assert data["closest"], "the passages the answer was built from come back too"
    cited = {p["chunk_id"]: p for p in data["closest"]}[first["chunk_id"]]
    assert (cited["issuer"], cited["date"]) == ("UK government", "2023-11-01")
    assert cited["sources"][0].startswith("https://www.gov.uk/")


def test_ask_with_keyword_arguments_and_defaults(client):
    data = client.predict(
        question="Which country hosted the first AI Safety Summit?", api_name="/ask"
    )
    assert data["citations"][0]["doc_id"] == "bletchley-summit"


def test_ask_applies_filters(client):
    data = client.predict(
        "When do the bans apply?", [], {"issuers": ["European Union"]}, api_name="/ask"
    )
    assert data["citations"], data["text"]
    assert {c["doc_id"] for c in data["citations"]} == {"eu-ai-act"}
    assert {c["issuer"] for c in data["citations"]} == {"European Union"}
    assert data["filters"]["issuers"] == ["European Union"]
    # A filter that excludes every document leaves nothing to answer from.
    data = client.predict(
        "When do the bans apply?", [], {"doc_ids": ["chip-export-controls"]}, api_name="/ask"
    )
    assert all(c["doc_id"] == "chip-export-controls" for c in data["citations"])


def test_ask_follow_up_uses_history(client):
    first = client.predict("Where was the first AI safety summit held?", api_name="/ask")
    history = [
        {"role": "user", "content": "Where was the first AI safety summit held?"},
        {"role": "assistant", "content": first["text"]},
    ]
    data = client.predict("How many countries signed it?", history, None, api_name="/ask")
    assert data["abstained"] is False
    assert data["citations"][0]["doc_id"] == "bletchley-summit"


def test_ask_returns_a_thread_that_a_client_passes_back(client):
    first = client.predict("What did the G7 publish on 30 October 2023?", api_name="/ask")
    assert first["thread"]["doc_ids"] == ["hiroshima-process"]
    history = [
        {"role": "user", "content": "What did the G7 publish?"},
        {"role": "assistant", "content": "A code [1].", "metadata": first["thread"]},
    ]
    # "supervises" alone would find the EU AI Office; the thread keeps to the G7 text
    data = client.predict("Who supervises it?", history, None, api_name="/ask")
    assert {c["doc_id"] for c in data["citations"]} == {"hiroshima-process"}
    parts = client.predict(
        "When did the EU AI Act enter into force, and what did the Zorblax Accord require?",
        api_name="/ask",
    )["parts"]
    assert [p["answered"] for p in parts] == [True, False]


def test_ask_abstains_with_closest_passages(client):
    data = client.predict("What is the capital of Peru?", [], {}, api_name="/ask")
    assert data["abstained"] is True
    assert data["citations"] == []
    assert data["closest"] and all("text" in p for p in data["closest"])


@pytest.mark.parametrize(
    ("question", "history", "filters", "message"),
    [
        ("", [], {}, "question is empty"),
        ("When?", [], {"date_from": "yesterday"}, "not a date"),
        ("When?", [], {"country": "France"}, "unknown filter"),
        ("When?", [{"speaker": "me"}], {}, "history must be a list"),
    ],
)
def test_ask_reports_user_errors_as_messages(client, question, history, filters, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        client.predict(question, history, filters, api_name="/ask")


def test_status_and_documents(client):
    status = client.predict(api_name="/status")
    assert status["documents"] == 4 and status["chunks"] >= 4
    assert "European Union" in status["issuers"]
    assert status["last_ingest"]
    docs = client.predict(api_name="/documents")
    assert {d["doc_id"] for d in docs} == {
        "bletchley-summit",
        "chip-export-controls",
        "eu-ai-act",
        "hiroshima-process",
    }
    assert all(d["title"] and d["chunks"] >= 1 for d in docs)


def test_modes_and_a_generated_answer_through_ask(client):
    modes = client.predict(api_name="/modes")
    assert [m["mode"] for m in modes][:2] == ["extractive", "local"]
    result = client.predict(
        "Who hosted the first AI Safety Summit?", [], {}, "local", api_name="/ask"
    )
    assert result["mode"] == "local" and result["model"].endswith(".gguf")
    # Every sentence comes back checked, its citations as numbers of structured citations.
    numbers = {c["number"] for c in result["citations"]}
    assert result["sentences"]
    for s in result["sentences"]:
        assert {"text", "citations", "support", "supported", "reason"} <= set(s)
        if s["supported"]:
            assert set(s["citations"]) <= numbers
    with pytest.raises(Exception, match="not available here"):
        client.predict("Who hosted it?", [], {}, "gpt-9", api_name="/ask")


def test_every_event_has_an_explicit_api_name(served, client):
    names = {fn.api_name for fn in served.fns.values()}
    assert names == ALL_NAMES
    public = set(client.view_api(return_format="dict", print_info=False)["named_endpoints"])
    assert public == PUBLIC


def test_basic_auth_from_accord_auth(indexed_dir):
    from gradio_client import Client

    from bot import Bot
    from bot.ui import launch

    app_module = load_app_module()
    auth = app_module.parse_auth("reader:s3cret:with-colon")
    assert auth == ("reader", "s3cret:with-colon")
    app = launch(
        Bot(data_dir=indexed_dir), port=free_port(), auth=auth, prevent_thread_lock=True, quiet=True
    )
    try:
        with pytest.raises(Exception):  # noqa: B017 - the client's error type varies
            Client(app.local_url, verbose=False)
        client = Client(app.local_url, auth=auth, verbose=False)
        assert client.predict(api_name="/status")["documents"] == 4
    finally:
        app.close()


@pytest.mark.parametrize("value", ["nopassword", ":pw", "user:", "user"])
def test_bad_accord_auth_is_a_clear_error(value):
    from bot.errors import ConfigError

    app_module = load_app_module()
    with pytest.raises(ConfigError, match="user:password"):
        app_module.parse_auth(value)
    assert app_module.parse_auth("") is None


def test_app_defaults_bind_to_loopback():
    args = load_app_module().parse_args([])
    assert (args.host, args.port, args.data_dir, args.no_ingest) == ("127.0.0.1", 7860, None, False)
    with pytest.raises(SystemExit):
        load_app_module().parse_args(["--port", "70000"])


def test_app_ingests_the_corpus_before_launching(tmp_path, monkeypatch, embedder, capsys):
    """app.py brings the index up to date with corpus/ and then serves it on 127.0.0.1."""
    import bot.ui

    app_module = load_app_module()
    calls = []
    monkeypatch.setattr(bot.ui, "launch", lambda b, **kw: calls.append((b, kw)))
    monkeypatch.setenv("ACCORD_CORPUS_DIR", str(FIXTURE_CORPUS))
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    monkeypatch.delenv("ACCORD_AUTH", raising=False)
    monkeypatch.delenv("ACCORD_API_KEY", raising=False)
    data = tmp_path / "data"

    assert app_module.main(["--data-dir", str(data), "--port", "7999"]) == 0
    ((served_bot, options),) = calls
    assert options == {
        "host": "127.0.0.1", "port": 7999, "auth": None, "api_key": None, "mcp": True
    }
    assert served_bot.status()["documents"] == 4
    assert "4 added" in capsys.readouterr().err

    # A second start finds nothing to do; --no-ingest skips the check entirely.
    assert app_module.main(["--data-dir", str(data)]) == 0
    assert "4 unchanged" in capsys.readouterr().err
    assert app_module.main(["--data-dir", str(data), "--no-ingest"]) == 0
    assert "unchanged" not in capsys.readouterr().err


def test_app_refuses_a_malformed_accord_auth(tmp_path, monkeypatch, capsys):
    app_module = load_app_module()
    monkeypatch.setenv("ACCORD_AUTH", "just-a-user")
    assert app_module.main(["--data-dir", str(tmp_path / "data"), "--no-ingest"]) == 2
    assert "ACCORD_AUTH must look like user:password" in capsys.readouterr().err


def test_app_rebuilds_an_index_made_with_other_chunking(tmp_path, monkeypatch, embedder, capsys):
    """A stale index (e.g. after an upgrade changed chunking) is rebuilt, not refused."""
    import bot.ui
    from bot import Bot

    app_module = load_app_module()
    monkeypatch.setattr(bot.ui, "launch", lambda b, **kw: None)
    monkeypatch.setenv("ACCORD_CORPUS_DIR", str(FIXTURE_CORPUS))
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    monkeypatch.delenv("ACCORD_AUTH", raising=False)
    data = tmp_path / "data"
    Bot(data_dir=data, chunk_tokens=200).ingest([FIXTURE_CORPUS])

    assert app_module.main(["--data-dir", str(data)]) == 0
    err = capsys.readouterr().err
    assert "--rebuild" in err and "Rebuilding the index" in err and "4 added" in err

"""The same code path against a real `chroma run` server started by the test."""

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot import Bot
from bot.errors import StoreError
from tests.conftest import FIXTURE_CORPUS

pytestmark = pytest.mark.server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(folder: Path, port: int, log) -> subprocess.Popen:
    """`chroma run` on ``folder`` and ``port``, returned once it answers its heartbeat."""
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"},
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                pytest.fail(Path(log.name).read_text())
            time.sleep(0.2)
    proc.kill()
    pytest.fail("chroma run did not become ready in 60 s")


@pytest.fixture
def chroma_server(tmp_path):
    port = free_port()
    log = open(tmp_path / "chroma.log", "w")
    proc = start_chroma(tmp_path / "server-data", port, log)
    state = {"proc": proc}
    yield f"http://127.0.0.1:{port}", state
    state["proc"].terminate()
    state["proc"].wait(timeout=10)
    log.close()


def test_ingest_and_ask_through_a_chroma_server(chroma_server, data_dir, monkeypatch):
    url, _ = chroma_server
    monkeypatch.setenv("ACCORD_CHROMA_URL", url)  # the documented switch, no other change
    bot = Bot(data_dir=data_dir)
    report = bot.ingest([FIXTURE_CORPUS])
    assert len(report.added) == 4
    assert bot.status()["store"] == url
    assert not (data_dir / "index" / "chroma").exists()  # vectors live on the server

    answer = Bot(data_dir=data_dir).ask("Where was the first AI safety summit held?")
    assert answer.citations[0].doc_id == "bletchley-summit"
    again = Bot(data_dir=data_dir).ingest([FIXTURE_CORPUS])
    assert len(again.unchanged) == 4 and again.chunks == 0


def test_a_server_that_stops_and_comes_back_under_a_running_page(chroma_server, data_dir, tmp_path):
    """While the server is down the page says so, in the chat, in bounded time; once it is
    back the same page (same Bot, no restart) answers again."""
    from bot.ui.page import ChatPage

    url, state = chroma_server
    bot = Bot(data_dir=data_dir, chroma_url=url)
    bot.ingest([FIXTURE_CORPUS / "eu-ai-act.md"])
    page = ChatPage(bot)
    question = "When do the EU bans apply?"

    def last_turn() -> dict:
        *_, log_ = page.respond(question, [], {})
        return log_[-1]

    assert last_turn()["ok"]
    state["proc"].terminate()
    state["proc"].wait(timeout=10)

    down = last_turn()
    assert not down["ok"] and "chroma run" in down["text"], down["text"]
    with pytest.raises(StoreError, match="chroma run"):
        Bot(data_dir=data_dir, chroma_url=url).ask(question)

    port = int(url.rsplit(":", 1)[1])
    with open(tmp_path / "chroma-again.log", "w") as log:
        state["proc"] = start_chroma(tmp_path / "server-data", port, log)
        back = last_turn()
    assert back["ok"], back["text"]
    assert back["answer"]["citations"][0]["doc_id"] == "eu-ai-act"

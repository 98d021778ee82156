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


@pytest.fixture
def chroma_server(tmp_path):
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    log = open(tmp_path / "chroma.log", "w")
    proc = subprocess.Popen(
        [
            chroma,
            "run",
            "--path",
            str(tmp_path / "server-data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail((tmp_path / "chroma.log").read_text())
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not become ready in 60 s")
    yield url, proc
    proc.terminate()
    proc.wait(timeout=10)
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


def test_a_stopped_server_gives_a_clear_error(chroma_server, data_dir):
    url, proc = chroma_server
    bot = Bot(data_dir=data_dir, chroma_url=url)
    bot.ingest([FIXTURE_CORPUS / "eu-ai-act.md"])
    proc.terminate()
    proc.wait(timeout=10)
    with pytest.raises(StoreError, match="chroma run"):
        Bot(data_dir=data_dir, chroma_url=url).ask("When do the EU bans apply?")

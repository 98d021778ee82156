"""Shared fixtures: an offline guard, a data dir per test, and models loaded once per session."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
for name in list(os.environ):
    if name.startswith("ACCORD_"):
        del os.environ[name]

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_CORPUS = FIXTURES / "corpus"
PROJECT = Path(__file__).resolve().parent.parent


def _is_loopback(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class NetworkBlocked(RuntimeError):
    pass


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        raise NetworkBlocked(f"test tried to reach {address!r}: only loopback is allowed")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        raise NetworkBlocked(f"test tried to reach {address!r}: only loopback is allowed")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def block_network(monkeypatch):
    """Every test runs with non-loopback connections refused."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch) -> Path:
    """Each test gets its own data dir, also as ACCORD_DATA_DIR for code that reads env."""
    path = tmp_path / "data"
    monkeypatch.setenv("ACCORD_DATA_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def embedder():
    from bot.embeddings import get_embedder
    from bot.offline import prepare

    prepare(PROJECT / "data")
    return get_embedder("minilm")


@pytest.fixture(scope="session")
def indexed_dir(tmp_path_factory, embedder) -> Path:
    """A data dir holding the fixture corpus, ingested once for the session (read-only)."""
    from bot import Bot

    path = tmp_path_factory.mktemp("indexed") / "data"
    report = Bot(data_dir=path).ingest([FIXTURE_CORPUS])
    assert report.ok and len(report.added) == 4
    return path


@pytest.fixture
def indexed_bot(indexed_dir):
    from bot import Bot

    return Bot(data_dir=indexed_dir)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the fixture corpus, for tests that edit or delete files."""
    target = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, target)
    return target


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def page_server(indexed_dir, tmp_path_factory):
    """The page over the fixture corpus (the session's read-only index), served once for every
    test that talks to it through gradio_client or plain HTTP."""
    from bot import Bot
    from bot.ui import launch

    os.environ.setdefault("GRADIO_TEMP_DIR", str(tmp_path_factory.mktemp("gradio")))
    app = launch(Bot(data_dir=indexed_dir), port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture(scope="session")
def api_client(page_server):
    from gradio_client import Client

    return Client(page_server.local_url, verbose=False)


GUARD_AUTH = ("reader", "s3cret")
GUARD_KEY = "accord-test-key"


@pytest.fixture(scope="session")
def guarded_server(indexed_dir, tmp_path_factory):
    """The page with ACCORD_AUTH and ACCORD_API_KEY set (``GUARD_AUTH``, ``GUARD_KEY``), served
    once for the exposure, MCP and OpenAI API tests that check the login."""
    from bot import Bot
    from bot.ui import launch

    os.environ.setdefault("GRADIO_TEMP_DIR", str(tmp_path_factory.mktemp("gradio")))
    app = launch(
        Bot(data_dir=indexed_dir),
        port=free_port(),
        auth=GUARD_AUTH,
        api_key=GUARD_KEY,
        prevent_thread_lock=True,
        quiet=True,
    )
    try:
        yield app
    finally:
        app.close()


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of our own for the session (tests/pg.py). Skipped, saying why, when
    PostgreSQL is not installed, except in CI (CI=true), where it must be."""
    from tests.pg import PostgresServer, unavailable

    reason = unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs PostgreSQL: {reason}")
        pytest.skip(reason)
    server = PostgresServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def catalog_url(postgres):
    """A fresh, empty database on the session's server for one test."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return postgres.url.rsplit("/", 1)[0] + f"/{name}"

"""The LLM answer mode through the real ChatOpenAI client, against a loopback server that
speaks the OpenAI streaming API (no model can be downloaded here; llama.cpp takes minutes to
build). The server replies with a fixed text citing passages out of order, so the test checks
what Accord adds: the prompt it sends, renumbering while streaming, and the citation check."""

import http.server
import json
import threading

import pytest

from bot import Bot
from bot.errors import ModelError

REPLY = [
    "The Bletchley Declaration was signed by twenty-eight countries and the EU [",
    "3]. The summit was held at Bletchley Park in November 2023 [1].",
]


class OpenAIStyle(http.server.BaseHTTPRequestHandler):
    requests: list[dict] = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in REPLY:
            chunk = {
                "id": "x",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "stub",
                "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args):
        pass


@pytest.fixture
def llm_url():
    OpenAIStyle.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OpenAIStyle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_llm_answers_are_renumbered_and_checked(indexed_dir, llm_url):
    bot = Bot(
        data_dir=indexed_dir,
        answer_mode="openai",
        llm_base_url=llm_url,
        llm_model="stub",
        llm_max_tokens=77,
    )
    events = list(bot.stream("Who signed the Bletchley Declaration?"))
    *deltas, answer = events
    assert "".join(deltas).strip() == answer.text
    assert answer.text.count("[1]") == 1 and answer.text.count("[2]") == 1
    assert answer.text.index("[1]") < answer.text.index("[2]")  # first use gets number 1
    assert answer.mode == "openai" and not answer.abstained
    assert answer.citations[0].number == 1 and answer.citations[0].quote
    assert len(answer.support) == 2

    (request,) = OpenAIStyle.requests
    assert request["model"] == "stub" and request["stream"] is True
    assert request["max_tokens"] == 77  # without it llama.cpp's server runs to the context end
    prompt = request["messages"][-1]["content"]
    assert '<source id="1"' in prompt and "Bletchley" in prompt
    assert prompt.endswith("Question: Who signed the Bletchley Declaration?")


def test_llm_is_not_called_when_the_documents_do_not_cover_the_question(indexed_dir, llm_url):
    bot = Bot(data_dir=indexed_dir, answer_mode="openai", llm_base_url=llm_url, llm_model="stub")
    assert bot.ask("What is a good recipe for tiramisu?").abstained
    assert OpenAIStyle.requests == []


def test_an_unreachable_llm_is_a_clear_error(indexed_dir):
    bot = Bot(
        data_dir=indexed_dir,
        answer_mode="openai",
        llm_base_url="http://127.0.0.1:9/v1",
        llm_model="stub",
    )
    with pytest.raises(ModelError, match="ACCORD_LLM_BASE_URL"):
        bot.ask("Who signed the Bletchley Declaration?")


class Silent(http.server.BaseHTTPRequestHandler):
    """A server that takes the request and never answers: a hung endpoint."""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        threading.Event().wait(30)

    def log_message(self, *args):
        pass


def test_a_hanging_llm_is_a_clear_error_within_the_timeout(indexed_dir):
    import time

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Silent)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    bot = Bot(
        data_dir=indexed_dir,
        answer_mode="openai",
        llm_base_url=f"http://127.0.0.1:{server.server_address[1]}/v1",
        llm_model="stub",
        llm_timeout=1.5,
    )
    started = time.monotonic()
    try:
        with pytest.raises(ModelError, match="failed|took more than"):
            bot.ask("Who signed the Bletchley Declaration?")
        assert time.monotonic() - started < 15  # bounded by the timeout, not the server
    finally:
        server.shutdown()


def test_a_follow_up_is_rewritten_by_the_model_and_the_rewrite_is_searched(indexed_dir, llm_url):
    global REPLY
    bot = Bot(data_dir=indexed_dir, answer_mode="openai", llm_base_url=llm_url, llm_model="stub")
    history = [
        {"role": "user", "content": "Who signed the Bletchley Declaration?"},
        {"role": "assistant", "content": "Twenty-eight countries and the EU [1]."},
    ]
    saved, REPLY = REPLY, ["Which countries signed the Bletchley ", "Declaration in 2023?"]
    try:
        answer = bot.ask("Which ones?", history)
    finally:
        REPLY = saved
    condense, answering = OpenAIStyle.requests
    assert "standalone question" in condense["messages"][0]["content"]
    assert condense["max_tokens"] == 64
    assert "Last question: Which ones?" in condense["messages"][-1]["content"]
    assert answer.standalone == "Which countries signed the Bletchley Declaration in 2023?"
    assert answer.to_dict()["standalone"] == answer.standalone
    # the rewritten question found the passage the bare follow-up could not name
    assert answer.passages[0].chunk.doc_id == "bletchley-summit"

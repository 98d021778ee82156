"""The OpenAI-compatible chat API through the real `openai` client, on the page's server."""

from __future__ import annotations

import openai
import pytest

from bot.openai_api import conversation
from tests.conftest import GUARD_KEY

QUESTION = "Where was the first AI safety summit held?"


def client(server, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=server.local_url.rstrip("/") + "/v1", api_key=key, max_retries=0)


def test_a_plain_call_and_a_follow_up(page_server):
    api = client(page_server)
    reply = api.chat.completions.create(
        model="accord-extractive", messages=[{"role": "user", "content": QUESTION}]
    )
    content = reply.choices[0].message.content
    assert reply.model == "accord-extractive" and reply.choices[0].finish_reason == "stop"
    text, sources = content.split("\n\n**Sources**\n\n")
    assert "Bletchley Park" in text and "[1]" in text
    assert sources.startswith("- [1] Test fixture: the Bletchley Park summit — UK government")
    citations = reply.model_extra["citations"]
    assert citations[0]["number"] == 1 and citations[0]["doc_id"] == "bletchley-summit"
    assert citations[0]["quote"] in sources
    checks = reply.model_extra["accord"]
    assert checks["mode"] == "extractive" and checks["abstained"] is False
    assert checks["sentences"] and all(s["supported"] for s in checks["sentences"])

    # The client sends the whole answer back, sources block and all: the follow-up leans on it.
    follow = api.chat.completions.create(
        model="accord",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": content},
            {
                "role": "user",
                "content": [{"type": "text", "text": "How many countries signed it?"}],
            },
        ],
    )
    assert follow.model_extra["accord"]["abstained"] is False
    assert follow.model_extra["citations"][0]["doc_id"] == "bletchley-summit"


def test_a_streamed_call(page_server):
    stream = client(page_server).chat.completions.create(
        model="accord-extractive",
        messages=[{"role": "user", "content": "When do the bans of the EU AI Act apply?"}],
        stream=True,
        extra_body={"filters": {"as_of": "2024-12-31"}},  # Accord's filters ride along
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content or "" for c in chunks]
    assert sum(1 for p in pieces if p) >= 2, "the answer arrives in pieces"
    text = "".join(pieces)
    assert "[1]" in text and "\n\n**Sources**\n\n- [1] Test fixture: the EU AI Act" in text
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["citations"][0]["doc_id"] == "eu-ai-act"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    # The checked answer gained an "As of" opening after its sentences streamed: it is sent
    # whole, so the text the citations number is in the stream.
    assert "\n\nChecked answer: As of 2024-08-01, its bans apply from 2 February 2025" in text


def test_models_and_refusals(page_server):
    api = client(page_server)
    ids = [m.id for m in api.models.list()]
    assert ids[0] == "accord-extractive" and "accord-local" in ids  # llama.cpp is installed here
    with pytest.raises(openai.NotFoundError, match="unknown model 'gpt-4o'"):
        api.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    with pytest.raises(openai.BadRequestError, match="last message must be the user's question"):
        api.chat.completions.create(
            model="accord", messages=[{"role": "assistant", "content": "Hello"}]
        )


def test_a_wrong_or_missing_key_is_refused_when_accord_auth_is_set(guarded_server):
    for key in ("wrong-key", ""):
        with pytest.raises(openai.AuthenticationError, match="API key"):
            client(guarded_server, key or "-").models.list()
    api = client(guarded_server, GUARD_KEY)
    assert [m.id for m in api.models.list()][0] == "accord-extractive"
    with pytest.raises(openai.AuthenticationError):
        client(guarded_server, "wrong-key").chat.completions.create(
            model="accord", messages=[{"role": "user", "content": QUESTION}]
        )


def test_messages_become_question_and_history():
    question, history = conversation(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Who hosted it?"},
            {"role": "assistant", "content": "The UK [1].\n\n**Sources**\n\n- [1] A — B."},
            {"role": "tool", "content": "{}"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "And "}, {"type": "text", "text": "when?"}],
            },
        ]
    )
    assert question == "And when?"
    assert history == [
        {"role": "user", "content": "Who hosted it?"},
        {"role": "assistant", "content": "The UK [1]."},
    ]

"""The MCP tools through the real MCP client (the `mcp` package) over the streamable HTTP
transport the page's server serves at /mcp."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.conftest import GUARD_KEY

QUESTION = "Where was the first AI safety summit held?"


def session(url: str, calls, key: str | None = None):
    """Open an MCP session to ``url`` + /mcp, run ``calls(session)`` in it, return its result."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def run():
        headers = {"Authorization": f"Bearer {key}"} if key else None
        async with httpx.AsyncClient(headers=headers, timeout=60) as http:
            async with streamable_http_client(
                url.rstrip("/") + "/mcp", http_client=http
            ) as streams:
                async with ClientSession(streams[0], streams[1]) as mcp_session:
                    await mcp_session.initialize()
                    return await calls(mcp_session)

    return asyncio.run(run())


def test_tools_are_listed_typed_and_documented(page_server):
    async def calls(s):
        return (await s.list_tools()).tools

    tools = {t.name: t for t in session(page_server.local_url, calls)}
    assert set(tools) == {"ask", "search", "list_documents"}
    for tool in tools.values():
        assert tool.description and tool.annotations.read_only_hint
    ask = tools["ask"].input_schema
    assert "AI governance" in tools["ask"].description
    assert "checked against the passage it cites" in tools["ask"].description
    assert ask["required"] == ["question"]
    assert set(ask["properties"]) == {"question", "history", "filters", "as_of"}
    assert all(p.get("description") for p in ask["properties"].values())
    assert set(ask["$defs"]["SearchFilters"]["properties"]) == {
        "issuers", "date_from", "date_to", "doc_ids",
    }  # fmt: skip
    search = tools["search"].input_schema
    assert search["required"] == ["query"]
    assert search["properties"]["k"] == {
        "default": 5, "description": "how many passages to return", "maximum": 20,
        "minimum": 1, "title": "K", "type": "integer",
    }  # fmt: skip


def test_ask_returns_a_cited_answer_and_its_checks(page_server):
    async def calls(s):
        asked = await s.call_tool("ask", {"question": QUESTION})
        follow = await s.call_tool(
            "ask",
            {
                "question": "How many countries signed it?",
                "history": [
                    {"role": "user", "content": QUESTION},
                    {"role": "assistant", "content": asked.structured_content["answer"]},
                ],
            },
        )
        return asked, follow

    asked, follow = session(page_server.local_url, calls)
    assert not asked.is_error
    text = asked.content[0].text
    assert "Bletchley Park" in text and "[1]" in text
    assert "**Sources**\n\n- [1] Test fixture: the Bletchley Park summit — UK government" in text
    assert "sentences checked against the passages they cite" in text
    facts = asked.structured_content
    assert facts["abstained"] is False and facts["mode"] == "extractive"
    assert facts["citations"][0]["doc_id"] == "bletchley-summit"
    assert facts["citations"][0]["quote"] in text
    assert facts["sentences"] and all(s["supported"] for s in facts["sentences"])
    assert follow.structured_content["citations"][0]["doc_id"] == "bletchley-summit"


def test_search_list_documents_and_errors(page_server):
    async def calls(s):
        return (
            await s.call_tool("list_documents", {}),
            await s.call_tool(
                "search",
                {
                    "query": "export controls on chips",
                    "k": 2,
                    "filters": {"issuers": ["US government"]},
                },
            ),
            await s.call_tool("ask", {"question": "When?", "as_of": "yesterday"}),
            await s.call_tool("search", {"query": "chips", "filters": {"country": "France"}}),
        )

    docs, found, bad_day, bad_filter = session(page_server.local_url, calls)
    ids = {d["doc_id"] for d in docs.structured_content["documents"]}
    assert ids == {"bletchley-summit", "chip-export-controls", "eu-ai-act", "hiroshima-process"}
    assert (
        "- eu-ai-act: Test fixture: the EU AI Act in brief — European Union" in docs.content[0].text
    )
    passages = found.structured_content["passages"]
    assert 1 <= len(passages) <= 2
    assert {p["doc_id"] for p in passages} == {"chip-export-controls"}
    assert passages[0]["issuer"] == "US government" and passages[0]["rank"] == 1
    assert found.content[0].text.startswith("[1] Test fixture: export controls on AI chips")
    assert bad_day.is_error and "not a date" in bad_day.content[0].text
    assert bad_filter.is_error and "country" in bad_filter.content[0].text


def test_the_mcp_route_needs_the_api_key_when_accord_auth_is_set(guarded_server):
    url = guarded_server.local_url
    for key in (None, "wrong-key"):
        with pytest.raises(BaseException):  # noqa: B017 - the 401 surfaces in an exception group
            session(url, lambda s: s.list_tools(), key)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        refused = httpx.post(url.rstrip("/") + "/mcp", json={}, headers=headers, timeout=10)
        assert refused.status_code == 401 and "ACCORD_API_KEY" in refused.text

    async def calls(s):
        return await s.call_tool("list_documents", {})

    docs = session(url, calls, GUARD_KEY)
    assert len(docs.structured_content["documents"]) == 4

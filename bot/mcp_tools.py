"""Accord as MCP tools, served beside the page: ``ask``, ``search`` and ``list_documents``.

Research assistants, editors and desktop chat clients (Claude Desktop, Cursor, VS Code, Open
WebUI) reach knowledge bases through the Model Context Protocol. The tools are served over the
protocol's streamable HTTP transport at ``/mcp`` on the page's own server
(:func:`mcp_routes`), behind the same login as every other route (``bot.ui.app.ApiKeyRequired``).

Gradio can turn an app's API endpoints into MCP tools itself, but its integration is written for
``mcp<2``, and the registry carries only mcp 2, whose server API changed; so the tools are
registered here with mcp 2's :class:`~mcp.server.MCPServer`, over the same :class:`ChatPage`
the page and ``/ask`` use. Each tool returns text for the model to read (the answer with its
``[n]`` markers and a sources block) and the same facts as structured content for programs.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import ConfigDict, Field
from typing_extensions import TypedDict

from bot.errors import AccordError
from bot.export import checked, cited, sentence_checks, sources_block
from bot.ui.page import ChatPage, make_filters

log = logging.getLogger(__name__)

PATH = "/mcp"  # where the tools are served, on the page's server

INSTRUCTIONS = (
    "Accord answers questions about AI diplomacy and international AI governance (summits and "
    "declarations, the EU AI Act, the Council of Europe convention, UN, OECD, G7 and UNESCO "
    "texts, US executive orders, AI safety institutes, export controls) from the documents "
    "indexed on this server, never from general knowledge. Every sentence of an answer carries "
    "a numbered [n] citation and is checked against the passage it cites; when the documents "
    "do not cover a question, Accord says so instead of guessing."
)
ASK_DOC = (
    "Answer a question about AI diplomacy and international AI governance from the indexed "
    "documents. Every sentence of the answer ends with [n] markers that point at the numbered "
    "sources listed after it (title, issuer, date, link and the quoted sentence), and each "
    "sentence has been checked against the passage it cites. When the documents do not cover "
    "the question the answer says so (abstained) instead of guessing. Quote the markers and "
    "sources when you pass the answer on."
)
SEARCH_DOC = (
    "Search the indexed AI-governance documents (hybrid: meaning and keywords) and return the "
    "best passages with their source metadata (title, issuer, date, link), without composing "
    "an answer. Use it to read around a topic or to find a document to filter on."
)
LIST_DOC = (
    "List the documents Accord can answer from: doc_id (to use in filters), title, issuer, "
    "date and source of each."
)


class Turn(TypedDict):
    """One earlier turn of the conversation."""

    role: Literal["user", "assistant"]
    content: str


class SearchFilters(TypedDict, total=False):
    """Limits on which documents are searched; every field is optional."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # a misspelt filter is an error, not ignored

    issuers: Annotated[list[str], Field(description="only documents by these issuers")]
    date_from: Annotated[str, Field(description="only documents dated on or after YYYY-MM-DD")]
    date_to: Annotated[str, Field(description="only documents dated on or before YYYY-MM-DD")]
    doc_ids: Annotated[list[str], Field(description="only these documents (see list_documents)")]


class Tools:
    """The three tools as plain methods over a :class:`ChatPage` (testable without MCP)."""

    def __init__(self, page: ChatPage) -> None:
        self.page = page

    def ask(
        self,
        question: Annotated[str, Field(description="the question, in plain words")],
        history: Annotated[
            list[Turn] | None,
            Field(description="earlier turns, oldest first, for follow-up questions"),
        ] = None,
        filters: Annotated[
            SearchFilters | None, Field(description="which documents to answer from")
        ] = None,
        as_of: Annotated[
            str | None,
            Field(description="answer only from documents dated on or before this day, YYYY-MM-DD"),
        ] = None,
    ) -> CallToolResult:
        try:
            chosen = _filters(filters, as_of)
            data = self.page.ask_api(question, list(history or []), chosen or None)
        except AccordError as exc:
            return _error(str(exc))
        parts = [data["text"], sources_block(data["citations"]), checked(data)]
        facts = {
            "answer": data["text"],
            "citations": cited(data),
            "abstained": data["abstained"],
            "mode": data["mode"],
            "model": data["model"],
            "sentences": sentence_checks(data),
        }
        return CallToolResult(content=[_text("\n\n".join(p for p in parts if p))],
                              structured_content=facts)  # fmt: skip

    def search(
        self,
        query: Annotated[str, Field(description="what to look for, in plain words")],
        k: Annotated[int, Field(description="how many passages to return", ge=1, le=20)] = 5,
        filters: Annotated[
            SearchFilters | None, Field(description="which documents to search")
        ] = None,
    ) -> CallToolResult:
        try:
            passages = self.page.bot.search(query, filters=_filters(filters) or None, k=k)
        except AccordError as exc:
            return _error(str(exc))
        found = []
        for i, passage in enumerate(passages, start=1):
            data = passage.to_dict()
            section = passage.chunk.heading_path
            found.append(
                {k: data[k] for k in ("doc_id", "title", "issuer", "date", "source", "text")}
                | {"rank": i, "section": section, "score": round(float(data["score"]), 4)}
            )
        lines = [
            f"[{p['rank']}] {p['title']} — {', '.join(x for x in (p['issuer'], p['date']) if x)}"
            f"{' — ' + p['section'] if p['section'] else ''} ({p['source']})\n{p['text'].strip()}"
            for p in found
        ]
        text = "\n\n".join(lines) or "No passage matches this query and these filters."
        return CallToolResult(content=[_text(text)], structured_content={"passages": found})

    def list_documents(self) -> CallToolResult:
        docs = self.page.documents()
        lines = [
            f"- {d['doc_id']}: {d['title']} — "
            + ", ".join(x for x in (d["issuer"], d["date"]) if x)
            for d in docs
        ]
        text = "\n".join(lines) or "Nothing is indexed yet."
        return CallToolResult(content=[_text(text)], structured_content={"documents": docs})


def _filters(filters: dict[str, Any] | None, as_of: str | None = None) -> dict[str, Any]:
    filters = dict(filters or {})
    unknown = set(filters) - set(SearchFilters.__annotations__)
    if unknown:
        raise AccordError(
            f"unknown filter {sorted(unknown)[0]!r}; use issuers, date_from, date_to, doc_ids"
        )
    return make_filters(
        filters.get("issuers"),
        filters.get("date_from"),
        filters.get("date_to"),
        filters.get("doc_ids"),
        as_of,
    )


def _text(text: str) -> TextContent:
    return TextContent(type="text", text=text)


def _error(message: str) -> CallToolResult:
    return CallToolResult(content=[_text(message)], is_error=True)


def build_server(page: ChatPage):
    """The MCP server with Accord's three tools."""
    from mcp.server import MCPServer

    tools = Tools(page)
    server = MCPServer(
        name="accord",
        title="Accord — cited answers on AI governance",
        instructions=INSTRUCTIONS,
        log_level="WARNING",
    )
    reading = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    for fn, doc in ((tools.ask, ASK_DOC), (tools.search, SEARCH_DOC),
                    (tools.list_documents, LIST_DOC)):  # fmt: skip
        server.add_tool(fn, name=fn.__name__, description=doc, annotations=reading)
    return server


def mcp_routes(page: ChatPage, host: str):
    """The routes to add to the page's app, and the lifespan that runs the MCP sessions."""
    from mcp.server.transport_security import TransportSecuritySettings

    server = build_server(page)
    # Stateless: each request stands alone, so a restart or a second worker breaks no client.
    # Host checks (DNS-rebinding protection) stay on for a loopback server; a server exposed
    # on purpose (--host 0.0.0.0) is reached under names it cannot know, and has the login.
    security = (
        None
        if host in ("127.0.0.1", "localhost", "::1")
        else TransportSecuritySettings(enable_dns_rebinding_protection=False)
    )
    app = server.streamable_http_app(
        streamable_http_path=PATH,
        stateless_http=True,
        json_response=False,
        transport_security=security,
        host=host,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app) -> AsyncIterator[None]:
        async with server.session_manager.run():
            yield

    return list(app.routes), lifespan

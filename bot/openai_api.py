"""An OpenAI-compatible chat API on the page's server: ``POST /v1/chat/completions`` (streamed
or not) and ``GET /v1/models``.

Chat front-ends and agent frameworks speak this API, so any of them can use Accord as a
"model". The request's ``messages`` become the question (the last user message) and the
history (the turns before it); ``model`` names an answer mode (``accord-extractive``,
``accord-local``, …; plain ``accord`` is the configured one). The answer's text keeps its
``[n]`` markers and ends with a sources block for clients that show only text; the citations
also come as structured data in the extra field ``citations`` (in the last chunk of a stream),
with the verification of each sentence under ``accord``.

With ``ACCORD_AUTH`` set, a request needs ``Authorization: Bearer $ACCORD_API_KEY``
(``bot.ui.app.ApiKeyRequired``). Only the routes live here; :func:`openai_routes` hands them to
the page's app.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from bot.errors import AccordError
from bot.export import checked, cited, sentence_checks, sources_block, strip_sources
from bot.records import Answer
from bot.ui.page import ChatPage, answer_data

log = logging.getLogger(__name__)

PREFIX = "accord"  # model ids are accord-<answer mode>


def model_id(mode: str) -> str:
    return f"{PREFIX}-{mode}"


class RequestError(AccordError):
    """A request this API cannot serve, with the HTTP status and OpenAI error code to send."""

    def __init__(self, message: str, status: int = 400, code: str = "invalid_request") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def error_body(message: str, code: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    """The error object OpenAI clients read (``openai`` raises it as an APIStatusError)."""
    return {"error": {"message": message, "type": kind, "code": code, "param": None}}


def _content(message: dict[str, Any]) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "".join(str(p.get("text") or "") for p in parts)
    return ""


def conversation(messages: Any) -> tuple[str, list[dict[str, str]]]:
    """``messages`` → (question, history): the last message must be the user's question; the
    user and assistant turns before it are the history (system and tool messages are not part
    of Accord's conversation: the documents decide what it says). An assistant turn's sources
    block is dropped, so a follow-up sees the answer as it was written."""
    if not isinstance(messages, list) or not messages:
        raise RequestError("messages must be a non-empty list of {role, content} objects")
    if not all(isinstance(m, dict) for m in messages):
        raise RequestError("every message must be an object with a role and a content")
    last = messages[-1]
    if last.get("role") != "user" or not _content(last).strip():
        raise RequestError("the last message must be the user's question (role 'user')")
    history = []
    for message in messages[:-1]:
        role = message.get("role")
        if role in ("user", "assistant"):
            text = _content(message)
            text = strip_sources(text) if role == "assistant" else text
            history.append({"role": role, "content": text})
    return _content(last), history


class ChatCompletions:
    """The two routes' work, over the page's :class:`ChatPage` (its modes, filters, bot)."""

    def __init__(self, page: ChatPage) -> None:
        self.page = page

    def models(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {
                    "id": model_id(m.mode),
                    "object": "model",
                    "created": 0,
                    "owned_by": PREFIX,
                    "description": m.label,
                }  # fmt: skip
                for m in self.page.modes
            ],
        }

    def mode(self, model: Any) -> str:
        """The answer mode a ``model`` id names; unknown ids are refused (never a silent
        fallback to another mode)."""
        name = str(model or "").strip()
        if name in ("", PREFIX):
            label = self.page.default_mode()
            return next(m.mode for m in self.page.modes if m.label == label)
        for option in self.page.modes:
            if name in (model_id(option.mode), option.mode):
                return option.mode
        known = ", ".join(model_id(m.mode) for m in self.page.modes)
        for option in self.page.installable:
            if name in (model_id(option.mode), option.mode):
                raise RequestError(
                    f"model {name!r} is not installed here: run `{option.enable}`; "
                    f"available: {known}", 404, "model_not_found",
                )  # fmt: skip
        raise RequestError(f"unknown model {name!r}; available: {known}", 404, "model_not_found")

    def _parse(self, body: Any) -> tuple[str, list[dict], str, dict | None]:
        if not isinstance(body, dict):
            raise RequestError("the request body must be a JSON object")
        question, history = conversation(body.get("messages"))
        mode = self.mode(body.get("model"))
        filters = body.get("filters")  # Accord's own extra field, like /ask's
        if filters is not None and not isinstance(filters, dict):
            raise RequestError("filters must be an object (issuers, date_from, date_to, doc_ids)")
        return question, history, mode, filters

    def complete(self, body: Any) -> dict[str, Any]:
        """A whole chat.completion."""
        question, history, mode, filters = self._parse(body)
        data = self.page.ask_api(question, history, filters, mode)
        name = str(body.get("model") or model_id(self.page.answerer(mode).name))
        return {
            "id": _completion_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": name,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": _with_sources(data["text"], data)},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            **_extras(data),
        }

    def stream(self, body: Any) -> Iterator[dict[str, Any]]:
        """chat.completion.chunk objects: the role, the answer's text as it is written, its
        sources block, then a last chunk with ``finish_reason`` and the citations. Request
        errors are raised before the first chunk; later failures end the stream with an
        error object."""
        question, history, mode, filters = self._parse(body)
        answerer = self.page.answerer(mode)
        name = str(body.get("model") or model_id(answerer.name))
        stem = {"id": _completion_id(), "object": "chat.completion.chunk",
                "created": int(time.time()), "model": name}  # fmt: skip

        def chunk(delta: dict[str, Any], finish: str | None = None, **more: Any) -> dict:
            return {**stem, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    **more}  # fmt: skip

        events = self.page.bot.stream(question, history, filters or None, answerer=answerer)
        return self._chunks(events, chunk, filters)

    @staticmethod
    def _chunks(events, chunk, filters) -> Iterator[dict[str, Any]]:
        yield chunk({"role": "assistant", "content": ""})
        streamed = ""
        try:
            for event in events:
                if isinstance(event, Answer):
                    data = answer_data(event, filters or {})
                    tail = _with_sources(data["text"], data)[len(data["text"]) :]
                    if data["text"].strip() != streamed.strip():
                        # the checked answer differs from what streamed (an "As of" opening, a
                        # citation a model forgot): send it whole, since its markers are the
                        # ones the citations number
                        tail = f"\n\nChecked answer: {data['text']}{tail}"
                    if tail:
                        yield chunk({"content": tail})
                    yield chunk({}, "stop", **_extras(data))
                    return
                streamed += event
                yield chunk({"content": event})
        except AccordError as exc:
            yield error_body(str(exc), "accord_error")
        except Exception as exc:  # noqa: BLE001 - the client must hear why the stream ended
            log.exception("streaming a chat completion failed")
            yield error_body(f"something went wrong inside Accord ({type(exc).__name__})",
                             "internal_error", "server_error")  # fmt: skip
        finally:
            events.close()


def _completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex[:24]


def _with_sources(text: str, data: dict[str, Any]) -> str:
    parts = [text, sources_block(data["citations"]), checked(data)]
    return "\n\n".join(p for p in parts if p)


def _extras(data: dict[str, Any]) -> dict[str, Any]:
    """The extra fields: ``citations`` (number, title, issuer, date, section, source, quote)
    and ``accord`` (mode, model, abstained, each sentence's check)."""
    return {
        "citations": cited(data),
        "accord": {
            "mode": data["mode"],
            "model": data["model"],
            "abstained": data["abstained"],
            "sentences": sentence_checks(data),
        },
    }


def openai_routes(page: ChatPage) -> list:
    """The API's routes, to add to the page's FastAPI app."""
    api = ChatCompletions(page)
    router = APIRouter(prefix="/v1")

    @router.get("/models")
    def list_models() -> JSONResponse:
        return JSONResponse(api.models())

    @router.post("/chat/completions")
    async def chat_completions(request: Request):
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse(error_body("the request body is not JSON", "invalid_json"), 400)
        try:
            if isinstance(body, dict) and body.get("stream"):
                chunks = await run_in_threadpool(api.stream, body)
                return StreamingResponse(_sse(chunks), media_type="text/event-stream")
            return JSONResponse(await run_in_threadpool(api.complete, body))
        except RequestError as exc:
            return JSONResponse(error_body(str(exc), exc.code), exc.status)
        except AccordError as exc:
            return JSONResponse(error_body(str(exc), "accord_error"), 400)

    return list(router.routes)


def _sse(chunks: Iterator[dict[str, Any]]) -> Iterator[str]:
    """Server-sent events as OpenAI streams them: ``data: {json}`` per chunk, then
    ``data: [DONE]``. A sync iterator: Starlette runs it in a worker thread."""
    for item in chunks:
        yield f"data: {json.dumps(item, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"

"""The Gradio page's behaviour: event handlers, their wiring, and launch.

Every event has an explicit ``api_name``; only ``/ask``, ``/modes``, ``/status`` and
``/documents`` are public. With :mod:`bot.ui.layout`, the only module that imports gradio; the
package loads it on first use of :func:`build_app` or :func:`launch`.
"""

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from bot.errors import AccordError
from bot.ui.layout import CSS_FILE, HEAD, JS_FILE, Widgets, layout, theme
from bot.ui.page import ChatPage, make_filters
from bot.ui.render import active_filters_html, filters_summary, status_html, upload_results_html

ASK = {"concurrency_limit": 4, "concurrency_id": "accord-ask"}  # questions share four workers
QUIET = {"api_visibility": "private", "show_progress": "hidden"}


def _hidden() -> tuple:
    """The feedback box closed, nothing pending, no note."""
    return gr.Group(visible=False), None, ""


class Events:
    """The page's event handlers: thin adapters from Gradio's values to :class:`ChatPage`."""

    def __init__(self, page: ChatPage) -> None:
        self.page = page

    def refresh(self, issuers_now=None, docs_now=None):
        try:
            status = self.page.status()
            choices = self.page.document_choices()
        except AccordError as exc:  # shown on the page as a notice, in words
            raise gr.Error(str(exc)) from None
        known = {c[1] for c in choices}
        issuers = [i for i in issuers_now or [] if i in status["issuers"]]
        return (
            status_html(status),
            gr.Dropdown(choices=status["issuers"], value=issuers),
            gr.Dropdown(choices=choices, value=[d for d in docs_now or [] if d in known]),
        )

    def active_filters(self, issuers, date_from, date_to, doc_ids, as_of=None):
        try:
            filters = make_filters(issuers, date_from, date_to, doc_ids, as_of)
        except AccordError as exc:
            return gr.HTML(active_filters_html(error=str(exc)), visible=True)
        titles = self.page.titles() if filters.get("doc_ids") else {}
        summary = active_filters_html(filters_summary(filters, titles))
        return gr.HTML(summary, visible=bool(summary))

    def respond(self, question, log_, mode, issuers, date_from, date_to, doc_ids, as_of=None):
        log_ = list(log_ or [])
        if not str(question or "").strip():
            gr.Warning("Type a question first.")
            yield self.page.messages(log_), log_, question
            return
        try:
            filters = make_filters(issuers, date_from, date_to, doc_ids, as_of)
        except AccordError as exc:
            log_ = self.page.failed_turn(log_, question, str(exc))
            yield self.page.messages(log_), log_, question
            return
        for current in self.page.respond(question, log_, filters, mode):
            yield self.page.messages(current), current, ""

    def use_example(self, data: gr.SelectData):
        value = data.value
        return value.get("text", "") if isinstance(value, dict) else str(value or "")

    def new_chat(self):
        return [], [], "", gr.Group(visible=False), None

    def like(self, log_, data: gr.LikeData, request: gr.Request):
        session = getattr(request, "session_hash", "") or ""
        try:
            record = self.page.rate(log_, data.index, data.liked, session=session)
        except AccordError as exc:
            gr.Warning(str(exc))
            return _hidden()
        if record is None or record["rating"] == "cleared":
            return _hidden()
        thanks = "Thanks for the 👍." if record["rating"] == "up" else "Thanks for the 👎."
        pending = {"index": record["message_index"], "rating": record["rating"]}
        return gr.Group(visible=True), pending, f"{thanks} Add a comment to say why (optional):"

    def comment(self, comment, pending, log_, request: gr.Request):
        if not pending:
            gr.Warning("Rate an answer first (thumbs up or down under it).")
            return comment, gr.Group(visible=False), None
        if not str(comment or "").strip():
            gr.Warning("The comment is empty.")
            return comment, gr.Group(visible=True), pending
        session = getattr(request, "session_hash", "") or ""
        try:
            self.page.rate(
                log_, pending["index"], pending["rating"], comment=comment, session=session
            )
        except AccordError as exc:
            gr.Warning(str(exc))
            return comment, gr.Group(visible=True), pending
        gr.Info("Comment saved. Thank you.")
        return "", gr.Group(visible=False), None

    def upload(self, files, issuers_now, docs_now, progress=gr.Progress()):  # noqa: B008
        paths = [getattr(f, "name", f) for f in (files or [])]
        rows = self.page.ingest_uploads(paths, progress=progress)
        return upload_results_html(rows), *self.refresh(issuers_now, docs_now), None

    def clear_filters(self):
        return [], None, None, [], None

    def export_files(self, log_):
        """The download buttons' files: the conversation so far as Markdown and as JSON."""
        return self.page.export(log_, "md"), self.page.export(log_, "json")

    def export(self, answers: list | None = None, kind: str = "markdown") -> str:
        """Answers (as /ask returns them) as one Markdown document with footnoted sources, or
        as JSON when kind is "json"."""
        from bot.export import conversation_json, conversation_markdown

        answers = [a for a in answers or [] if isinstance(a, dict)]
        return conversation_json(answers) if kind == "json" else conversation_markdown(answers)

    def ask(
        self,
        question: str,
        history: list | None = None,
        filters: dict | None = None,
        mode: str | None = None,
    ) -> dict:
        """Answer a question from the indexed documents.

        question: the question. history: earlier turns as [{"role": "user"|"assistant",
        "content": str}]; an assistant turn may carry "metadata": the "thread" its answer
        returned ({"doc_ids": [...], "entities": [...]}), so a follow-up keeps to it.
        filters: {"issuers": [...], "date_from": "YYYY-MM-DD", "date_to": "YYYY-MM-DD",
        "doc_ids": [...]}. mode: an answer mode from /modes (default: the configured one).
        Returns the answer text with [n] markers, "citations" (number, title, source, date,
        issuer, quote, passage, spans...), "sentences" (each checked against its citations:
        support, supported, reason), "abstained", "mode" and "model", "thread" (pass it
        back as the turn's metadata) and the closest passages.
        """
        try:
            return self.page.ask_api(question, history, filters, mode)
        except AccordError as exc:
            raise gr.Error(str(exc)) from None

    def modes(self) -> list:
        """The answer modes: [{"mode", "label", "available"}], the ones that work first; a mode
        listed as not available carries "enable", the command that installs it."""
        return self.page.mode_list()

    def status(self) -> dict:
        """Documents, chunks, last ingest time and issuers in the index."""
        try:
            return self.page.status()
        except AccordError as exc:  # e.g. a shared catalog that does not answer
            raise gr.Error(str(exc)) from None

    def documents(self) -> list:
        """The indexed documents: doc_id, title, issuer, date, source, chunks."""
        try:
            return self.page.documents()
        except AccordError as exc:
            raise gr.Error(str(exc)) from None


def _wire_chat(app, w: Widgets, ev: Events) -> None:
    app.load(ev.refresh, None, [w.status, w.issuers, w.docs], api_name="refresh", **QUIET)
    asking = {"api_visibility": "private", "show_progress": "minimal", **ASK}
    gr.on(
        [w.question.submit, w.ask.click],
        ev.respond,
        [w.question, w.log, w.mode, *w.filters],
        w.chat,
        api_name="chat",
        **asking,
    ).then(ev.export_files, w.log, [w.export_md, w.export_json], api_name="export_files", **QUIET)
    w.chatbot.example_select(
        ev.use_example, None, w.question, api_name="use_example", **QUIET
    ).then(
        ev.respond,
        [w.question, w.log, w.mode, *w.filters],
        w.chat,
        api_name="chat_example",
        **asking,
    )
    w.new.click(ev.new_chat, None, w.reset, api_name="new_chat", **QUIET)
    w.chatbot.clear(ev.new_chat, None, w.reset, api_name="clear_chat", **QUIET)


def _wire_filters_feedback_uploads(w: Widgets, ev: Events) -> None:
    gr.on(
        [c.change for c in w.filters],
        ev.active_filters,
        w.filters,
        w.active,
        api_name="active_filters",
        **QUIET,
    )
    w.clear.click(ev.clear_filters, None, w.filters, api_name="clear_filters", **QUIET)
    w.chatbot.like(
        ev.like, w.log, [w.feedback_box, w.pending, w.feedback_note], api_name="like", **QUIET
    )
    gr.on(
        [w.send_comment.click, w.comment.submit],
        ev.comment,
        [w.comment, w.pending, w.log],
        [w.comment, w.feedback_box, w.pending],
        api_name="comment",
        **QUIET,
    )
    w.files.upload(
        ev.upload,
        [w.files, w.issuers, w.docs],
        [w.upload_result, w.status, w.issuers, w.docs, w.files],
        api_name="upload",
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="accord-ingest",
        show_progress="full",
    )


def _wire_api(ev: Events) -> None:
    gr.api(ev.ask, api_name="ask", **ASK)
    gr.api(ev.modes, api_name="modes")
    gr.api(ev.status, api_name="status")
    gr.api(ev.documents, api_name="documents")
    gr.api(ev.export, api_name="export")


def build_app(bot, examples: Sequence[str] | None = None):
    """The Gradio Blocks page for ``bot``. Launch it with :func:`launch` (which passes the
    theme, CSS and page script: in Gradio 6 those are arguments of ``launch``)."""
    # Gradio keeps uploads and caches in GRADIO_TEMP_DIR (read when the app is built); keep
    # them under the data dir unless the deployment chose a place.
    os.environ.setdefault(
        "GRADIO_TEMP_DIR", str(Path(bot.settings.data_dir).resolve() / "cache" / "gradio")
    )
    page = ChatPage(bot, examples)
    events = Events(page)
    with gr.Blocks(title="Accord — cited answers on AI governance", analytics_enabled=False) as app:
        widgets = layout(page.examples, page.mode_labels(), page.default_mode())
        _wire_chat(app, widgets, events)
        _wire_filters_feedback_uploads(widgets, events)
        _wire_api(events)
    app.accord_page = page  # for tests and embedding
    return app


def launch_options() -> dict[str, Any]:
    """The keyword arguments that make the page self-contained: system fonts, local CSS and
    script, no analytics, no share link, nothing fetched from a CDN."""
    return {
        "theme": theme(),
        "css_paths": [CSS_FILE],
        "js": JS_FILE.read_text(encoding="utf-8"),
        "head": HEAD,
        "share": False,
        "ssr_mode": False,
        "pwa": False,
        "mcp_server": False,
        "enable_monitoring": False,
        "footer_links": ["api"],
        "max_file_size": "50mb",
    }


def launch(
    bot,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    api_key: str | None = None,
    mcp: bool = True,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
    examples: Sequence[str] | None = None,
):
    """Build and serve the page, with the OpenAI-compatible API under ``/v1`` and (``mcp``)
    the MCP tools at ``/mcp``; returns the Blocks (with ``.local_url``) when not blocking.
    With ``auth`` or ``api_key``, those two need ``Authorization: Bearer <api_key>``."""
    from bot.openai_api import openai_routes

    app = build_app(bot, examples)
    page = app.accord_page
    if not quiet:  # say why a configured answer mode is not on offer, before serving
        for reason in page.unavailable:
            print(f"answer modes: {reason}", file=sys.stderr)
        print(f"answer modes: {', '.join(page.mode_labels())}", file=sys.stderr)
    app.queue(default_concurrency_limit=4)
    options = launch_options()
    routes, lifespan = openai_routes(page), None
    if mcp:
        from bot.mcp_tools import mcp_routes

        tools, lifespan = mcp_routes(page, host)
        routes += tools
    from starlette.middleware import Middleware

    middleware = []
    if auth is not None:
        middleware.append(Middleware(LoginRequired))
    if auth is not None or api_key:
        middleware.append(Middleware(ApiKeyRequired, key=api_key or ""))
    options["app_kwargs"] = {"routes": routes, "middleware": middleware}
    if lifespan is not None:
        options["app_kwargs"]["lifespan"] = lifespan
    app.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="Accord: sign in with the user and password from ACCORD_AUTH.",
        prevent_thread_lock=True,
        quiet=quiet,
        **options,
    )
    if not quiet:
        base = app.local_url.rstrip("/")
        print(f"* OpenAI-compatible API: {base}/v1 (models: {base}/v1/models)", file=sys.stderr)
        if mcp:
            print(f"* MCP tools (streamable HTTP): {base}/mcp", file=sys.stderr)
    if not prevent_thread_lock:
        app.block_thread()
    return app


def is_api_path(path: str) -> bool:
    """The routes for programs rather than people: they present a key, not a login cookie."""
    return path == "/v1" or path.startswith("/v1/") or path.rstrip("/") == "/mcp"


class ApiKeyRequired:
    """With ACCORD_AUTH (or ACCORD_API_KEY) set, the OpenAI-compatible API and the MCP tools
    refuse a request without ``Authorization: Bearer <ACCORD_API_KEY>``; with ACCORD_AUTH set
    and no key, they refuse every request and say which variable to set."""

    def __init__(self, app, key: str = "") -> None:
        self.app = app
        self.key = key.encode()

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "") if scope["type"] in ("http", "websocket") else ""
        if is_api_path(path):
            message = self._refusal(scope)
            if message:
                from starlette.responses import JSONResponse

                from bot.openai_api import error_body

                response = JSONResponse(
                    error_body(message, "invalid_api_key"),
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="accord"'},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope) -> str:
        import hmac

        if not self.key:
            return "this server requires a login: set ACCORD_API_KEY on it to use the API"
        header = dict(scope.get("headers") or []).get(b"authorization", b"")
        kind, _, token = header.partition(b" ")
        if kind.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self.key):
            return "a valid API key is required: send Authorization: Bearer <ACCORD_API_KEY>"
        return ""


# What the login form needs before anyone has signed in; nothing in it comes from the index.
LOGIN_FORM_API = {"app_id", "startup-events", "theme.css", "login_check", "user"}


class LoginRequired:
    """With ACCORD_AUTH set, every ``/gradio_api/…`` route but the login form's own refuses a
    request without a signed-in session. Gradio checks the login on most routes itself, but
    not on all (``/cancel``, ``/reset``, ``/token``, ``/runs``, the stream and vibe-editing
    routes): this closes those, and any route a later Gradio adds, by default."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "") if scope["type"] in ("http", "websocket") else ""
        if path.startswith("/gradio_api/"):
            name = path[len("/gradio_api/") :].strip("/").split("/", 1)[0]
            if name not in LOGIN_FORM_API and not self._signed_in(scope):
                from starlette.responses import JSONResponse

                response = JSONResponse({"detail": {"error": "Not authenticated"}}, status_code=401)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _signed_in(scope) -> bool:
        from starlette.requests import HTTPConnection

        app = scope.get("app")
        connection = HTTPConnection(scope)
        cookie_id = getattr(app, "cookie_id", "")
        token = connection.cookies.get(f"access-token-{cookie_id}") or connection.cookies.get(
            f"access-token-unsecure-{cookie_id}"
        )
        return token is not None and token in getattr(app, "tokens", {})

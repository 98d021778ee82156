"""What the chat page does, as plain Python: no Gradio here, so it is tested without a server.

The conversation is a log of entries ``{"role", "text", "html", "ok"}`` (plus ``"answer"``,
``Answer.to_dict()`` with its filters, on answered turns); the page shows their HTML, the bot
sees the text of answered turns only.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.errors import AccordError
from bot.feedback import record_answer_feedback
from bot.retrieval import Filters
from bot.ui.render import (
    answer_html,
    error_html,
    filters_chip,
    question_html,
    streaming_html,
)
from bot.ui.uploads import UploadResult, ingest_uploads

log = logging.getLogger(__name__)

# First-visit questions for the shipped corpus (build_app/launch take others).
EXAMPLES = (
    "What are AI safety institutes?",
    "What is the Council of Europe Framework Convention on AI?",
    "What is the G7 Hiroshima AI Process?",
    "What did Sam Altman propose in 2026?",
)


def picked_day(value: Any) -> str:
    """A date picker's value as YYYY-MM-DD: datetimes and timestamps become days, a string
    keeps its day (a time after it is dropped); anything else is left for ``Filters.of`` to
    judge."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.date):  # datetime is a date too
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(float(value), dt.UTC).strftime("%Y-%m-%d")
    text = str(value).strip()
    return text[:10] if re.match(r"\d{4}-\d\d-\d\d(?:\D|$)", text) else text


def make_filters(
    issuers=None, date_from=None, date_to=None, doc_ids=None, as_of=None
) -> dict[str, Any]:
    """The filter widgets' values as a filters dict holding only what is set, checked by
    ``Filters.of`` (a bad date raises an AccordError naming it)."""
    filters = Filters.of(
        {
            "issuers": [str(i) for i in issuers or []],
            "date_from": picked_day(date_from),
            "date_to": picked_day(date_to),
            "doc_ids": [str(d) for d in doc_ids or []],
            "as_of": picked_day(as_of),
        }
    )
    return {k: v for k, v in asdict(filters).items() if v}


def answer_data(answer, filters: dict[str, Any]) -> dict[str, Any]:
    """What the page keeps of an Answer and ``/ask`` returns: ``Answer.to_dict()`` and the
    filters it was answered under."""
    return dict(answer.to_dict(), filters=dict(filters))


def _entry(role: str, text: str, html: str, ok: bool = False, **more: Any) -> dict[str, Any]:
    return {"role": role, "text": text, "html": html, "ok": ok, **more}


def _error_entry(message: str) -> dict[str, Any]:
    return _entry("assistant", message, error_html(message))


def _json_arg(value: Any, name: str, kind: type) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise AccordError(f"{name} is not valid JSON") from None
    if not isinstance(value, kind):
        raise AccordError(f"{name} must be a JSON {'list' if kind is list else 'object'}")
    return value


class ChatPage:
    """What the page does, independent of Gradio: each method takes and returns plain data."""

    def __init__(self, bot, examples: Sequence[str] | None = None, modes=None) -> None:
        """``modes``: the answer modes to offer (bot.modes.ModeOption); by default those that
        work now, found once here."""
        self.bot = bot
        self.examples = tuple(examples or EXAMPLES)
        self.unavailable: list[str] = []  # why configured modes are not offered
        self.installable: list = []  # modes listed as not installed, with the command to add them
        if modes is None:
            from bot.modes import available_modes, installable_modes

            modes, self.unavailable = available_modes(bot.settings)
            self.installable = installable_modes()
        self.modes = [m for m in modes if m.usable]
        self.installable += [m for m in modes if not m.usable]
        wanted = bot.settings.answer_mode
        if not any(m.mode == wanted for m in self.modes):
            self.unavailable.insert(
                0,
                f"ACCORD_ANSWER_MODE={wanted} does not work here, so the page starts in "
                f"{self.modes[0].mode} mode",
            )
            log.warning("%s", self.unavailable[0])

    # ---- answer modes
    def mode_labels(self) -> list[str]:
        """What the selector lists: the modes that work, then those one command would add."""
        return [m.label for m in self.modes + self.installable]

    def mode_list(self) -> list[dict[str, Any]]:
        """Every listed mode: ``mode``, ``label``, ``available`` and, when it is not, ``enable``
        (the command that installs it)."""
        return [
            {"mode": m.mode, "label": m.label, "available": m.usable}
            | ({} if m.usable else {"enable": m.enable})
            for m in self.modes + self.installable
        ]

    def default_mode(self) -> str:
        """The configured answer mode when it works, else the first (extractive)."""
        wanted = self.bot.settings.answer_mode
        return next((m.label for m in self.modes if m.mode == wanted), self.modes[0].label)

    def answerer(self, choice: str | None):
        """The backend for a selector label or a mode name; unknown choices are refused, so
        an answer never comes silently from another mode."""
        choice = str(choice or "").strip() or self.default_mode()
        for option in self.modes:
            if choice in (option.label, option.mode):
                return self.bot.answerer_for(option.mode, option.settings)
        for option in self.installable:
            if choice in (option.label, option.mode):
                raise AccordError(
                    f"answer mode {option.mode!r} is not installed here: run `{option.enable}` "
                    "(it compiles llama.cpp, about 8 minutes), then restart the page"
                )
        raise AccordError(
            f"answer mode {choice!r} is not available here; choose one of: "
            + ", ".join(m.label for m in self.modes)
        )

    @property
    def data_dir(self) -> Path:
        return Path(self.bot.settings.data_dir)

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    # ---- index facts
    def status(self) -> dict[str, Any]:
        status = self.bot.status()
        return {k: status[k] for k in ("documents", "chunks", "last_ingest", "issuers")}

    def document_choices(self) -> list[tuple[str, str]]:
        docs = self.bot.documents()
        return sorted(((d.title or d.doc_id, d.doc_id) for d in docs), key=lambda c: c[0].lower())

    def titles(self) -> dict[str, str]:
        return {doc_id: title for title, doc_id in self.document_choices()}

    def documents(self) -> list[dict[str, Any]]:
        """The indexed documents: doc_id, title, issuer, date, source, chunks."""
        return [
            {
                "doc_id": d.doc_id,
                "title": d.title,
                "issuer": d.metadata.get("issuer", ""),
                "date": str(d.metadata.get("date", "")),
                "source": d.source,
                "chunks": d.chunks,
            }
            for d in self.bot.documents()
        ]

    # ---- chat
    @staticmethod
    def messages(log_: Sequence[dict]) -> list[dict[str, str]]:
        return [{"role": e["role"], "content": e["html"]} for e in log_]

    @staticmethod
    def history(log_: Sequence[dict]) -> list[dict[str, Any]]:
        """The conversation the bot sees: answered turns only, as text, each answer with the
        thread it leaves (its cited documents and names) so follow-ups keep to it."""
        turns: list[dict[str, Any]] = []
        for e in log_:
            if not e.get("ok"):
                continue
            turn: dict[str, Any] = {"role": e["role"], "content": e["text"]}
            thread = (e.get("answer") or {}).get("thread")
            if thread:
                turn["metadata"] = thread
            turns.append(turn)
        return turns

    @staticmethod
    def failed_turn(log_: Sequence[dict], question: str, message: str) -> list[dict]:
        """The log with a question that could not be asked and the reason (no answer)."""
        return [*log_, _entry("user", question, question_html(question)), _error_entry(message)]

    def respond(
        self,
        question: str,
        log_: list[dict],
        filters: dict[str, Any] | None = None,
        mode: str | None = None,
    ) -> Iterator[list[dict]]:
        """Yield the conversation log after each change: the question, each streamed piece of
        the answer, then the final answer with its source cards (or the error)."""
        question = " ".join(str(question or "").split())
        log_ = list(log_ or [])
        if not question:
            return
        history = self.history(log_)
        user = _entry("user", question, question_html(question))
        uid = "a" + uuid.uuid4().hex[:10]
        filters = filters or {}
        chip = filters_chip(filters, self.titles() if filters.get("doc_ids") else {})
        log_ += [user, _entry("assistant", "", streaming_html("", uid, chip))]
        yield log_
        text, answer = "", None
        try:
            answerer = self.answerer(mode)
            for event in self._events(question, history, filters, answerer):
                if isinstance(event, str):
                    text += event
                    log_[-1] = _entry("assistant", text, streaming_html(text, uid, chip))
                    yield log_
                else:
                    answer = event
        except AccordError as exc:
            log_[-1] = _error_entry(str(exc))
            yield log_
            return
        except Exception as exc:  # noqa: BLE001 - the page must say something, not hang
            log.exception("answering %r failed", question)
            log_[-1] = _error_entry(
                f"something went wrong inside Accord ({type(exc).__name__}); "
                "the details are in the server log"
            )
            yield log_
            return
        data = answer_data(answer, filters)
        user["ok"] = True
        log_[-1] = _entry("assistant", answer.text, answer_html(data, uid, chip), True, answer=data)
        yield log_

    def _events(
        self, question: str, history: list[dict], filters: dict[str, Any], answerer=None
    ) -> Iterator:
        """The bot's stream, closed as soon as the page stops reading it (a closed tab). The
        page needs no lock of its own: each question reads one index snapshot, and an upload
        never waits for a question (see :class:`bot.Bot`)."""
        stream = self.bot.stream(question, history, filters or None, answerer=answerer)
        try:
            yield from stream
        finally:
            stream.close()

    # ---- feedback
    def rate(
        self,
        log_: Sequence[dict],
        index: Any,
        liked: Any,
        comment: str = "",
        session: str = "",
    ) -> dict[str, Any] | None:
        """Append a feedback record for the assistant message at ``index``; None when that
        message is not an answer (an error, a question, a stale index)."""
        if isinstance(index, (list, tuple)):
            index = index[0] if index else -1
        try:
            index = int(index)
        except (TypeError, ValueError):
            return None
        if not 0 <= index < len(log_) or "answer" not in log_[index]:
            return None
        return record_answer_feedback(
            self.data_dir,
            log_[index]["answer"],
            rating=liked,
            comment=comment,
            message_index=index,
            kind="comment" if comment else "rating",
            session=session,
        )

    # ---- upload
    def ingest_uploads(
        self, paths: Sequence[str | Path], progress: Callable[..., Any] | None = None
    ) -> list[UploadResult]:
        """Copy each file into <data_dir>/uploads, ingest it, and say what happened to it."""
        return ingest_uploads(self.bot, self.uploads_dir, paths, progress)

    # ---- export
    @staticmethod
    def answers(log_: Sequence[dict]) -> list[dict[str, Any]]:
        """The conversation's answers (``Answer.to_dict()`` plus filters), oldest first."""
        return [e["answer"] for e in log_ or [] if e.get("answer")]

    def export(self, log_: Sequence[dict], kind: str = "md") -> Path | None:
        """The conversation written to <data_dir>/exports as Markdown ("md") or JSON; None
        while there is no answer to export."""
        from bot.export import conversation_json, conversation_markdown

        answers = self.answers(log_)
        if not answers:
            return None
        folder = self.data_dir / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        body = conversation_json(answers) if kind == "json" else conversation_markdown(answers)
        path = folder / f"accord-conversation-{stamp}-{uuid.uuid4().hex[:6]}.{kind}"
        path.write_text(body, encoding="utf-8")
        return path

    # ---- API
    def ask_api(
        self, question: str, history: Any = None, filters: Any = None, mode: Any = None
    ) -> dict:
        history = _json_arg(history, "history", list) or []
        filters = _json_arg(filters, "filters", dict) or None
        if mode is not None and not isinstance(mode, str):
            raise AccordError("mode must be the name of an answer mode, e.g. 'extractive'")
        answerer = self.answerer(mode)
        answer = self.bot.ask(question, history, filters, answerer=answerer)
        return answer_data(answer, asdict(Filters.of(filters)) if filters else {})

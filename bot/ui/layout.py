"""The page's look: its components, theme and assets (``static/accord.css`` and
``static/accord.js``). Loaded with :mod:`bot.ui.app`, the only other module that imports
gradio."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from bot.ui.render import HEADER

STATIC = Path(__file__).parent / "static"
CSS_FILE = STATIC / "accord.css"
JS_FILE = STATIC / "accord.js"
HEAD = '<meta name="viewport" content="width=device-width, initial-scale=1">'
SYSTEM_FONTS = (
    "system-ui",
    "-apple-system",
    "Segoe UI",
    "Roboto",
    "Helvetica Neue",
    "Arial",
    "Noto Sans",
    "Liberation Sans",
    "sans-serif",
)
MONO_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace")


def theme():
    return gr.themes.Default(
        primary_hue="indigo",
        neutral_hue="slate",
        font=list(SYSTEM_FONTS),
        font_mono=list(MONO_FONTS),
    )


@dataclass
class Widgets:
    """The page's components, as the layout made them."""

    log: Any
    pending: Any
    status: Any
    chatbot: Any
    active: Any
    question: Any
    ask: Any
    new: Any
    feedback_box: Any
    feedback_note: Any
    comment: Any
    send_comment: Any
    issuers: Any
    date_from: Any
    date_to: Any
    docs: Any
    as_of: Any
    clear: Any
    files: Any
    upload_result: Any
    mode: Any
    export_md: Any
    export_json: Any

    @property
    def filters(self) -> list:
        return [self.issuers, self.date_from, self.date_to, self.docs, self.as_of]

    @property
    def chat(self) -> list:
        return [self.chatbot, self.log, self.question]

    @property
    def reset(self) -> list:
        return [self.chatbot, self.log, self.question, self.feedback_box, self.pending]


def _chatbot(examples: Sequence[str]):
    return gr.Chatbot(
        elem_id="accord-chat",
        label="Conversation",
        show_label=False,
        height="62vh",
        min_height=360,
        examples=[{"text": q} for q in examples],
        placeholder=(
            "**Ask about AI diplomacy and governance.** Answers quote the indexed "
            "documents; every claim carries a numbered source you can check."
        ),
        latex_delimiters=[],
        # No "share" (it posts to Hugging Face) and no "copy" (it would copy the message's
        # HTML); the trash icon still clears the chat.
        buttons=[],
        sanitize_html=True,
        render_markdown=True,
        feedback_options=("Like", "Dislike"),
        group_consecutive_messages=False,
        autoscroll=False,  # accord.js scrolls (to the answer's start)
        layout="panel",
    )


def _chat_column(examples: Sequence[str]) -> dict[str, Any]:
    w: dict[str, Any] = {"chatbot": _chatbot(examples)}
    w["active"] = gr.HTML(visible=False, elem_id="accord-active-filters")
    with gr.Row(elem_id="accord-input-row"):
        w["question"] = gr.Textbox(
            show_label=False,
            label="Question",
            lines=1,
            max_lines=4,
            scale=6,
            placeholder="Ask about AI diplomacy or governance…",
            elem_id="accord-question",
            autofocus=True,
        )
        w["ask"] = gr.Button("Ask", variant="primary", scale=1, min_width=72, elem_id="accord-ask")
    with gr.Row():
        w["new"] = gr.Button("New chat", size="sm", variant="secondary", elem_id="accord-new-chat")
        w["export_md"] = gr.DownloadButton(
            "Export (Markdown)", size="sm", variant="secondary", elem_id="accord-export-md"
        )
        w["export_json"] = gr.DownloadButton(
            "Export (JSON)", size="sm", variant="secondary", elem_id="accord-export-json"
        )
    with gr.Group(visible=False, elem_id="accord-feedback") as w["feedback_box"]:
        w["feedback_note"] = gr.Markdown(elem_id="accord-feedback-note")
        w["comment"] = gr.Textbox(
            label="Comment (optional)", lines=2, max_lines=6, elem_id="accord-comment"
        )
        w["send_comment"] = gr.Button("Send comment", size="sm", elem_id="accord-send-comment")
    return w


def _side_column(modes: Sequence[str], default: str) -> dict[str, Any]:
    w: dict[str, Any] = {}
    w["mode"] = gr.Dropdown(
        label="Answer mode",
        choices=list(modes),
        value=default,
        elem_id="accord-mode",
        info="Who writes the answer; every sentence is checked against its source",
        interactive=len(modes) > 1,
    )
    with gr.Accordion("Filters", open=True, elem_id="accord-filters"):
        w["issuers"] = gr.Dropdown(
            label="Issuer",
            multiselect=True,
            choices=[],
            elem_id="accord-issuers",
            info="Only these issuers' documents are searched",
        )
        for key, label in (("date_from", "Dated from"), ("date_to", "Dated to")):
            w[key] = gr.DateTime(
                label=label,
                include_time=False,
                type="string",
                elem_id="accord-" + key.replace("_", "-"),
            )
        w["docs"] = gr.Dropdown(
            label="Documents", multiselect=True, choices=[], elem_id="accord-docs"
        )
        w["as_of"] = gr.DateTime(
            label="As of",
            include_time=False,
            type="string",
            elem_id="accord-as-of",
            info="Answer only from documents dated on or before this day",
        )
        w["clear"] = gr.Button("Clear filters", size="sm", elem_id="accord-clear-filters")
    with gr.Accordion("Add documents", open=False, elem_id="accord-add"):
        w["files"] = gr.File(
            label="Markdown, text, HTML or PDF files",
            file_count="multiple",
            elem_id="accord-upload",
            height=140,
        )
        w["upload_result"] = gr.HTML(elem_id="accord-upload-result")
    return w


def layout(examples: Sequence[str], modes: Sequence[str] = (), default: str = "") -> Widgets:
    """The components, inside the Blocks being built: header, chat column, side column."""
    w: dict[str, Any] = {"log": gr.State([]), "pending": gr.State(None)}
    with gr.Row(elem_id="accord-header"):
        gr.HTML(HEADER, elem_id="accord-title")
        w["status"] = gr.HTML(elem_id="accord-status-line")
    with gr.Row(elem_id="accord-main", equal_height=False):
        with gr.Column(scale=3, min_width=330, elem_id="accord-chat-col"):
            w.update(_chat_column(examples))
        with gr.Column(scale=1, min_width=280, elem_id="accord-side"):
            w.update(_side_column(modes or ["extractive"], default or "extractive"))
    return Widgets(**w)

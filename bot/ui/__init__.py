"""The chat page: a Gradio Blocks app over :class:`bot.Bot`.

- :mod:`bot.ui.markup` — escaping, the documents' markdown, highlighted spans
- :mod:`bot.ui.render` — the chat's HTML: answers, source cards, status, errors
- :mod:`bot.ui.page` — :class:`ChatPage`, what the page does, as plain Python
- :mod:`bot.ui.uploads` — files added on the page: safe names, copies, one result per file
- :mod:`bot.ui.layout` — the Gradio components, theme and assets (``static/``: CSS, script)
- :mod:`bot.ui.app` — the event handlers, their wiring, and launch

Only :mod:`bot.ui.layout` and :mod:`bot.ui.app` import gradio; they are loaded on first use
of :func:`build_app`, :func:`launch` or :func:`launch_options`.
"""

import os

from bot.ui.markup import highlight
from bot.ui.page import EXAMPLES, ChatPage, make_filters
from bot.ui.render import (
    answer_html,
    answer_text_html,
    citation_card,
    closest_card,
    error_html,
    filters_summary,
    passage_html,
    source_links,
    status_html,
    upload_results_html,
)
from bot.ui.uploads import UPLOAD_SUFFIXES, UploadResult, safe_filename

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before layout/app import gradio

_APP_NAMES = ("build_app", "launch", "launch_options")


def __getattr__(name: str):
    if name in _APP_NAMES:
        from bot.ui import app

        return getattr(app, name)
    raise AttributeError(f"module 'bot.ui' has no attribute {name!r}")


__all__ = [
    "EXAMPLES",
    "UPLOAD_SUFFIXES",
    "ChatPage",
    "UploadResult",
    "answer_html",
    "answer_text_html",
    "build_app",
    "citation_card",
    "closest_card",
    "error_html",
    "filters_summary",
    "highlight",
    "launch",
    "launch_options",
    "make_filters",
    "passage_html",
    "safe_filename",
    "source_links",
    "status_html",
    "upload_results_html",
]

"""Escaping, the documents' markdown and highlighted spans (bot/ui/markup.py)."""

from __future__ import annotations

import pytest

from bot.ui import (
    answer_text_html,
    highlight,
)
from tests.ui_support import UNSAFE, no_live_markup


def test_highlight_marks_spans_and_escapes_everything():
    text = f"Intro {UNSAFE}. The UK hosted the summit. Outro."
    start = text.index("The UK")
    end = text.index("Outro") - 1
    rendered = highlight(text, [(start, end)])
    no_live_markup(rendered)
    assert '<mark class="accord-quote">The UK hosted the summit.</mark>' in rendered
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in rendered


def test_highlight_merges_overlaps_and_clips_out_of_range_spans():
    rendered = highlight("abcdefghij", [(2, 5), (4, 7), (8, 99), (-3, 1), (6, 6)])
    assert rendered == (
        '<mark class="accord-quote">a</mark>b<mark class="accord-quote">cdefg</mark>h'
        '<mark class="accord-quote">ij</mark>'
    )


def test_passage_layout_headings_and_blank_lines():
    rendered = highlight("# Title\n\n## Where\n\nBody text.\n", [])
    assert rendered.startswith('<span class="accord-h">Title</span><br>')
    assert '<span class="accord-h">Where</span><br>Body text.' in rendered
    assert "<br><br>" not in rendered


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "The **Seoul Statement** was *agreed* [1].",
            "The <strong>Seoul Statement</strong> was <em>agreed</em>",
        ),
        ("see [the pledge](javascript:alert) here", "see the pledge here"),
        ("see [it](javascript:alert(1)) here", "see [it](javascript:alert(1)) here"),
        ("window.__pwned and window.__pwned", "window.__pwned and window.__pwned"),
        ("logo ![alt text](https://example.com/pixel.png)", "logo alt text"),
        ("a [link](https://x.org/a?b=1&c=2)", 'href="https://x.org/a?b=1&amp;c=2"'),
        ("snake_case_name and 2 * 3 * 4", "snake_case_name and 2 * 3 * 4"),
        ("**<script>x</script>**", "<strong>&lt;script&gt;x&lt;/script&gt;</strong>"),
    ],
)
def test_markdown_from_the_sources_is_rendered_safely(source, expected):
    rendered = answer_text_html(source, "u")
    assert expected in rendered
    assert 'href="javascript' not in rendered and "<img" not in rendered

"""Escaping, markdown and highlighted spans (bot/ui/markup.py): markdown-it-py with raw HTML
off, http(s) links only, nothing fetched, and marks that nest inside the markup."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from bot.ui.markup import highlight, markdown_html
from tests.ui_support import UNSAFE, no_live_markup

VOID = {"br", "img", "hr", "meta", "input"}


class _Nesting(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()


def well_nested(rendered: str) -> bool:
    parser = _Nesting()
    parser.feed(rendered)
    parser.close()
    return not parser.errors and not parser.open


# ---------------------------------------------------------------- answers: block markdown


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "The **Seoul Statement** was *agreed* by _all_ [1].",
            "The <strong>Seoul Statement</strong> was <em>agreed</em> by <em>all</em>",
        ),
        ("Use `ai_act.py` here", "Use <code>ai_act.py</code> here"),
        ("window.__pwned and window.__pwned", "window.__pwned and window.__pwned"),
        ("snake_case_name and 2 * 3 * 4", "snake_case_name and 2 * 3 * 4"),
        ("logo ![alt *text*](https://example.com/pixel.png)", "logo alt <em>text</em>"),
        ("a [link](https://x.org/a?b=1&c=2)", 'href="https://x.org/a?b=1&amp;c=2"'),
        ("see <https://x.org/p>", '<a href="https://x.org/p" class="accord-link"'),
        ("line one\nline two", "<p>line one<br>line two</p>"),
    ],
)
def test_markdown_is_rendered(source, expected):
    rendered = markdown_html(source)
    assert expected in rendered
    assert "<img" not in rendered and "\n" not in rendered and well_nested(rendered)


def test_lists_become_lists_with_their_markers_linked():
    rendered = markdown_html("Two steps:\n\n- ban *social scoring* [1]\n- audit [2]\n\n1. one", "u")
    assert rendered.startswith("<p>Two steps:</p><ul><li>ban <em>social scoring</em> ")
    assert '<li>audit <a class="accord-cite" href="#u-2"' in rendered
    assert "<ol><li>one</li></ol>" in rendered and well_nested(rendered)


@pytest.mark.parametrize(
    "source",
    [
        "**<script>window.__pwned=1</script>**",
        '<div onclick="window.__pwned=1">block html</div>',
        UNSAFE,
        "inline <b>bold</b> and <a href='javascript:x'>a</a>",
        "&lt;script&gt; and &#60;img src=x&#62; as entities",
    ],
)
def test_raw_html_is_shown_as_text(source):
    rendered = markdown_html(source)
    no_live_markup(rendered)
    assert "<div" not in rendered and "<b>" not in rendered and "<a " not in rendered
    assert "&lt;" in rendered


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("see [the pledge](javascript:alert(1)) here", "see [the pledge](javascript:alert(1))"),
        ("see [it](JavaScript:alert`1`) here", "see [it](JavaScript:alert"),
        ("see [it](data:text/html;base64,PHNjcmlwdD4=) here", "see [it](data:text/html"),
        ("see [it](vbscript:msgbox) here", "see [it](vbscript:msgbox) here"),
        ("see [notes](notes.html) and [mail](mailto:a@b.org)", "see notes and mail"),
        ("see <javascript:alert(1)>", "see &lt;javascript:alert(1)&gt;"),
        ("![x](data:image/png;base64,iVBORw0KGgo=) pixel", "x pixel"),
    ],
)
def test_links_that_are_not_http_are_never_clickable(source, shown):
    rendered = markdown_html(source)
    assert shown in rendered
    assert "href" not in rendered and "<img" not in rendered


def test_citation_markers_link_to_cards_and_nothing_else_can_claim_them():
    rendered = markdown_html(
        "[1]: https://evil.example/\n\nClaim [1]. Next [2][3], `[4]`.", "u9", {1: 'Doc "q"'}
    )
    assert rendered.count('class="accord-cite"') == 4  # [1] twice, [2], [3]; not code
    assert 'href="#u9-1" title="Doc &quot;q&quot;"' in rendered
    assert 'href="#u9-3" title="Source 3"' in rendered and "<code>[4]</code>" in rendered
    assert ": https://evil.example/</p>" in rendered  # the line stays text
    assert 'href="https://evil' not in rendered
    assert "accord-cite" not in markdown_html("Claim [1].")  # no answer id: no markers


# ---------------------------------------------------------------- passages: spans and lines


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
    assert rendered == (
        '<span class="accord-h">Title</span><br><span class="accord-h">Where</span><br>Body text.'
    )


def test_a_mark_that_crosses_markup_is_split_to_stay_nested():
    text = "Intro **Seoul Statement** signed.\n\n## Next\n\nMore [here](https://x.org) too."
    start = text.index("Seoul")
    rendered = highlight(text, [(start, text.index("More") + 9)])
    assert rendered.startswith(
        'Intro <strong><mark class="accord-quote">Seoul Statement</mark></strong>'
        '<mark class="accord-quote"> signed.</mark><br>'
        '<span class="accord-h"><mark class="accord-quote">Next</mark></span><br>'
        '<mark class="accord-quote">More </mark><a href="https://x.org"'
    )
    assert "<mark></mark>" not in rendered and well_nested(rendered)


def test_markdown_in_a_passage_is_inline_only_and_safe():
    text = "- a [pledge](javascript:x) item\n> quoted ![logo](https://t.example/p.png) **bold**"
    rendered = highlight(text, [(0, len(text))])
    assert "- a [pledge](javascript:x) item<" in rendered and "&gt; quoted logo" in rendered
    assert "<strong>" in rendered and "<img" not in rendered and "href" not in rendered
    assert well_nested(rendered)


def test_a_document_cannot_forge_span_edges():
    rendered = highlight("plain \ue000text\ue001 here", [])
    assert "<mark" not in rendered and "\ufffdtext\ufffd" in rendered

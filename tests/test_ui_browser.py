"""The chat page end to end in a real browser: Playwright driving Debian's chromium.

One app, one browser, one page for every step, so the whole walk costs a few seconds:
ask → streamed answer with [n] markers and matching source cards → hover a marker → follow-up →
issuer filter → abstention → a document full of markup that must not run → feedback →
upload (one good file, one bad) → new chat and an example question → phone width.
Any request the page makes to a host other than this machine fails the test.

Outside CI the test skips when /usr/bin/chromium is missing; with CI=true it fails instead.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

PROJECT = Path(__file__).resolve().parent.parent
FIXTURE_CORPUS = Path(__file__).parent / "fixtures" / "corpus"
CHROMIUM = Path("/usr/bin/chromium")
UNSAFE_DIR = Path(__file__).parent / "fixtures" / "ui"
OUTPUT = PROJECT / "test-output" / "ui"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
TIMEOUT_MS = 30_000

EXAMPLES = ["Where was the first AI safety summit held?", "What does the EU AI Act ban outright?"]
ANSWERS = "#accord-chat .accord-answer:not(.accord-streaming), #accord-chat .accord-error"


def require_browser() -> None:
    """Skip (or, with CI=true, fail) when the browser tests cannot run here."""
    reason = ""
    if not CHROMIUM.exists():
        reason = (
            "Debian's chromium is not installed at /usr/bin/chromium; enable the browser "
            "tests with `apt-get install -y chromium`"
        )
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright package is missing; pip install -r requirements.txt"
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(tmp_path, embedder, monkeypatch):
    """The chat page on a free loopback port over the fixture corpus plus the unsafe file."""
    require_browser()
    from bot import Bot
    from bot.ui import launch

    data = tmp_path / "ui-data"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(data / "cache" / "gradio"))
    bot = Bot(data_dir=data)
    report = bot.ingest([FIXTURE_CORPUS, UNSAFE_DIR])
    assert report.ok and len(report.added) == 5, report.summary()
    app = launch(bot, port=free_port(), prevent_thread_lock=True, quiet=True, examples=EXAMPLES)
    try:
        yield app.local_url, data
    finally:
        app.close()


def test_chat_page_end_to_end(served, tmp_path, capsys):
    from playwright.sync_api import expect, sync_playwright

    url, data = served
    OUTPUT.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    errors: list[str] = []

    def on_request(request) -> None:
        if request.url.startswith(("data:", "blob:", "about:")):
            return
        host = urlparse(request.url).hostname or ""
        if host not in LOOPBACK_HOSTS:
            outside.append(request.url)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=BROWSER_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("request", on_request)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.add_init_script(
                "window.__sawStreaming = false;"
                "new MutationObserver(() => {"
                "  if (document.querySelector('#accord-chat .accord-streaming'))"
                "    window.__sawStreaming = true;"
                "}).observe(document, {subtree: true, childList: true});"
            )
            page.goto(url)

            # First visit: the status line and the example questions.
            expect(page.locator(".accord-status")).to_contain_text("5 documents")
            expect(page.locator(".accord-status")).to_contain_text("last ingest")
            for number, text in enumerate(EXAMPLES, start=1):
                example = page.get_by_role("button", name=f"Select example {number}: {text}")
                expect(example).to_be_visible()

            # 1. A question: streamed answer, [n] markers, one card per marker.
            first = ask(page, "Where was the first AI safety summit held?")
            assert page.evaluate("window.__sawStreaming"), "the answer never showed as streaming"
            text = first.locator(".accord-text").inner_text()
            assert re.search(r"\[1\]", text), text
            assert "Bletchley" in text
            numbers = check_markers_match_cards(first)
            assert numbers[0] == 1
            card1 = first.locator(".accord-card").first
            expect(card1).to_contain_text("Bletchley")
            expect(card1.locator(".accord-issuer")).to_have_text("UK government")
            expect(card1.locator(".accord-date")).to_have_text("2023-11-01")
            expect(card1.locator(".accord-file")).to_have_text("bletchley-summit.md")
            assert (
                card1.locator("a.accord-link")
                .first.get_attribute("href")
                .startswith("https://www.gov.uk/")
            )
            quote = card1.locator("mark.accord-quote").first.inner_text()
            assert "Bletchley Park" in quote and quote.rstrip(".") in text
            # Each answer says what wrote it and that its sentences were checked.
            expect(first.locator(".accord-foot")).to_contain_text("extractive")
            expect(first.locator(".accord-foot")).to_contain_text("sentences verified")
            expect(first.locator(".accord-verify-ok")).to_be_visible()

            # Hovering a marker brings its card into view and flashes it.
            page.mouse.move(0, 0)
            first.locator("a.accord-cite").first.hover()
            expect(card1).to_have_class(re.compile("accord-flash"))
            assert card1.is_visible()

            # 2. A follow-up uses the conversation.
            second = ask(page, "How many countries signed it?")
            check_markers_match_cards(second)
            expect(second.locator(".accord-card .accord-title").first).to_contain_text("Bletchley")

            # 3. An issuer filter: shown while active, and the answer cites only that issuer.
            page.locator("#accord-issuers input").click()
            page.get_by_role("option", name="European Union").click()
            page.keyboard.press("Escape")
            banner = page.locator("#accord-active-filters")
            expect(banner).to_contain_text("Filters on")
            expect(banner).to_contain_text("European Union")
            third = ask(page, "When do the bans apply?")
            expect(third.locator(".accord-filters-used")).to_contain_text("European Union")
            check_markers_match_cards(third)
            issuers = third.locator(".accord-card .accord-issuer").all_inner_texts()
            titles = third.locator(".accord-card .accord-title").all_inner_texts()
            assert issuers and set(issuers) == {"European Union"}, issuers
            assert all("EU AI Act" in t for t in titles), titles

            # Clearing the filters hides the banner.
            page.locator("#accord-clear-filters").click()
            expect(banner).to_be_hidden()

            # Turns 4 and 5 of the same conversation: a follow-up keeps to the thread the
            # page carries with each answer, and a new instrument leaves it.
            fourth = ask(page, "How high can its fines go?")
            expect(fourth.locator(".accord-text")).to_contain_text(
                "35 million euros"
            )
            expect(fourth.locator(".accord-card .accord-title").first).to_contain_text("EU AI Act")
            fifth = ask(page, "What about the G7 Hiroshima Process?")
            expect(fifth.locator(".accord-card .accord-title").first).to_contain_text("Hiroshima")

            # 4. A document full of markup: shown as text, never run, no javascript: links.
            marked_up = ask(
                page, "What does the Montevideo transparency pledge ask ministries to publish?"
            )
            check_markers_match_cards(marked_up)
            unsafe = marked_up.locator(".accord-card", has_text="Montevideo").first
            expect(unsafe).to_contain_text("<script>window.__pwned=1</script>")
            expect(unsafe).to_contain_text('<img src=x onerror="window.__pwned=1">')
            expect(unsafe.locator(".accord-title")).to_contain_text("<b>markup</b>")
            expect(unsafe.locator(".accord-issuer")).to_have_text("Montevideo <i>working group</i>")
            assert page.evaluate("typeof window.__pwned") == "undefined"
            chat = page.locator("#accord-chat")
            assert chat.locator("script").count() == 0
            assert chat.locator("img[src='x']").count() == 0
            assert chat.locator("b, i").count() == 0
            assert page.locator("a[href^='javascript:']").count() == 0
            hrefs = unsafe.locator("a.accord-link").evaluate_all("els => els.map(a => a.href)")
            assert hrefs == ["https://example.org/montevideo-pledge"], hrefs
            # No javascript: or data: link anywhere (any case), and the document's unbroken
            # 400-character identifier wraps instead of widening the page.
            schemes = page.locator("a[href]").evaluate_all(
                "els => els.map(a => a.getAttribute('href').trim().toLowerCase())"
            )
            assert not [h for h in schemes if h.startswith(("javascript:", "data:"))], schemes
            assert_no_sideways_scroll(page)

            desktop = OUTPUT / "chat-desktop.png"
            page.screenshot(path=str(desktop), full_page=True)

            # 5. Feedback: thumbs up on the last answer, then a comment.
            page.get_by_role("button", name="Like").last.click()
            box = page.locator("#accord-comment textarea")
            expect(box).to_be_visible()
            box.fill("Clear, and the markup stayed inert.")
            page.locator("#accord-send-comment").click()
            expect(box).to_be_hidden()
            records = wait_for_records(data / "feedback.jsonl", 2)
            rating, comment = records
            assert rating["rating"] == "up" and rating["kind"] == "rating"
            assert rating["question"].startswith("What does the Montevideo")
            assert "Montevideo" in rating["answer"]
            assert rating["citations"] and rating["citations"][0]["doc_id"] == "unsafe-markup"
            assert comment["kind"] == "comment"
            assert comment["comment"] == "Clear, and the markup stayed inert."

            # 5b. Questions full of markup, or too long, are shown as text and never run.
            hostile = ask(
                page,
                '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'
                " What does the Montevideo pledge ask ministries to publish?",
            )
            check_markers_match_cards(hostile)
            expect(page.locator("#accord-chat .accord-q").last).to_contain_text("<script>")
            too_long = "W" * 2500
            page.locator("#accord-question textarea").fill(too_long)
            page.locator("#accord-ask").click()
            expect(page.locator("#accord-chat .accord-error").last).to_contain_text(
                "keep it under 2,000"
            )
            assert page.evaluate("typeof window.__pwned") == "undefined"
            assert chat.locator("script, img[src='x']").count() == 0
            assert_no_sideways_scroll(page)

            # 6. Upload: one good file and one that cannot be read, each with its result.
            good = tmp_path / "lisbon-audit-charter.md"
            good.write_text(
                '---\ntitle: "Test upload: the Lisbon audit charter"\ndate: 2025-05-05\n'
                "issuer: Lisbon audit group\n---\n\n# The Lisbon audit charter\n\n"
                "The Lisbon audit charter asks regulators to audit recommender algorithms "
                "every two years.\n\nIt was agreed by five regulators in May 2025.\n",
                encoding="utf-8",
            )
            bad = tmp_path / "garbled.txt"
            bad.write_bytes(b"caf\xe9 au lait \xff\xfe broken bytes")
            page.locator("#accord-add").get_by_text("Add documents").click()
            page.locator("#accord-upload input[type=file]").set_input_files([str(good), str(bad)])
            result = page.locator(".accord-upload-result")
            expect(result).to_contain_text("1 of 2 files indexed; 1 failed")
            expect(result.locator("tr", has_text="lisbon-audit-charter.md")).to_contain_text(
                "added"
            )
            expect(result.locator("tr", has_text="garbled.txt")).to_contain_text("UTF-8")
            expect(page.locator(".accord-status")).to_contain_text("6 documents")
            assert (data / "uploads" / "lisbon-audit-charter.md").exists()
            assert not (data / "uploads" / "garbled.txt").exists()
            uploaded = ask(page, "How often does the Lisbon audit charter ask for audits?")
            expect(uploaded.locator(".accord-card", has_text="Lisbon audit charter")).to_have_count(
                1
            )

            # 7. New chat clears the conversation and the examples come back.
            page.locator("#accord-new-chat").click()
            expect(page.locator("#accord-chat .accord-answer")).to_have_count(0)
            expect(page.get_by_role("button", name=re.compile("Select example 1"))).to_be_visible()

            # 8. Nothing in the documents: the page says so and shows the closest passages.
            abstained = ask(page, "What is the capital of Peru?")
            expect(abstained).to_have_class(re.compile("accord-abstained"))
            expect(abstained.locator(".accord-abstain-note")).to_contain_text(
                "No answer in the indexed documents"
            )
            assert abstained.locator(".accord-closest").count() >= 1
            assert abstained.locator("a.accord-cite").count() == 0

            # 9. An example question, in a conversation cleared with the chat's trash icon.
            page.locator("#accord-chat").get_by_role("button", name="Clear").click()
            expect(page.locator("#accord-chat .accord-answer")).to_have_count(0)
            example = page.get_by_role("button", name=f"Select example 2: {EXAMPLES[1]}")
            expect(example).to_be_visible()
            example.click()
            example_answer = wait_for_answer(page, 1)
            expect(page.locator(ANSWERS)).to_have_count(1)  # the old turns are really gone
            expect(page.locator("#accord-chat .accord-q")).to_have_text([EXAMPLES[1]])
            check_markers_match_cards(example_answer)
            expect(example_answer.locator(".accord-card .accord-title").first).to_contain_text(
                "EU AI Act"
            )

            # 10. A timeline and a comparison table, their citations linked to source cards,
            # and the conversation exported as Markdown with matching footnotes.
            timeline = ask(page, "What is the timeline of the EU AI Act?")
            events = timeline.locator(".accord-timeline li")
            assert events.count() >= 2
            dates = timeline.locator(".accord-timeline .accord-when").all_inner_texts()
            assert dates == sorted(dates), dates
            compared = ask(page, "Compare the EU AI Act and the G7 Hiroshima Process")
            heads = compared.locator(".accord-comparison thead th").all_inner_texts()
            assert len([h for h in heads if h.strip()]) == 2, heads
            rows = compared.locator(".accord-comparison tbody th")
            assert rows.count() == 6  # the default aspects
            for width in (1400, 390):  # no aspect word is broken across two lines
                page.set_viewport_size({"width": width, "height": 900})
                assert rows.evaluate_all(WORDS_WHOLE), width
            page.set_viewport_size({"width": 1280, "height": 900})
            for answer in (timeline, compared):
                hrefs = answer.locator(
                    ".accord-timeline a.accord-cite, .accord-comparison a.accord-cite"
                ).evaluate_all("els => els.map(a => a.getAttribute('href'))")
                assert hrefs
                for href in hrefs:  # every link lands on a card of the same answer
                    assert answer.locator(href).count() == 1, href
            with page.expect_download() as download:
                page.locator("#accord-export-md").click()
            exported = Path(download.value.path()).read_text(encoding="utf-8")
            assert "Compare the EU AI Act and the G7 Hiroshima Process" in exported
            used = set(re.findall(r"\[\^([\d.]+)\](?!:)", exported))
            defined = set(re.findall(r"^\[\^([\d.]+)\]:", exported, re.MULTILINE))
            assert used and used == defined, (used, defined)

            # 11. The answer mode selector: the local model writes, and says so; a sentence
            # its citation does not support is marked, with the reason on hover.
            page.locator("#accord-mode input").click()
            page.get_by_role("option", name=re.compile(r"^local · ")).click()
            page.keyboard.press("Escape")
            generated = ask(page, "Who hosted the first AI Safety Summit?")
            expect(generated.locator(".accord-foot")).to_contain_text("local · SmolLM2")
            flagged = generated.locator(".accord-unsupported")
            for i in range(flagged.count()):
                assert flagged.nth(i).get_attribute("title").startswith("Not verified: ")
            if flagged.count():
                expect(generated.locator(".accord-verify-warn")).to_contain_text("not verified")
            if generated.locator("a.accord-cite").count():
                check_markers_match_cards(generated)
            else:  # the tiny model cited nothing: then no sentence may pass as checked
                assert flagged.count() >= 1

            # 12. Phone width: one column, nothing wider than the screen.
            page.set_viewport_size({"width": 390, "height": 844})
            page.wait_for_timeout(300)
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1] + 1, widths
            chat_box = page.locator("#accord-chat").bounding_box()
            side_box = page.locator("#accord-side").bounding_box()
            assert side_box["y"] >= chat_box["y"] + chat_box["height"] - 1
            phone = OUTPUT / "chat-phone.png"
            page.screenshot(path=str(phone), full_page=True)
        finally:
            browser.close()

    assert not outside, f"the page reached beyond this machine: {outside}"
    assert not errors, f"JavaScript errors on the page: {errors}"
    with capsys.disabled():
        print(f"\nscreenshots: {desktop}\n             {phone}")


def assert_no_sideways_scroll(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] + 1, widths


def answer_count(page) -> int:
    return page.locator(ANSWERS).count()


def wait_for_answer(page, count: int):
    """Wait until ``count`` finished answers (or errors) are in the chat; return the last."""
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length >= n",
        arg=[ANSWERS, count],
        timeout=TIMEOUT_MS,
    )
    last = page.locator(ANSWERS).last
    assert "accord-error" not in (last.get_attribute("class") or ""), last.inner_text()
    return last


# True when every word of every element's text sits on one line (one client rect per word).
WORDS_WHOLE = """els => els.every(el => {
  const node = el.firstChild; if (!node || node.nodeType !== 3) return true;
  const text = node.textContent; let at = 0;
  return text.split(/\\s+/).filter(Boolean).every(word => {
    const start = text.indexOf(word, at); at = start + word.length;
    const range = document.createRange(); range.setStart(node, start); range.setEnd(node, at);
    return range.getClientRects().length === 1;
  });
})"""


def ask(page, question: str):
    before = answer_count(page)
    box = page.locator("#accord-question textarea")
    box.fill(question)
    page.locator("#accord-ask").click()
    answer = wait_for_answer(page, before + 1)
    questions = page.locator("#accord-chat .accord-q").all_inner_texts()
    assert questions and questions[-1] == question
    return answer


def check_markers_match_cards(answer) -> list[int]:
    """Every [n] in the text links to card n of the same answer, and every card is cited."""
    markers = answer.locator(".accord-text a.accord-cite")
    labels = markers.all_inner_texts()
    assert all(re.fullmatch(r"\[\d+\]", label) for label in labels), labels
    numbers = sorted({int(label.strip("[]")) for label in labels})
    cards = answer.locator(".accord-card").evaluate_all("els => els.map(c => c.id)")
    card_numbers = sorted(int(c.rsplit("-", 1)[1]) for c in cards)
    assert numbers, "no [n] markers in the answer"
    assert numbers == card_numbers == list(range(1, len(numbers) + 1)), (numbers, cards)
    for href in markers.evaluate_all("els => els.map(a => a.getAttribute('href'))"):
        assert answer.locator(href).count() == 1, href
    return numbers


def wait_for_records(path: Path, count: int, seconds: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + seconds
    records: list[dict] = []
    while time.monotonic() < deadline:
        if path.exists():
            records = [json.loads(line) for line in path.read_text().splitlines() if line]
            if len(records) >= count:
                return records
        time.sleep(0.1)
    raise AssertionError(f"expected {count} feedback records in {path}, found {records}")

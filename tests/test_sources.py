import http.server
import threading

import pytest

from bot.errors import SourceError
from bot.sources import discover, load, slugify
from tests.conftest import FIXTURE_CORPUS
from tests.pdf import minimal_pdf


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_markdown_front_matter_becomes_metadata():
    doc = load(str(FIXTURE_CORPUS / "eu-ai-act.md"))
    assert doc.doc_id == "eu-ai-act"
    assert doc.title == "Test fixture: the EU AI Act in brief"
    assert doc.metadata["date"] == "2024-08-01"  # a YAML date becomes an ISO string
    assert doc.metadata["issuer"] == "European Union"
    assert doc.metadata["topics"] == ["regulation"]
    assert not doc.text.startswith("---")
    assert "Risk tiers" in doc.text


def test_markdown_title_falls_back_to_first_heading(tmp_path):
    doc = load(str(write(tmp_path / "note.md", "# A heading title\n\nBody text here.\n")))
    assert doc.title == "A heading title"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("bad-front.md", "---\ntitle: [unclosed\n---\nbody\n", "malformed YAML front matter"),
        ("list-front.md", "---\n- a\n- b\n---\nbody\n", "front matter must be a YAML mapping"),
        ("binary.txt", b"\x00\x01\x02binary\x00", "binary"),
        ("latin1.txt", "caf\xe9 d\xe9j\xe0".encode("latin-1"), "not valid UTF-8"),
        ("empty.md", "---\ntitle: x\n---\n\n", "empty"),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "PDF"),
        ("image.png", b"\x89PNG", "unsupported file type"),
    ],
)
def test_unreadable_files_raise_a_reason(tmp_path, name, content, reason):
    path = write(tmp_path / name, content)
    with pytest.raises(SourceError, match=reason):
        load(str(path))


def test_html_gives_readable_text_not_markup(tmp_path):
    html = (
        "<html><head><title>Compute thresholds</title><style>p{color:red}</style>"
        "<script>var tracking = 1;</script></head><body><nav>Home | About</nav>"
        "<article><h1>Compute thresholds</h1><p>Regulators have used training compute as a "
        "trigger for obligations on frontier developers since 2023.</p><p>The EU AI Act "
        "presumes systemic risk above 10^25 floating point operations.</p></article>"
        "</body></html>"
    )
    doc = load(str(write(tmp_path / "page.html", html)))
    assert doc.title == "Compute thresholds"
    assert "presumes systemic risk" in doc.text
    assert "<p>" not in doc.text and "tracking" not in doc.text and "color:red" not in doc.text


def test_pdf_text_is_extracted(tmp_path):
    path = write(
        tmp_path / "paper.pdf", minimal_pdf("The Hiroshima code asks developers to report.")
    )
    doc = load(str(path))
    assert "Hiroshima code asks developers" in doc.text
    assert doc.metadata["file_type"] == "pdf"


class _Handler(http.server.BaseHTTPRequestHandler):
    pages = {
        "/article": (
            "text/html",
            b"<html><head><title>Seoul summit</title></head><body><article><h1>Seoul summit"
            b"</h1><p>Sixteen companies signed the Frontier AI Safety Commitments in Seoul in "
            b"May 2024, promising to publish safety frameworks.</p><p>They also agreed to "
            b"define thresholds for intolerable risk.</p></article></body></html>",
        ),
        "/big": ("text/html", b"<p>" + b"x" * 5000 + b"</p>"),
    }

    def do_GET(self):  # noqa: N802
        if self.path not in self.pages:
            self.send_error(404)
            return
        ctype, body = self.pages[self.path]
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def web():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_url_is_fetched_and_becomes_the_citation_link(web):
    doc = load(f"{web}/article")
    assert "Frontier AI Safety Commitments" in doc.text
    assert doc.metadata["source_url"] == f"{web}/article"
    assert doc.title == "Seoul summit"


def test_url_errors_are_reported(web):
    with pytest.raises(SourceError, match="HTTP 404"):
        load(f"{web}/missing")
    with pytest.raises(SourceError, match="larger than the limit"):
        load(f"{web}/big", max_bytes=1000)
    with pytest.raises(SourceError, match="could not be fetched"):
        load("http://127.0.0.1:9/nothing-listens-here", timeout=2)


def test_discover_walks_folders_and_skips_readme_hidden_and_unsupported(tmp_path):
    (tmp_path / "sub" / ".hidden").mkdir(parents=True)
    write(tmp_path / "a.md", "# A\n\ntext")
    write(tmp_path / "sub" / "b.txt", "text")
    write(tmp_path / "sub" / ".hidden" / "c.md", "text")
    write(tmp_path / "README.md", "about this folder")
    write(tmp_path / "photo.jpg", b"\xff\xd8")
    found, missing = discover([tmp_path, tmp_path / "nope.md"])
    names = sorted(d.source.rsplit("/", 1)[-1] for d in found)
    assert names == ["a.md", "b.txt"]
    assert missing == [(str(tmp_path / "nope.md"), "no such file or folder")]


def test_slugify():
    assert slugify("EU AI Act (2024) — overview") == "eu-ai-act-2024-overview"


@pytest.mark.parametrize(
    ("front", "reason"),
    [
        ("status: in force", "status 'in force' is not one of proposed"),
        ("status: [adopted]", "is not one of"),
        ("updated: 1 July 2026", "updated '1 July 2026' is not an ISO date"),
        ("updated: 2026-13", "is not an ISO date"),
    ],
)
def test_a_bad_status_or_updated_date_names_the_file_and_the_fix(tmp_path, front, reason):
    path = write(tmp_path / "article.md", f"---\ntitle: x\n{front}\n---\n\nBody text.\n")
    with pytest.raises(SourceError) as info:
        load(str(path))
    assert str(info.value).startswith("article.md: ")
    assert reason in str(info.value)


def test_status_and_updated_are_optional_and_normalised(tmp_path):
    bare = load(str(write(tmp_path / "bare.md", "---\ntitle: x\n---\n\nBody text.\n")))
    assert "status" not in bare.metadata and "updated" not in bare.metadata
    doc = load(
        str(write(tmp_path / "a.md", "---\nstatus: In-Force\nupdated: 2026-06-30\n---\n\nBody.\n"))
    )
    assert doc.metadata["status"] == "in-force" and doc.metadata["updated"] == "2026-06-30"
    year = load(str(write(tmp_path / "b.md", "---\nupdated: 2026\n---\n\nBody.\n")))
    assert year.metadata["updated"] == "2026"


def test_every_shipped_article_says_its_status_and_how_current_it_is():
    from bot.sources import STATUSES

    corpus = FIXTURE_CORPUS.parent.parent.parent / "corpus"
    for path in sorted(corpus.glob("*.md")):
        meta = load(str(path)).metadata
        assert meta.get("status") in STATUSES, path.name
        assert meta.get("updated"), path.name

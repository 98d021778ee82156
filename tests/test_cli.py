import subprocess
import sys

from tests.conftest import FIXTURE_CORPUS, PROJECT


def run(*args, cwd=PROJECT):
    return subprocess.run(
        [sys.executable, "ingest.py", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_help_documents_pruning():
    out = run("--help").stdout
    assert "--no-prune" in out and "pruning is on by default" in out and "--rebuild" in out


def test_ingest_reports_failures_by_name_and_exits_non_zero(tmp_path, corpus_copy):
    (corpus_copy / "corrupt.pdf").write_bytes(b"%PDF-1.7 truncated")
    data = str(tmp_path / "data")
    first = run(str(corpus_copy), "--data-dir", data, "--quiet")
    assert first.returncode == 1
    assert "corrupt.pdf" in first.stderr and "not a readable PDF" in first.stderr
    assert "4 added" in first.stdout and "1 failed" in first.stdout
    assert "Traceback" not in first.stderr

    (corpus_copy / "corrupt.pdf").unlink()
    second = run(str(corpus_copy), "--data-dir", data, "--quiet")
    assert second.returncode == 0
    assert "0 added, 0 updated, 4 unchanged, 0 removed, 0 failed; 0 chunks written" in second.stdout


def test_a_user_error_is_one_line_without_traceback(tmp_path):
    result = run(str(FIXTURE_CORPUS), "--data-dir", str(tmp_path), "--chroma-url", "nope")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ACCORD_CHROMA_URL (chroma_url) must look like http://")
    assert "Traceback" not in result.stderr

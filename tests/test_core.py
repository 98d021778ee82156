import os
import subprocess
import sys
import textwrap

import pytest

from bot import AccordError, Answer, Bot, Citation
from bot.errors import IndexMissingError
from tests.conftest import FIXTURE_CORPUS, PROJECT, NetworkBlocked

KNOWN = [
    ("Where was the first AI safety summit held?", "bletchley-summit", "Bletchley Park"),
    ("When do the EU's bans on AI practices start to apply?", "eu-ai-act", "2 February 2025"),
    (
        "What did the G7 publish for developers of advanced AI?",
        "hiroshima-process",
        "code of conduct",
    ),
    (
        "Which agency restricted exports of chipmaking equipment?",
        "chip-export-controls",
        "Bureau of Industry and Security",
    ),
]


@pytest.mark.parametrize(("question", "doc_id", "fact"), KNOWN)
def test_known_answers_cite_the_right_document(indexed_bot, question, doc_id, fact):
    answer = indexed_bot.ask(question)
    assert not answer.abstained
    assert fact in answer.text
    assert answer.citations[0].doc_id == doc_id
    assert "[1]" in answer.text


def test_citations_point_at_the_quoted_characters(indexed_bot):
    answer = indexed_bot.ask("Who signed the Bletchley Declaration?")
    assert [c.number for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for citation in answer.citations:
        assert isinstance(citation, Citation)
        doc = next(d for d in indexed_bot.documents() if d.doc_id == citation.doc_id)
        text = open(doc.source, encoding="utf-8").read()
        body = text[text.index("\n---\n", 4) + 5 :]
        for start, end in citation.spans:
            quoted = " ".join(body[start:end].split())
            assert quoted in citation.quote
        assert citation.passage[citation.start - citation.passage_start :].startswith(
            body[citation.start : citation.start + 20]
        )
        assert citation.issuer and citation.date and citation.title


def test_every_answer_sentence_carries_a_marker(indexed_bot):
    answer = indexed_bot.ask("What does the EU AI Act do with high-risk systems?")
    assert answer.support and all(s > 0.5 for s in answer.support)
    for sentence in answer.text.split(". "):
        assert "[" in sentence


def test_an_unrelated_question_abstains_and_shows_the_closest_passages(indexed_bot):
    answer = indexed_bot.ask("What is a good recipe for tiramisu?")
    assert answer.abstained
    assert answer.citations == []
    assert "do not seem to cover" in answer.text
    assert answer.passages  # the closest passages are still there to show


def test_a_followup_uses_the_conversation(indexed_bot):
    history = [
        {"role": "user", "content": "What happened at Bletchley Park in November 2023?"},
        {"role": "assistant", "content": "The first AI Safety Summit [1]."},
    ]
    answer = indexed_bot.ask("How many countries signed its declaration?", history=history)
    assert answer.citations[0].doc_id == "bletchley-summit"
    assert "Twenty-eight countries" in answer.text


def test_stream_yields_text_then_the_answer(indexed_bot):
    events = list(indexed_bot.stream("What did the G7 publish in October 2023?"))
    *deltas, final = events
    assert deltas and all(isinstance(d, str) for d in deltas)
    assert isinstance(final, Answer)
    assert "".join(deltas).strip() == final.text
    assert final.timings["total"] >= final.timings["retrieve"] > 0


def test_filters_restrict_the_cited_documents(indexed_bot):
    answer = indexed_bot.ask(
        "What was agreed for organisations building advanced AI?", filters={"issuers": ["G7"]}
    )
    assert answer.citations and {c.doc_id for c in answer.citations} == {"hiroshima-process"}


@pytest.mark.parametrize(
    ("question", "history", "message"),
    [
        ("   ", None, "question is empty"),
        ("x" * 3000, None, "under 2,000"),
        ("ok?", "not a list", "history must be a list"),
        ("ok?", [{"role": "system", "content": "hi"}], "role"),
    ],
)
def test_bad_input_raises_a_clear_error(indexed_bot, question, history, message):
    with pytest.raises(AccordError, match=message):
        indexed_bot.ask(question, history=history)


def test_asking_before_ingesting_says_what_to_do(data_dir):
    with pytest.raises(IndexMissingError, match="ingest.py"):
        Bot(data_dir=data_dir).ask("What is the Bletchley Declaration?")


def test_settings_can_be_set_in_code_and_saved_beside_the_index(data_dir):
    bot = Bot(data_dir=data_dir, top_k=3)
    assert bot.settings.top_k == 3 and bot.settings.data_dir == data_dir
    bot.ingest([FIXTURE_CORPUS / "eu-ai-act.md"])
    assert '"top_k": 3' in (data_dir / "index" / "settings.json").read_text()


def test_the_guard_blocks_outside_connections():
    import socket

    with pytest.raises(NetworkBlocked):
        socket.create_connection(("93.184.216.34", 80), timeout=1)


def test_whole_pipeline_runs_in_a_fresh_process_with_the_network_blocked(tmp_path):
    """Imports, model loading, tokenizer files and Chroma all start with no network at all."""
    script = textwrap.dedent(
        f"""
        import socket, ipaddress
        real = socket.socket.connect
        def guarded(self, address):
            if self.family in (socket.AF_INET, socket.AF_INET6):
                host = address[0]
                if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
                    raise SystemExit(f"network used: {{address}}")
            return real(self, address)
        socket.socket.connect = guarded
        def no_dns(*args, **kwargs):
            raise SystemExit(f"DNS used: {{args[0]}}")
        socket.getaddrinfo = no_dns
        from bot import Bot
        bot = Bot(data_dir={str(tmp_path / "data")!r})
        report = bot.ingest([{str(FIXTURE_CORPUS)!r}])
        assert len(report.added) == 4, report
        answer = bot.ask("Where was the first AI safety summit held?")
        assert answer.citations[0].doc_id == "bletchley-summit", answer.text
        print("OK")
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env["HOME"] = str(tmp_path)  # nothing cached in the real home can help
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("OK")
    assert not (tmp_path / ".cache").exists()  # nothing written outside the data dir

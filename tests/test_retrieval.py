import pytest

from bot import AccordError
from bot.records import Chunk
from bot.retrieval import Filters, rrf, standalone_queries


def test_rrf_rewards_items_ranked_well_by_both_lists():
    fused = rrf([["a", "b", "c"], ["c", "a", "d"]], k=60)
    assert max(fused, key=fused.get) == "a"
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["d"] == pytest.approx(1 / 63)
    assert fused["c"] > fused["b"]


def test_followups_are_searched_as_asked_and_with_the_reference_resolved():
    history = [
        {"role": "user", "content": "What is the Bletchley Declaration?"},
        {"role": "assistant", "content": "A statement [1]."},
    ]
    assert standalone_queries("Who signed it?", history) == [
        "Who signed it?",
        "Who signed the Bletchley Declaration?",
    ]
    assert standalone_queries("Who signed it?", None) == ["Who signed it?"]
    assert standalone_queries("What are its main parts?", history)[1] == (
        "What are the Bletchley Declaration's main parts?"
    )
    altman = [{"role": "user", "content": "What did Sam Altman propose for AI safety?"}]
    assert standalone_queries("And who criticised it?", altman)[1] == (
        "And who criticised Sam Altman propose for AI safety?"
    )
    assert standalone_queries("And where is the next session?", altman)[1] == (
        "And where is the next session? Sam Altman propose for AI safety"
    )


def test_filters_validate_and_translate_to_a_chroma_where_clause():
    f = Filters.of({"issuer": "G7", "date_from": "2023-01-01", "date_to": "2023"})
    assert f.issuers == ["G7"]
    assert f.where() == {
        "$and": [
            {"issuer": {"$in": ["G7"]}},
            {"date_int": {"$gte": 20230101}},
            {"date_int": {"$lte": 20239999}},
        ]
    }
    assert Filters.of(None).where() is None and not Filters.of(None).active
    with pytest.raises(AccordError, match="unknown filter"):
        Filters.of({"country": "France"})
    with pytest.raises(AccordError, match="not a date"):
        Filters.of({"date_from": "last spring"})


def test_filters_accept_the_same_chunks_chroma_would():
    def chunk(issuer, date):
        return Chunk("c", "d", 0, "t", 0, 1, 1, metadata={"issuer": issuer, "date": date})

    f = Filters.of({"issuers": ["G7", "OECD"], "date_from": "2023-06-01", "date_to": "2024-12-31"})
    assert f.accepts(chunk("G7", "2023-10-30"))
    assert not f.accepts(chunk("UN", "2023-10-30"))
    assert not f.accepts(chunk("OECD", "2019-05-22"))
    assert not f.accepts(chunk("OECD", ""))  # undated documents fall outside a date range


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_mode_finds_the_obvious_document(indexed_bot, mode):
    passages = indexed_bot.search("export restrictions on advanced chips to China", mode=mode)
    assert passages[0].chunk.doc_id == "chip-export-controls"
    assert [p.rank for p in passages] == list(range(1, len(passages) + 1))


def test_hybrid_passages_carry_both_scores(indexed_bot):
    (top, *_) = indexed_bot.search("Bletchley Declaration signatories", mode="hybrid")
    assert top.chunk.doc_id == "bletchley-summit"
    assert top.dense is not None and top.dense > 0.3
    assert top.keyword is not None and top.keyword > 0


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_filters_apply_to_every_retriever(indexed_bot, mode):
    question = "Which governments agreed rules on AI risk?"
    only_eu = indexed_bot.search(question, filters={"issuers": ["European Union"]}, mode=mode)
    assert only_eu and {p.chunk.doc_id for p in only_eu} == {"eu-ai-act"}
    dated = indexed_bot.search(question, filters={"date_to": "2023-06-30"}, mode=mode)
    assert {p.chunk.doc_id for p in dated} <= {"chip-export-controls"}
    picked = indexed_bot.search(question, filters={"doc_ids": ["hiroshima-process"]}, mode=mode)
    assert {p.chunk.doc_id for p in picked} == {"hiroshima-process"}


def test_top_k_limits_the_passages(indexed_bot):
    assert len(indexed_bot.search("AI governance", k=2)) == 2

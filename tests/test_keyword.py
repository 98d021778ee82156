from bot.keyword import terms, terms_batch, tokenize


def test_a_batch_gives_each_text_the_terms_it_gets_alone():
    texts = [
        "When does the Convention enter into force?",
        "",
        "the of and",
        "Article 53(1)(a) sets a 10^26 FLOPs threshold for providers",
    ]
    alone = []
    for text in texts:
        tokens = tokenize([text])
        words = {i: w for w, i in tokens.vocab.items()}
        alone.append([words[i] for i in tokens.ids[0]])
    assert terms_batch(texts) == alone
    assert terms(texts[0]) == alone[0] and "convent" in alone[0]
    assert terms_batch([]) == []


def _chunks(texts, prefix="c"):
    from bot.records import Chunk

    return [
        Chunk(f"{prefix}-{i}", "d", i, t, 0, len(t), 1, ["Head"], "Doc")
        for i, t in enumerate(texts)
    ]


TEXTS = [
    "The Convention enters into force on the first day of the month after ratification.",
    "Providers of general-purpose AI models shall keep technical documentation up to date.",
    "Export controls restrict advanced chips and chipmaking equipment.",
    "",
    "The G7 leaders agreed a code of conduct for organisations developing advanced AI.",
]
QUERIES = ["entry into force", "technical documentation providers", "chips export", "G7 code"]


def test_the_index_scores_exactly_as_bm25s_does_on_the_same_texts():
    import bm25s

    from bot.keyword import KeywordIndex, terms

    built = KeywordIndex.build(_chunks(TEXTS))
    reference = bm25s.BM25()
    reference.index(tokenize([c.context_text for c in _chunks(TEXTS)]), show_progress=False)
    for query in QUERIES:
        assert list(built.scores(query)) == list(reference.get_scores(terms(query)))
    assert built.known("chip") and not built.known("unicorn")


def test_a_rebuild_after_an_edit_reuses_saved_terms_and_scores_as_a_fresh_build(tmp_path):
    from bot.keyword import KeywordIndex

    first = KeywordIndex.build(_chunks(TEXTS))
    first.save(tmp_path)
    edited = _chunks(TEXTS[:2]) + _chunks(["Unicorn chips are new.", TEXTS[4]], prefix="e")
    again = KeywordIndex.build(edited, reuse=tmp_path)
    fresh = KeywordIndex.build(edited)
    for query in [*QUERIES, "unicorn"]:
        assert list(again.scores(query)) == list(fresh.scores(query))
    assert again._df == fresh._df and again.known("unicorn")
    # the saved terms were used: a chunk id already saved keeps its saved terms
    (tmp_path / "bm25").rename(tmp_path / "unused")
    poisoned = KeywordIndex.build(_chunks(["totally different words"]), reuse=tmp_path)
    assert poisoned.known("convent") and not poisoned.known("total")

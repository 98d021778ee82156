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

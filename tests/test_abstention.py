from bot.abstention import names, unknown_names


def test_names_are_multi_word_titles_without_the_opening_word():
    assert names("What does Korea's AI Basic Act require?") == ["AI Basic Act"]
    assert names("Who chairs the Council of Europe Committee on AI?") == [
        "Council of Europe Committee on AI"
    ]
    assert names("what is ai governance?") == []


def test_a_name_is_unknown_only_when_no_word_pair_of_it_is_in_the_documents():
    corpus = "the council of europe convention. the new delhi summit. the basic principles act"

    def found(phrase):
        return phrase.lower() in corpus

    assert unknown_names("What does Korea's AI Basic Act require?", found) == ["AI Basic Act"]
    assert unknown_names("What did the New Delhi AI Summit say?", found) == []
    assert unknown_names("Is the Council of Europe AI Convention binding?", found) == []
    assert unknown_names("What is South Korea doing?", found) == []  # two words: left alone

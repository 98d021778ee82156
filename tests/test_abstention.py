from bot.abstention import names, unknown_names, unknown_symbols, unknown_words


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


class Vocabulary:
    """The keyword index's one question here: does any chunk use this term?"""

    def __init__(self, text: str) -> None:
        from bot.keyword import terms

        self.terms = set(terms(text))

    def known(self, term: str) -> bool:
        return term in self.terms


CHUNKS = [
    "Japan opened its AI Safety Institute in February 2024.",
    "Britain and the United States agreed to test models together.",
    "Italy and the United Nations Development Programme launched a hub.",
    "The National AI Research Resource entered a pilot phase.",
    "Resolution 78/265 was adopted without a vote.",
]


def unknown(question: str) -> list[str]:
    return unknown_words(question, Vocabulary(" ".join(CHUNKS)), lambda: CHUNKS)


def test_a_nationality_is_known_by_its_country():
    assert unknown("Which Japanese agency hosts the institute?") == []
    assert unknown("When did the British side agree to test?") == []
    assert unknown("What did the Estonian government sign?") == ["Estonian"]


def test_a_compound_is_known_by_its_parts_and_an_acronym_by_its_spelling():
    assert unknown("What does the Italy-UNDP hub do?") == []  # UNDP is spelled out
    assert unknown("When did the NAIRR pilot start?") == []  # "AI" stands for two letters
    assert unknown("What does the Italy-OECD hub do?") == ["Italy-OECD"]
    assert unknown("When did the NSF pilot start?") == ["NSF"]


def test_a_document_symbol_must_occur_as_written():
    def found(phrase):
        return any(phrase in chunk for chunk in CHUNKS)

    question = "Which country drafted resolution 78/311?"
    assert unknown(question) == []  # its numbers alone prove nothing
    assert unknown_symbols(question, found) == ["78/311"]
    assert unknown_symbols("What did resolution 78/265 ask for?", found) == []

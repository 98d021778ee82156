from bot.citations import Renumberer


def feed_all(renumberer, pieces):
    return "".join(renumberer.feed(p) for p in pieces) + renumberer.flush()


def test_markers_are_renumbered_by_first_use_even_when_split_across_deltas():
    r = Renumberer(passages=5)
    text = feed_all(r, ["The summit met [", "4", "]. It agreed [2", "]. Again [4]."])
    assert text == "The summit met [1]. It agreed [2]. Again [1]."
    assert r.numbers == {4: 1, 2: 2}


def test_grouped_and_out_of_range_markers():
    r = Renumberer(passages=3)
    assert feed_all(r, ["Both [3, 1]. Invented [9]. End."]) == "Both [1][2]. Invented. End."
    assert r.numbers == {3: 1, 1: 2}


def test_text_without_markers_passes_through_unchanged():
    r = Renumberer(passages=2)
    assert feed_all(r, ["Plain [text] here, ", "and a list [a]."]) == (
        "Plain [text] here, and a list [a]."
    )

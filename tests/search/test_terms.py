"""terms.py: tokens, stems, and the vocabulary learned from the corpus."""

from __future__ import annotations

import pytest

from conftest import DOCUMENT
from cppqa.documents.corpus import split_sentences
from cppqa.search.terms import STOPWORDS, Vocabulary, content_stems, stem, words


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    text = DOCUMENT.read_text(encoding="utf-8")
    return Vocabulary.learn(s.text for s in split_sentences(text))


def test_words_lowercase_and_split_hyphens() -> None:
    assert words("The CPP's pay-role, in 1954!") == ["the", "cpp's", "pay", "role", "in", "1954"]
    assert words("Women’s Association") == ["women's", "association"]


def test_stems_drop_possessive_and_inflection() -> None:
    assert stem("party's") == stem("party") == stem("parties")
    assert stem("martyred") == stem("martyr")


def test_content_stems_drop_stopwords() -> None:
    assert content_stems("When was the party declared illegal?") == [
        stem("party"),
        stem("declared"),
        stem("illegal"),
    ]
    assert all(w not in STOPWORDS for w in ["party", "illegal"])


def test_acronyms_are_learned_from_the_corpus(vocabulary: Vocabulary) -> None:
    assert vocabulary.acronyms["cpp"] == "communist party of pakistan"
    assert vocabulary.acronyms["cpi"] == "communist party of india"
    # "Another CC member" is never spelt out in brackets; its initials find it.
    assert vocabulary.acronyms["cc"] == "central committee"


def test_acronyms_of_a_new_document() -> None:
    vocab = Vocabulary.learn(
        [
            "The Trade Union Federation (TUF) met in Multan.",
            "Later the TUF split.",
        ]
    )
    assert vocab.acronyms == {"tuf": "trade union federation"}


@pytest.mark.parametrize(
    ("typed", "fixed"),
    [("genral", "general"), ("secretery", "secretary"), ("imprisoned", "imprisoned")],
)
def test_correct_finds_the_nearest_corpus_word(
    vocabulary: Vocabulary, typed: str, fixed: str
) -> None:
    assert vocabulary.correct(typed) == fixed


@pytest.mark.parametrize("word", ["france", "capital", "xyzzy", "ab"])
def test_correct_gives_none_when_nothing_is_close(vocabulary: Vocabulary, word: str) -> None:
    assert vocabulary.correct(word) is None


def test_normalise_query_fixes_typos_and_expands_acronyms(vocabulary: Vocabulary) -> None:
    assert vocabulary.normalise_query("Who is the genral secretery?") == (
        "Who is the general secretary?"
    )
    assert vocabulary.normalise_query("When was the CPP formed?") == (
        "When was the CPP communist party of pakistan formed?"
    )
    assert "central committee" in vocabulary.normalise_query("Which CC member was paralyzed?")
    # cue words are fixed even where the corpus lacks them
    assert vocabulary.normalise_query("In which citty was it formd?") == (
        "In which city was it formed?"
    )


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who is the gen sec?", "Who is the general secretary?"),
        ("who is the gen. sec. now", "who is the general secretary now"),
        ("the gen sec gen sec", "the general secretary general secretary"),
        # three clipped words: the first pair is spelled out, the third word stays
        ("part of the dem stud fed?", "part of the democratic students fed?"),
    ],
)
def test_clipped_phrases_are_spelled_out(
    vocabulary: Vocabulary, question: str, expected: str
) -> None:
    assert vocabulary.normalise_query(question) == expected


def test_clipped_words_stay_when_no_single_phrase_fits(vocabulary: Vocabulary) -> None:
    assert vocabulary.abbreviation("gen", "sec") == "general secretary"
    assert vocabulary.abbreviation("the", "sec") is None  # "the" is a corpus word
    assert vocabulary.abbreviation("zz", "sec") is None  # nothing begins with "zz"
    assert vocabulary.abbreviation("pa", "co") is None  # "party continued", "party considered"


def test_real_words_are_not_turned_into_other_words(vocabulary: Vocabulary) -> None:
    assert vocabulary.correct("newspaper") is None
    assert vocabulary.correct("chance") is None  # not "changed"
    # a cue word stays, so the question keeps asking for an organisation
    assert "organisation" in vocabulary.normalise_query("Which organisation is it?")
    # a short word is no misspelt cue word: "man" is not "many"
    assert vocabulary.normalise_query("Which man was tortured?") == "Which man was tortured?"


def test_hyphenated_corpus_words_are_known_joined(vocabulary: Vocabulary) -> None:
    assert vocabulary.knows("payrole")
    assert vocabulary.correct("payroll") == "payrole"


def test_unknown_words(vocabulary: Vocabulary) -> None:
    assert vocabulary.unknown_words("What is the capital of France?") == ["capital", "france"]
    assert vocabulary.unknown_words("Who is the genral secretery?") == []


def test_idf_is_higher_for_rarer_stems(vocabulary: Vocabulary) -> None:
    assert vocabulary.idf(stem("karachi")) > vocabulary.idf(stem("party")) > 0
    assert vocabulary.idf("never-seen") > vocabulary.idf(stem("karachi"))


def test_corrections_are_remembered_within_a_bound() -> None:
    import cppqa.search.terms as terms

    vocabulary = Vocabulary.learn(["The general secretary was revolutionary."])
    assert vocabulary.correct("genral") == "general"
    assert vocabulary._corrected["genral"] == "general"
    vocabulary._corrected.update({f"w{i}": None for i in range(terms._MAX_CORRECTIONS)})
    assert vocabulary.correct("secretery") == "secretary"
    assert len(vocabulary._corrected) == 1  # cleared, not grown past the bound


def test_clipped_pair_lookup_does_not_grow_with_the_corpus() -> None:
    import random
    import time

    rng = random.Random(3)
    letters = "abcdefghijklmnopqrstuvwxyz"

    def sentence() -> str:
        return " ".join("".join(rng.choices(letters, k=7)) for _ in range(12)) + "."

    small = Vocabulary.learn([sentence() for _ in range(10)])
    large = Vocabulary.learn([sentence() for _ in range(8000)])  # ~90,000 word pairs
    question = " ".join(["zq"] * 200)

    def seconds(vocabulary: Vocabulary) -> float:
        vocabulary.normalise_query("zq zq")  # index built once, outside the timing
        start = time.perf_counter()
        vocabulary.normalise_query(question)
        return time.perf_counter() - start

    # a ratio within one run, not a time: a scan of every pair is ~1000x slower
    assert seconds(large) < 20 * max(seconds(small), 1e-4)

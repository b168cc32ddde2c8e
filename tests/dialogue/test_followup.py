"""dialogue/followup.py: follow-up questions resolved against the conversation."""

from __future__ import annotations

import pytest

from cppqa.dialogue.followup import Turn, pronoun_of, resolve

SECRETARY = Turn(
    question="Who is the General Secretary of the Party?",
    query="Who is the General Secretary of the Party?",
    answer="Imdad Qazi",
    sentence="Comrade Imdad Qazi is the General Secretary of the Party.",
)
FORMED = Turn(
    question="When was the CPP formed?",
    query="When was the CPP formed?",
    answer="March 6, 1948",
    sentence="After the formation of Pakistan, the CPP was formed on March 6, 1948 at the "
    "Calcutta Congress of the Communist Party of India (CPI)۔",
)
ORGAN = Turn(
    question="What is the party organ called?",
    query="What is the party organ called?",
    answer="Red Flag",
    sentence="The party organ, Red Flag has been published for the last 50 years.",
)


def test_without_history_the_question_stands_alone() -> None:
    resolution = resolve("What is his title?", [])
    assert resolution.query == "What is his title?"
    assert not resolution.follow_up


@pytest.mark.parametrize(
    ("question", "query"),
    [
        ("What is his title?", "What is Imdad Qazi's title?"),
        ("What is his position?", "What is Imdad Qazi's position?"),
        ("When did he become secretary?", "When did Imdad Qazi become secretary?"),
    ],
)
def test_personal_pronouns_name_the_last_person(question: str, query: str) -> None:
    resolution = resolve(question, [SECRETARY])
    assert resolution.query == query
    assert resolution.follow_up


def test_it_names_the_last_named_thing() -> None:
    resolution = resolve("How long has it been published?", [ORGAN])
    assert resolution.query == "How long has Red Flag been published?"


def test_it_is_not_the_person_just_named() -> None:
    resolution = resolve("What is its party organ called?", [SECRETARY], topic="the party")
    assert resolution.query == "What is the party's party organ called?"
    group = Turn("Who created problems?", "Who created problems?", "civil bureaucracy", None)
    assert resolve("What nurtured it?", [group]).query == "What nurtured civil bureaucracy?"


MARTYRED = Turn("Where was Nazir Abbasi martyred?", "Where was Nazir Abbasi martyred?")


@pytest.mark.parametrize(
    ("last", "question", "query"),
    [
        (FORMED, "And where?", "where was the CPP formed?"),
        (FORMED, "  and where? ", "where was the CPP formed?"),
        (MARTYRED, "What about when?", "when was Nazir Abbasi martyred?"),
    ],
)
def test_ellipsis_reuses_the_last_question(last: Turn, question: str, query: str) -> None:
    assert resolve(question, [last]).query == query


def test_ellipsis_with_a_year_swaps_the_year() -> None:
    before = Turn("What happened in 1954?", "What happened in 1954?", None, None)
    assert resolve("And in 1958?", [before]).query == "What happened in 1958?"


@pytest.mark.parametrize(
    "question", ["When was the party declared illegal?", "Where was Nazir Abbasi martyred?"]
)
def test_a_new_topic_stands_alone(question: str) -> None:
    resolution = resolve(question, [SECRETARY, FORMED])
    assert resolution.query == question
    assert not resolution.follow_up


# --- the real system -----------------------------------------------------------------------


def _turn(answer) -> Turn:  # type: ignore[no-untyped-def]
    sentence = answer.sources[0].passage.text if answer.text else None
    return Turn(answer.question, answer.query, answer.text, sentence)


@pytest.mark.slow
def test_follow_up_about_a_person(qa) -> None:  # type: ignore[no-untyped-def]
    first = qa.ask("Who was tortured and martyred in the royal fort of Lahore?")
    assert first.text is not None and "Hassan Nasir" in first.text
    second = qa.ask("What happened to his body?", [_turn(first)])
    assert second.query == "What happened to Hassan Nasir's body?"
    assert second.text is not None and "disappeared" in second.text


@pytest.mark.slow
def test_follow_up_by_ellipsis(qa) -> None:  # type: ignore[no-untyped-def]
    first = qa.ask("Where was Nazir Abbasi martyred?")
    second = qa.ask("And when?", [_turn(first)])
    assert second.query == "when was Nazir Abbasi martyred?"
    assert second.sources[0].passage.text.startswith("In the same operation")


# --- general rules: what a turn lends, and who a pronoun may be -----------------------------

NOT_FOUND = Turn("What is the capital of France?", "What is the capital of France?", None, None)
NASIR = Turn(
    "Who was Hassan Nasir?",
    "Who was Hassan Nasir?",
    "a key member of the central committee",
    "In the time of General Ayub, a key member of the central committee, Comrade Hassan "
    "Nasir, was tortured and martyred in the royal fort of Lahore and his body got disappeared.",
)


def test_a_turn_that_found_nothing_lends_nothing() -> None:
    resolution = resolve("Why were its members imprisoned?", [NOT_FOUND], topic="the party")
    assert resolution.query == "Why were the party's members imprisoned?"
    # with no topic to fall back on, the pronoun stays as asked
    assert resolve("Why was he arrested?", [NOT_FOUND]).query == "Why was he arrested?"


def test_its_never_stands_for_a_person() -> None:
    resolution = resolve("Why were its members imprisoned?", [NASIR], topic="the party")
    assert resolution.query == "Why were the party's members imprisoned?"
    # ... while "his" does
    assert resolve("What happened to his body?", [NASIR]).query == (
        "What happened to Hassan Nasir's body?"
    )


BEYONCE = Turn(
    "When did Beyoncé start becoming popular?",
    "When did Beyoncé start becoming popular?",
    "in the late 1990s",
    "Beyoncé rose to fame in the late 1990s as lead singer of Destiny's Child.",
)


def _calls(table: dict[str, str]):  # type: ignore[no-untyped-def]
    return lambda name: table.get(name, "it")


def test_he_and_she_stand_only_for_a_person_the_corpus_so_calls() -> None:
    she = _calls({"Beyoncé": "she"})
    assert resolve("What areas did she compete in?", [BEYONCE], pronoun=she).query == (
        "What areas did Beyoncé compete in?"
    )
    # the corpus calls Beyoncé "she": "he" is someone else, left as asked
    assert resolve("What did he sing?", [BEYONCE], pronoun=she).query == "What did he sing?"
    # not a person by the corpus: "it", not "she"
    assert resolve("What areas did she compete in?", [BEYONCE]).query == (
        "What areas did she compete in?"
    )
    assert resolve("When was it founded?", [BEYONCE]).query == "When was Beyoncé founded?"
    assert resolve("When was it founded?", [BEYONCE], pronoun=she).query == ("When was it founded?")


def test_they_prefers_a_name_the_corpus_calls_they() -> None:
    war = Turn(
        "In what war did NATO lead the Canadian Forces?",
        "In what war did NATO lead the Canadian Forces?",
        "the Korean War",
    )
    calls = _calls({"Canadian Forces": "they"})
    assert resolve("When were they formed?", [war], pronoun=calls).query == (
        "When were Canadian Forces formed?"
    )


@pytest.mark.parametrize(
    ("text", "name", "pronoun"),
    [
        ("Ada wrote notes. Her notes were long. Ada said she was ill.", "Ada", "she"),
        ("Ada wrote notes. Her notes were long.", "Ada", "it"),  # once is not enough
        ("The Royal College of Music hired him. He taught there.", "Royal College of Music", "it"),
        ("The Turks crossed the river. They then", "Turks", "they"),
        ("", "Canadians", "they"),  # a plural name the text says nothing of
        ("", "Paris", "it"),
        ("Kinect was announced in 2009. It sold well; its price fell.", "Kinect", "it"),
    ],
)
def test_pronoun_of_is_what_the_text_says_after_the_name(
    text: str, name: str, pronoun: str
) -> None:
    assert pronoun_of(name, text) == pronoun


def said(question: str, answer: str | None, sentence: str | None) -> Turn:
    """A turn whose question was understood as asked."""
    return Turn(question, question, answer, sentence)


@pytest.mark.parametrize(
    ("last", "asked", "understood"),
    [
        pytest.param(
            said(
                "Why did Russia move towards the ports of the Black Sea?",
                "warm water",
                "Russia had been expanding toward the warm water ports of the Black Sea.",
            ),
            "Who did Russia fight near the ports of it?",
            "Who did Russia fight near the ports of Black Sea?",
            id="not-a-name-its-own-question-says",
        ),
        pytest.param(
            said(
                "In what year did France and the U.K. declare war on Russia?",
                "1854",
                "On 28 March 1854 the UK and France declared war on Russia.",
            ),
            "Who led it into the war against Russia?",
            "Who led France and the U.K. into the war against Russia?",
            id="dotted-initials-are-one-name",
        ),
    ],
)
def test_it_takes_the_whole_name_the_question_does_not_say(
    last: Turn, asked: str, understood: str
) -> None:
    assert resolve(asked, [last]).query == understood


def test_it_is_not_a_name_that_modifies_a_noun() -> None:
    dynasty = said(
        "Who established the Arsacid dynasty of Armenia?",
        "Tiridates I",
        "Tiridates I was the founder of the Arsacid dynasty of Armenia.",
    )
    assert resolve("What made it easy to invade?", [dynasty]).query == (
        "What made Armenia easy to invade?"
    )
    became = said(
        "When did Armenia become part of the Transcaucasian Republic?",
        "1920",
        "By 1920, the state was part of the Transcaucasian Republic.",
    )  # the subject of "did ... become" is no modifier
    assert resolve("When did it leave?", [became]).query == "When did Armenia leave?"


def test_who_was_a_role_makes_only_the_role_holder_a_person() -> None:
    professor = said(
        "Who was the first professor of the Royal College of Chemistry?",
        "August Hofmann",
        "August Hofmann was the first professor of the Royal College of Chemistry.",
    )
    assert resolve("Why was it founded?", [professor]).query == (
        "Why was Royal College of Chemistry founded?"
    )
    # "Who is the General Secretary of the Party?": the secretary is the person asked
    # about, so "its" is not the secretary's
    assert resolve("What is its organ?", [SECRETARY], topic="the party").query == (
        "What is the party's organ?"
    )


def test_he_after_a_person_the_question_names_is_that_person() -> None:
    """A full question's own "he" is left alone (resolving it would only hurt), but an
    object "him" is never the subject named before it."""
    link = said(
        "Who is the link between Oberhauser and Bond?",
        "Franz Oberhauser",
        "Franz Oberhauser, Bond's foster brother, faked his death.",
    )
    full = "What did Oberhauser call himself after he faked his death?"
    he = lambda _name: "he"  # noqa: E731 - the corpus calls both men "he"
    assert resolve(full, [link], pronoun=he).query == full
    assert not resolve(full, [link], pronoun=he).follow_up
    party = said(
        "Charles de La Valette led what party?",
        "clerical party",
        "Charles de La Valette was a leader of the clerical party.",
    )
    asked = "What position did Napoleon III appoint him to?"
    assert resolve(asked, [party], pronoun=he).query == (
        "What position did Napoleon III appoint La Valette to?"
    )


def test_its_after_a_thing_the_question_names_is_that_things() -> None:
    """A full question's own "its" is left alone; "it" as an object still takes the
    last turn's name."""
    joined = said(
        "When did Armenia become part of the Transcaucasian Republic?",
        "1920",
        "By 1920, the state was part of the Transcaucasian Republic.",
    )
    full = "When did Armenia gain its independence?"
    assert resolve(full, [joined]).query == full
    assert resolve("When did Russia leave it?", [joined]).query == (
        "When did Russia leave Armenia?"
    )


def test_they_is_never_a_thing_the_corpus_calls_it() -> None:
    fought = said("Who did Russia fight in the Crimean War?", "Russia lost to France", None)
    asked = "When did they declare war on Russia?"
    assert resolve(asked, [fought]).query == asked
    kinds = {"Crimean War": "it", "Ottomans": "they"}.get
    allied = said("Where did the Ottomans fight in the Crimean War?", "the Danube", None)
    assert resolve("Who led them?", [allied], pronoun=lambda n: kinds(n) or "it").query == (
        "Who led Ottomans?"
    )

"""retrieve.py: query preparation (acronyms, typos, subject) and hybrid ranking."""

from __future__ import annotations

import pytest

from conftest import CORPUS, INDEX, FakeEmbedder
from cppqa.config import Settings
from cppqa.search.index import Index
from cppqa.search.retrieve import CONTEXT_WEIGHT, EARLIER_WEIGHT, Retriever


@pytest.fixture(scope="module")
def fake_retriever() -> Retriever:
    """The shipped corpus indexed in memory with the fake embedder: fast plumbing."""
    embedder = FakeEmbedder()
    index = Index.build(Settings(corpus_dir=CORPUS, index_dir=INDEX), embedder)
    return Retriever(index, embedder)


def test_subject_is_the_documents_main_acronym_and_its_forms(fake_retriever: Retriever) -> None:
    assert set(fake_retriever.subject) == {
        "communist party of pakistan",
        "communist party",
        "party",
        "cpp",
    }


def test_an_acronym_few_sentences_mention_is_not_the_subject(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The most-mentioned acronym of an article on Somalia is a side matter: neither its
    words nor "the forward mail" may stand for the document's subject."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    sentences = [f"Somalia built {n} new towers in the north that year." for n in range(12)]
    sentences.insert(3, "Letters went by forward mail (FM) until the FM service closed.")
    (corpus / "somalia.txt").write_text(" ".join(sentences), encoding="utf-8")
    embedder = FakeEmbedder()
    index = Index.build(Settings(corpus_dir=corpus, index_dir=tmp_path / "index"), embedder)
    retriever = Retriever(index, embedder)
    assert retriever.subject == []
    assert retriever.topic is None
    assert retriever.strip_subject("When did the FM service close?") == (
        "When did the FM service close?"
    )


def test_prepare_expands_acronyms_from_the_corpus(fake_retriever: Retriever) -> None:
    query = fake_retriever.prepare("Which CC member was paralyzed?")
    assert "central committee" in query.text.lower()
    assert "central committee" in query.focus.lower()
    query = fake_retriever.prepare("When was the CPP formed?")
    assert "communist party of pakistan" in query.text.lower()
    assert "pakistan" not in query.focus.lower()  # the subject is dropped for the dense model


def test_prepare_corrects_typos(fake_retriever: Retriever) -> None:
    query = fake_retriever.prepare("Who is the genral secretery?")
    assert query.text == "Who is the general secretary?"
    assert {"general", "secretari"} <= set(query.stems)


def test_prepare_drops_the_subject_from_the_stems(fake_retriever: Retriever) -> None:
    query = fake_retriever.prepare("When was the party declared illegal?")
    assert "parti" not in query.stems
    assert {"declar", "illeg"} <= set(query.stems)


def test_strip_subject_keeps_other_expansions(fake_retriever: Retriever) -> None:
    assert (
        fake_retriever.strip_subject(
            "Was the CPP formed at a congress of the Communist Party of India?"
        )
        == "Was formed at a congress of the Communist Party of India?"
    )


def test_search_returns_k_candidates_best_first(fake_retriever: Retriever) -> None:
    found = fake_retriever.search(fake_retriever.prepare("Where was Nazir Abbasi martyred?"), k=5)
    assert len(found) == 5
    assert len({c.sentence for c in found}) == 5
    assert [c.fused for c in found] == sorted((c.fused for c in found), reverse=True)
    best = fake_retriever.index.sentences[found[0].sentence].text
    assert "Nazir Abbasi" in best  # lexical evidence wins even with a toy embedder
    assert found[0].coverage == pytest.approx(1.0)
    assert all(0.0 <= c.coverage <= 1.0 for c in found)


# --- the real model ------------------------------------------------------------------------

KEY_QUESTIONS = [
    ("When was the party declared illegal?", "For this reason, in 1954, the party was declared"),
    ("Where was Nazir Abbasi martyred?", "In the same operation, another young comrade Nazir"),
    ("Who is the General Secretary of the Party?", "Comrade Imdad Qazi is the General Secretary"),
    ("What is the ideological basis of the party?", "The ideological basis of the party is"),
    ("When did Ayub Khan impose martial law?", "When Ayub Khan imposed martial law in 1958"),
    ("Who was tortured and martyred in the royal fort of Lahore?", "In the time of General Ayub"),
    ("What is the party organ called?", "The party organ, Red Flag"),
    ("In which province is the party working openly?", "The party is working openly in Sindh"),
    ("What was the name of the false case filed against the party in 1951?", "For this reason, a"),
    ("Who is the genral secretery?", "Comrade Imdad Qazi is the General Secretary"),
    ("what does the cc member suffer from", "Another CC member was mentally paralyzed"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("question", "evidence"), KEY_QUESTIONS)
def test_key_questions_rank_their_evidence_first(qa, question: str, evidence: str) -> None:  # type: ignore[no-untyped-def]
    answer = qa.ask(question)
    assert answer.sources[0].passage.text.startswith(evidence)
    found = qa.retriever.search(qa.retriever.prepare(question), k=3)
    assert any(qa.index.sentences[c.sentence].text.startswith(evidence) for c in found)


@pytest.mark.slow
def test_real_vocabulary_learns_acronyms(qa) -> None:  # type: ignore[no-untyped-def]
    acronyms = qa.retriever.vocabulary.acronyms
    assert acronyms["cpp"] == "communist party of pakistan"
    assert acronyms["cc"] == "central committee"


def test_coverage_counts_words_of_the_sentences_before_in_part(fake_retriever: Retriever) -> None:
    texts = [p.text for p in fake_retriever.index.sentences]
    began = next(i for i, t in enumerate(texts) if t.startswith("The CPP began a struggle"))
    # "bureaucracy" is in the sentence before it, "nurtured" two before, "generals" further
    near = fake_retriever.coverage(fake_retriever.prepare("bureaucracy"), began)
    far = fake_retriever.coverage(fake_retriever.prepare("nurtured"), began)
    none = fake_retriever.coverage(fake_retriever.prepare("generals"), began)
    assert near == pytest.approx(CONTEXT_WEIGHT)
    assert far == pytest.approx(EARLIER_WEIGHT)
    assert none == 0.0
    assert fake_retriever.coverage(fake_retriever.prepare("struggle"), began) == 1.0


def test_share_counts_only_the_sentence_itself_unless_asked(fake_retriever: Retriever) -> None:
    texts = [p.text for p in fake_retriever.index.sentences]
    began = next(i for i, t in enumerate(texts) if t.startswith("The CPP began a struggle"))
    stems = fake_retriever.specific_stems("the party's struggle against the bureaucracy")
    assert stems == ("struggl", "bureaucraci")  # the subject is dropped
    weights = [fake_retriever.vocabulary.idf(s) for s in stems]
    assert fake_retriever.share(stems, began) == pytest.approx(weights[0] / sum(weights))
    assert fake_retriever.share(stems, began, context=True) == pytest.approx(
        (weights[0] + CONTEXT_WEIGHT * weights[1]) / sum(weights)
    )
    assert fake_retriever.share((), began) == 0.0

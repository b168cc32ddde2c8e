"""adapt.py: a user's questions → examples read as at answer time; a tiny adaptation run."""

from __future__ import annotations

import gzip
import itertools
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from test_train import _batch_loss

from conftest import FakeEmbedder
from cppqa.config import Settings
from cppqa.datasets.feedback import Vote
from cppqa.errors import CppqaError
from cppqa.training.adapt import Lesson, Taught, lesson_examples, read_lesson, run_length
from cppqa.training.examples import Example, example_stream
from cppqa.training.hyperparameters import TrainConfig, resolve_config

ROOT = Path(__file__).resolve().parents[2]

#: A made-up corpus of two paragraphs no reader has seen.
CORPUS = (
    "The Velmora Observatory stands on Grell Hill above the town of Oskan. "
    "It was founded in 1891 by the astronomer Ilse Brandvik. "
    "Its great refractor has a lens of 62 centimetres. "
    "Visitors climb 214 steps to reach the dome.\n\n"
    "The observatory's library keeps the Tannhold Atlas, a star chart drawn by hand. "
    "The atlas was bought from a Lisbon dealer for nine hundred florins. "
    "Every spring the staff hold the Lantern Night, when the dome is opened to children. "
    "The observatory closed for repairs after the flood of 1957."
)


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_eval_rows_conversations_and_votes_become_questions(tmp_path: Path) -> None:
    qa_rows = [
        {"split": "dev", "category": "answerable", "question": "Who?", "answers": ["Ann"]},
        {"split": "dev", "category": "near_topic", "question": "Why?", "answers": []},
        {"split": "heldout", "category": "answerable", "question": "Not me", "answers": ["x"]},
    ]
    lesson = read_lesson(_write(tmp_path / "qa.jsonl", qa_rows), "dev")
    assert [(t.question, t.answers) for t in lesson.taught] == [("Who?", ("Ann",)), ("Why?", ())]
    assert len(read_lesson(tmp_path / "qa.jsonl").taught) == 3  # no split: every row

    turns = [{"question": "When?", "answers": ["1891"]}, {"question": "Who?", "answers": []}]
    talk = read_lesson(_write(tmp_path / "c.jsonl", [{"split": "dev", "turns": turns}]), "dev")
    assert talk.taught[1] == Taught("Who?", (), (("When?", "1891"),), "c.jsonl:1")

    votes = [
        Vote("When?", "When founded?", "1891", True, history=(("Who?", "Ilse"),)).to_json(),
        Vote("Who sold it?", "Who sold it?", "a Lisbon dealer", False).to_json(),
        Vote("Who is the mayor?", "Who is the mayor?", None, True).to_json(),
    ]
    voted = read_lesson(_write(tmp_path / "feedback.jsonl", votes))
    assert [(t.question, t.answers, t.history) for t in voted.taught] == [
        ("When founded?", ("1891",), ()),  # asked as the chat understood it then
        ("Who is the mayor?", (), ()),  # a confirmed "not in the document"
    ]
    assert voted.to_label == 1  # the thumbs-down waits for its right answer
    # only thumbs-down votes: nothing to learn yet, but not an error of the file
    down = read_lesson(_write(tmp_path / "down.jsonl", votes[1:2]))
    assert down == Lesson((), 1)
    # a vote cut short by a crash is skipped, as feedback.read_votes does
    cut = tmp_path / "cut.jsonl"
    cut.write_text(_write(tmp_path / "x.jsonl", votes).read_text() + '{"question": "Wh', "utf-8")
    assert len(read_lesson(cut).taught) == 2


def test_squad_json_is_read_with_its_unanswerable_questions(tmp_path: Path) -> None:
    qas = [
        {"id": "q1", "question": "When?", "answers": [{"text": "1891", "answer_start": 0}]},
        {"id": "q2", "question": "Who?", "answers": [], "is_impossible": True},
    ]
    data = {"data": [{"title": "T", "paragraphs": [{"context": "1891", "qas": qas}]}]}
    path = tmp_path / "mine.json.gz"
    path.write_bytes(gzip.compress(json.dumps(data).encode()))
    lesson = read_lesson(path)
    assert [(t.question, t.answers) for t in lesson.taught] == [("When?", ("1891",)), ("Who?", ())]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("q.csv", "a,b\n", "expected a .jsonl file"),
        ("q.jsonl", "{not json\n", r"q.jsonl:1 is not valid JSON"),
        ("q.jsonl", '{"title": "x"}\n', "q.jsonl:1: neither a question, a conversation nor"),
        ("q.jsonl", '{"question": "Who?", "answers": "Ann"}\n', "must be a list of exact quotes"),
        ("q.jsonl", "\n", "holds no question to learn"),
        ("q.json", '{"nothing": []}', "is not a SQuAD file"),
    ],
)
def test_bad_files_are_refused_with_what_is_wrong(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CppqaError, match=message):
        read_lesson(path)


def test_a_missing_file_is_named() -> None:
    with pytest.raises(CppqaError, match=r"'missing\.jsonl' is not a file"):
        read_lesson(Path("missing.jsonl"))


@pytest.fixture(scope="module")
def made_up_qa(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The pipeline over the made-up corpus (fake embedder, the shipped reader)."""
    from cppqa.qa import QA

    folder = tmp_path_factory.mktemp("adapt")
    (folder / "corpus").mkdir()
    (folder / "corpus" / "velmora.txt").write_text(CORPUS, encoding="utf-8")
    settings = Settings(corpus_dir=folder / "corpus", index_dir=folder / "index", windows=3)
    return QA.load(settings, embedder=FakeEmbedder())


def test_questions_are_read_with_the_windows_retrieval_gives_them(made_up_qa) -> None:  # type: ignore[no-untyped-def]
    taught = Lesson(
        (
            Taught("Who founded the observatory?", ("ilse brandvik",)),
            Taught("Who is the mayor of Oskan?", ()),
        )
    )
    examples = lesson_examples(made_up_qa, taught)
    found = made_up_qa.retrieve("Who founded the observatory?")
    windows = [w.text for w in found.windows]
    answer = [e for e in examples if e.kind == "taught"]
    assert answer and all(e.context in windows for e in answer)
    for e in answer:  # the case of the text, at the place it is
        assert e.answer == "Ilse Brandvik" and e.context[e.answer_start :].startswith(e.answer)
    lacking = [e for e in examples if e.kind == "taught-none" and e.question == found.asked]
    assert len(lacking) == 1 and "Ilse Brandvik" not in lacking[0].context
    none = [e for e in examples if e.question != found.asked]
    assert 1 <= len(none) <= 2 and all(e.answer_start is None for e in none)


def test_an_answer_retrieval_misses_is_read_where_it_is(made_up_qa) -> None:  # type: ignore[no-untyped-def]
    from cppqa.training.adapt import _examples

    made = _examples(made_up_qa, "What was paid?", [], ("nine hundred florins",))
    assert made is not None and len(made) == 1  # no retrieved window: none lacks it either
    e = made[0]
    assert e.answer == "nine hundred florins" and e.context[e.answer_start :].startswith(e.answer)
    assert e.context in CORPUS and "Lisbon dealer" in e.context
    assert _examples(made_up_qa, "What was paid?", [], ("ten florins",)) is None


def test_answers_are_found_whatever_their_case_even_after_letters_that_change_length() -> None:
    from cppqa.training.adapt import _find

    text = "İstanbul and Lahore, then LAHORE again."  # "İ".lower() is two characters
    assert _find(text, ["lahore"]) == (13, 19) and text[13:19] == "Lahore"
    assert _find(text, ["Lahore again", "lahore"]) == (13, 19)  # the shortest gold
    assert _find(text, [" ", "Karachi"]) is None


def test_answers_the_corpus_does_not_hold_are_listed(made_up_qa) -> None:  # type: ignore[no-untyped-def]
    lesson = Lesson(
        (
            Taught("Who founded it?", ("Ilse Brandvik",), (), "mine.jsonl:1"),
            Taught("How tall is the dome?", ("40 metres",), (), "mine.jsonl:2"),
            Taught("Where is it?", ("Mount Palomar", "California"), (), "mine.jsonl:3"),
        )
    )
    with pytest.raises(CppqaError) as caught:
        lesson_examples(made_up_qa, lesson)
    message = str(caught.value)
    assert message.startswith("2 of the 3 answers are not in the corpus")
    assert "mine.jsonl:2: 'How tall is the dome?' → '40 metres'" in message
    assert "mine.jsonl:3: 'Where is it?' → 'Mount Palomar' / 'California'" in message
    assert "mine.jsonl:1" not in message


def test_the_stream_shows_each_taught_example_once_an_epoch_at_its_share() -> None:
    from cppqa.datasets.squad import load_squad

    taught = [Example(f"q{n}", "ctx", None, "", "taught-none") for n in range(10)]
    articles = load_squad(ROOT / "tests" / "data" / "squad-slice.json")
    config = TrainConfig(adapt=("x.jsonl",), adapt_share=0.5, init="r")
    stream = list(itertools.islice(example_stream(articles, config, 13, (), taught), 400))
    drawn = [e for e in stream if e.kind == "taught-none"]
    assert 160 <= len(drawn) <= 240  # about half
    for epoch in range(len(drawn) // 10):
        assert sorted(e.question for e in drawn[epoch * 10 : epoch * 10 + 10]) == sorted(
            e.question for e in taught
        )
    # the --data examples are those a stream without --adapt has at the same index: the
    # same examples in the same order, the taught ones taking the place of others
    others = [e for e in stream if e.kind != "taught-none"]
    plain = iter(itertools.islice(example_stream(articles, TrainConfig(), 13), 400))
    assert all(any(e == p for p in plain) for e in others)


def test_a_run_sees_each_example_four_times_by_default() -> None:
    assert run_length(500, 0.5, 16) == 4000
    assert run_length(3, 0.5, 16) == 32
    with pytest.raises(CppqaError, match="--adapt goes on from a trained reader"):
        resolve_config(adapt=("x.jsonl",))
    with pytest.raises(CppqaError, match="share must be between 0 and 1"):
        resolve_config(adapt=("x.jsonl",), init="r", adapt_share=1.0)


def test_the_adapted_reader_is_chosen_for_its_corpus_alone(tmp_path: Path) -> None:
    from cppqa.reading.reader import adapted_folder

    folder = tmp_path / "reader-adapted"
    folder.mkdir()
    assert adapted_folder("abc", folder) is None  # nothing there
    (folder / "reader.json").write_text(json.dumps({"adapted": {"corpus": "abc"}}), "utf-8")
    assert adapted_folder("abc", folder) == folder
    assert adapted_folder("abd", folder) is None
    (folder / "reader.json").write_text("{broken", "utf-8")
    assert adapted_folder("abc", folder) is None


def test_the_pipeline_reads_its_corpus_with_the_reader_adapted_to_it(
    tmp_path: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from cppqa.qa import QA
    from cppqa.reading import reader as reader_module
    from cppqa.reading.reader import SHIPPED_DIR
    from cppqa.records import Document
    from cppqa.search.index import fingerprint
    from cppqa.uploads.sessions import Uploads

    adapted = tmp_path / "reader-adapted"
    shutil.copytree(SHIPPED_DIR, adapted)
    meta = json.loads((adapted / "reader.json").read_text(encoding="utf-8"))
    monkeypatch.setattr(reader_module, "ADAPTED_DIR", adapted)
    settings = Settings(corpus_dir=workdir / "corpus", index_dir=workdir / "index")
    qa = QA.load(settings, embedder=FakeEmbedder())
    assert qa.reader.folder == SHIPPED_DIR and qa.reader.adapted_to == ""  # not this corpus
    meta["adapted"] = {"corpus": fingerprint(qa.index.documents)}
    (adapted / "reader.json").write_text(json.dumps(meta), encoding="utf-8")
    qa = QA.load(settings, embedder=FakeEmbedder())
    assert qa.reader.folder == adapted and qa.reader.adapted_to == meta["adapted"]["corpus"]
    # an upload is another corpus: the general reader reads it
    uploads = Uploads(qa)
    other = fingerprint([Document("mine.txt", "Mine", "Other text.", "0" * 64)])
    assert uploads._reader_for(other).folder == SHIPPED_DIR
    assert uploads._reader_for(qa.reader.adapted_to) is qa.reader


@pytest.mark.slow
def test_a_tiny_adaptation_learns_its_questions(tmp_path: Path, made_up_qa) -> None:  # type: ignore[no-untyped-def]
    """A few steps on the made-up corpus' questions: their loss falls, and a question
    the shipped reader gets wrong is answered right once it was taught."""
    from conftest import FakeEmbedder
    from cppqa.qa import QA
    from cppqa.reading.reader import SHIPPED_DIR, Reader
    from cppqa.training.adapt import REPLAY_FILE
    from cppqa.training.train import train_reader

    lesson = Lesson(
        (
            Taught("What did the staff name the spring evening?", ("Lantern Night",)),
            Taught("What chart does the library keep?", ("the Tannhold Atlas",)),
            Taught("How many steps lead to the dome?", ("214",)),
            Taught("How was the atlas made?", ("drawn by hand",)),
            Taught("Who is the mayor of Oskan?", ()),
        )
    )
    taught = lesson_examples(made_up_qa, lesson)
    wrong = made_up_qa.ask("How was the atlas made?").text  # measured: 'a Lisbon dealer'
    assert wrong is None or "drawn by hand" not in wrong
    config = replace(
        TrainConfig(
            examples=64, batch_size=8, lr=1e-4, warmup=0.1, eval_every=100, eval_questions=8
        ),
        init=str(SHIPPED_DIR),
        adapt=("mine.jsonl",),
    )
    shipped = Reader.load()
    before = _batch_loss(shipped.model, shipped.tokenizer, taught, config.max_tokens)
    adapted = {"files": ["mine.jsonl"], "split": "", "questions": 5, "to_label": 0}
    adapted |= {"examples": len(taught), "documents": {"velmora.txt": "0"}, "corpus": "f"}
    result = train_reader(
        REPLAY_FILE, tmp_path / "r", tmp_path / "c", config, progress=False, taught=taught,
        adapted=adapted,
    )  # fmt: skip
    assert result.finished
    reader = Reader.load(tmp_path / "r")
    after = _batch_loss(reader.model, reader.tokenizer, taught, config.max_tokens)
    assert after < 0.7 * before, (before, after)
    qa = QA(made_up_qa.index, FakeEmbedder(), made_up_qa.settings, reader)
    answer = qa.ask("How was the atlas made?")
    assert answer.text is not None and "drawn by hand" in answer.text, answer.text
    meta = json.loads((tmp_path / "r" / "reader.json").read_text(encoding="utf-8"))
    assert meta["adapted"]["corpus"] == "f" and meta["calibration"]["from"] == str(SHIPPED_DIR)
    assert meta["held_out_articles"] == shipped.meta["held_out_articles"]
    card = (tmp_path / "r" / "README.md").read_text(encoding="utf-8")
    assert "## Adapted" in card and "`mine.jsonl`" in card and "not a held-out" in card


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give --data FILE (SQuAD 1.1), or --adapt FILE"),
        (["--data", "x.json", "--adapt-split", "dev"], "go with --adapt"),
        (["--adapt", "eval/qa.jsonl", "--group", "4"], "--adapt and --group cannot go"),
        (["--adapt", "missing.jsonl"], "--adapt 'missing.jsonl' is not a file"),
        (["--adapt", "eval/qa.jsonl", "--adapt-share", "1.5"], "share must be between 0 and 1"),
    ],
)
def test_train_reader_adapt_errors(args: list[str], message: str) -> None:
    from conftest import run_cli

    done = run_cli("train-reader", *args)
    assert done.returncode != 0 and message in done.stderr, done.stderr

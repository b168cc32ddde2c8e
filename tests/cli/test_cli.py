"""cli.py: the commands as a user runs them (subprocesses), and the text rendering.

The model-loading runs are module fixtures, each started once and checked by
several tests, because every one costs a model load.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import CORPUS, DOCUMENT, INDEX, make_pdf, run_cli
from cppqa.cli import _settings, _StepBars, build_parser, render
from cppqa.config import Settings
from cppqa.documents.corpus import load_corpus
from cppqa.documents.formats import read_document
from cppqa.evaluation.bench_upload import pdf_pages
from cppqa.records import NOT_FOUND, Answer, Passage, Source
from cppqa.search.index import fingerprint
from cppqa.search.placement import corpus_index_dir
from cppqa.search.progress import Stage, Step

CONTRACT = {"question", "query", "answer", "confidence", "sources", "threshold", "checked"}
#: "page" and "heading" were added with PDF and Word documents (issue 25): null for a .txt.
SOURCE_KEYS = {"doc", "start", "end", "text", "score", "page", "heading"}
TEXT = DOCUMENT.read_text(encoding="utf-8")


def _objects(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def _check_contract(obj: dict[str, Any]) -> None:
    assert set(obj) == CONTRACT
    assert isinstance(obj["confidence"], float) and 0.0 <= obj["confidence"] <= 1.0
    assert obj["sources"]
    for source in obj["sources"]:
        assert set(source) == SOURCE_KEYS
        assert source["doc"] == DOCUMENT.name
        assert TEXT[source["start"] : source["end"]] == source["text"]
        assert isinstance(source["score"], float)
        assert source["page"] is None and source["heading"] is None  # the shipped .txt
    if obj["answer"] is not None:
        assert obj["answer"] in obj["sources"][0]["text"]
        assert obj["checked"] == []  # an answer's evidence is its source
        return
    assert obj["checked"], "a refusal lists the passages it read"
    for row in obj["checked"]:
        assert set(row) == SOURCE_KEYS | {"span", "span_start", "margin", "confidence"}
        assert TEXT[row["start"] : row["end"]] == row["text"]
        if row["span"] is not None:
            assert row["margin"] <= 0 or row["confidence"] < obj["threshold"]


# --- one question --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ask_text() -> subprocess.CompletedProcess[str]:
    return run_cli("ask", "When was the party declared illegal?")


@pytest.fixture(scope="module")
def ask_json() -> subprocess.CompletedProcess[str]:
    return run_cli("ask", "--json", "Who is the General Secretary of the Party?")


@pytest.mark.slow
def test_ask_prints_the_answer_and_its_source(ask_text: subprocess.CompletedProcess[str]) -> None:
    assert ask_text.returncode == 0, ask_text.stderr
    assert "Traceback" not in ask_text.stderr
    assert re.search(r"^Answer: .*1954", ask_text.stdout, re.MULTILINE)
    where = re.search(r"^Source: (\S+):(\d+)-(\d+)", ask_text.stdout, re.MULTILINE)
    assert where, ask_text.stdout
    doc, start, end = where.group(1), int(where.group(2)), int(where.group(3))
    assert doc == DOCUMENT.name
    assert TEXT[start:end] == "For this reason, in 1954, the party was declared illegal."
    assert '"For this reason, in **1954**, the party was declared illegal."' in ask_text.stdout


@pytest.mark.slow
def test_ask_json_prints_one_contract_object(ask_json: subprocess.CompletedProcess[str]) -> None:
    assert ask_json.returncode == 0, ask_json.stderr
    (obj,) = _objects(ask_json)
    _check_contract(obj)
    assert obj["question"] == "Who is the General Secretary of the Party?"
    assert "Imdad Qazi" in obj["answer"]
    assert obj["sources"][0]["text"] == "Comrade Imdad Qazi is the General Secretary of the Party."


# --- many questions on stdin ----------------------------------------------------------------

BATCH = [
    "When was the party declared illegal?",
    "What is the capital of France?",
    "",
    "What is his position?",
    "?!",
    "Where was Nazir Abbasi martyred?",
]


@pytest.fixture(scope="module")
def ask_batch() -> subprocess.CompletedProcess[str]:
    return run_cli("ask", "--json", "-", stdin="\n".join(BATCH) + "\n")


@pytest.mark.slow
def test_ask_stdin_prints_one_object_per_question(
    ask_batch: subprocess.CompletedProcess[str],
) -> None:
    assert "Traceback" not in ask_batch.stderr
    objects = _objects(ask_batch)
    assert [o["question"] for o in objects] == [q for q in BATCH if q]  # blank lines skipped
    illegal, france, position, bad, nazir = objects
    for obj in (illegal, france, position, nazir):
        _check_contract(obj)
    assert "1954" in illegal["answer"]
    assert france["answer"] is None
    assert nazir["answer"] is not None and "Karachi" in nazir["answer"]
    # Questions are independent: nothing carries over from one line to the next.
    assert position["query"] == "What is his position?"
    # A bad line is reported in place and the batch carries on, exiting non-zero.
    assert set(bad) == {"question", "error"}
    assert "has no words" in bad["error"]
    assert ask_batch.returncode == 1


# --- a conversation ---------------------------------------------------------------------------

CHAT = [
    "Who is the General Secretary of the Party?",
    "What is his position?",
    "",
    "What is his position?",
]


@pytest.fixture(scope="module")
def chat_json() -> subprocess.CompletedProcess[str]:
    return run_cli("chat", "--json", stdin="\n".join(CHAT) + "\n")


@pytest.mark.slow
def test_chat_json_resolves_follow_ups_and_resets_on_a_blank_line(
    chat_json: subprocess.CompletedProcess[str],
) -> None:
    assert chat_json.returncode == 0, chat_json.stderr
    first, follow_up, fresh = _objects(chat_json)
    for obj in (first, follow_up, fresh):
        _check_contract(obj)
    assert "Imdad Qazi" in first["answer"]
    assert follow_up["question"] == "What is his position?"
    assert follow_up["query"] != follow_up["question"]
    assert "Imdad Qazi" in follow_up["query"]
    # After the blank line the same words mean nobody in particular.
    assert fresh["query"] == "What is his position?"


# --- building the index -----------------------------------------------------------------------


@pytest.mark.slow
def test_index_builds_in_the_given_folders(workdir: Path) -> None:
    target = workdir / "fresh-index"
    result = run_cli("index", "--corpus", str(workdir / "corpus"), "--index", str(target))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert re.search(
        r"^Indexed 1 document\(s\): 35 sentences, 17 passages, 384-d vectors from "
        r"sentence-transformers/all-MiniLM-L6-v2, in [\d.]+ s → .*fresh-index$",
        result.stdout,
        re.MULTILINE,
    ), result.stdout
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"] == {"documents": 1, "sentences": 35, "chunks": 17}
    assert sorted(p.name for p in workdir.iterdir()) == ["corpus", "fresh-index", "index"]


@pytest.mark.slow
def test_index_shows_the_count_of_a_long_embedding_rise(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "report.pdf").write_bytes(pdf_pages(TEXT, 12))  # embedding it takes seconds
    (corpus / "short.txt").write_text("A short note.", encoding="utf-8")
    result = run_cli("index", "--corpus", str(corpus), "--index", str(tmp_path / "index"))
    assert result.returncode == 0, result.stderr
    counts = re.findall(r"embedding ([\d,]+) / ([\d,]+) sentences and passages", result.stderr)
    done = sorted({int(n.replace(",", "")) for n, _ in counts})
    (total,) = {int(n.replace(",", "")) for _, n in counts}
    assert len(done) >= 3 and done[-1] == total, result.stderr  # by batch, up to all
    assert "short.txt" not in result.stderr
    assert result.stdout.startswith("Indexed 2 document(s)")


@pytest.mark.slow
def test_ask_about_a_single_pdf_gives_the_answers_of_the_text(tmp_path: Path) -> None:
    """``--corpus FILE``: a PDF of the shipped document, same answers, quotes and offsets."""
    pdf = tmp_path / "cpp.pdf"
    pdf.write_bytes(make_pdf([[TEXT]]))
    questions = "When was the party declared illegal?\nWho is the General Secretary of the Party?\n"
    result = run_cli(
        *("ask", "--json", "--corpus", str(pdf), "--index", str(tmp_path / "index"), "-"),
        stdin=questions,
    )
    assert result.returncode == 0, result.stderr
    illegal, secretary = _objects(result)
    assert "1954" in illegal["answer"]
    source = illegal["sources"][0]
    assert source["doc"] == "cpp.pdf"
    assert TEXT[source["start"] : source["end"]] == source["text"]
    assert source["text"] == "For this reason, in 1954, the party was declared illegal."
    read = read_document(pdf, tmp_path)
    assert (source["page"], source["heading"]) == (read.page_at(source["start"]), None)
    assert "Imdad Qazi" in secretary["answer"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cpp.pdf", "index"]


def test_a_bad_corpus_file_is_named_and_no_index_is_written(tmp_path: Path) -> None:
    scan = tmp_path / "empty.pdf"
    scan.write_bytes(b"")
    result = run_cli("ask", "--corpus", str(scan), "--index", str(tmp_path / "index"), "When?")
    assert result.returncode == 2
    message = f"cppqa: error: {str(scan)!r} is empty: put the document's text in it"
    assert result.stderr.splitlines()[-1] == message
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.pdf"]  # no index was written


# --- an index belongs to its corpus -------------------------------------------------------------


def _files_of(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``folder`` with its SHA-256 and modification time."""
    return {
        p.relative_to(folder).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_a_corpus_without_index_keeps_its_own_in_the_cache(tmp_path: Path) -> None:
    """``--corpus`` without ``--index`` leaves the shipped ``index/`` alone: its index goes
    into the cache, named by the corpus's fingerprint, and the next ask reuses it."""
    shipped = _files_of(INDEX)
    document = tmp_path / "mine" / "history.txt"
    document.parent.mkdir()
    document.write_text(TEXT, encoding="utf-8")
    cache = tmp_path / "cache"
    env = {"CPPQA_CACHE_DIR": str(cache)}
    question = "When was the party declared illegal?"

    first = run_cli("ask", "--json", "--corpus", str(document), question, env=env)
    assert first.returncode == 0, first.stderr
    assert "1954" in json.loads(first.stdout)["answer"]
    (built,) = (cache / "indexes").iterdir()
    assert built.name == fingerprint(load_corpus(document))
    manifest = (built / "manifest.json").read_bytes()

    again = run_cli("ask", "--json", "--no-rebuild", "--corpus", str(document), question, env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == json.loads(first.stdout)
    # The same files elsewhere are the same corpus: `index` finds their index current.
    copy = tmp_path / "copy" / document.name
    copy.parent.mkdir()
    copy.write_bytes(document.read_bytes())
    current = run_cli("index", "--corpus", str(copy), env=env)
    assert current.returncode == 0, current.stderr
    assert current.stdout == (
        f"Index of 1 document(s) is current: 35 sentences, 17 passages → {built} "
        "(--force rebuilds it)\n"
    )
    assert (built / "manifest.json").read_bytes() == manifest
    assert [p.name for p in (cache / "indexes").iterdir()] == [built.name]

    forced = run_cli("index", "--force", "--corpus", str(copy), env=env)
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.startswith("Indexed 1 document(s): 35 sentences, 17 passages")
    assert (built / "manifest.json").read_bytes() != manifest  # built anew: a new build time
    assert _files_of(INDEX) == shipped


@pytest.mark.parametrize(
    ("args", "env", "where"),
    [
        ([], {}, "shipped"),
        (["--corpus", str(CORPUS)], {}, "shipped"),
        (["--corpus", "{tmp}/notes"], {}, "cache"),
        (["--corpus", "{tmp}/notes/a.md"], {}, "cache"),
        (["--corpus", "{tmp}/notes", "--index", "{tmp}/mine"], {}, "given"),
        (["--corpus", "{tmp}/notes"], {"CPPQA_INDEX_DIR": "{tmp}/mine"}, "given"),
        (["--corpus", "{tmp}/nowhere"], {}, "shipped"),  # load_corpus says it is missing
    ],
    ids=["default", "shipped", "folder", "file", "flag", "env", "missing"],
)
def test_which_index_a_command_uses(
    args: list[str],
    env: dict[str, str],
    where: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.md").write_text("# A\n\nThe bridge opened in 1931.", encoding="utf-8")
    monkeypatch.setenv("CPPQA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CPPQA_INDEX_DIR", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value.replace("{tmp}", str(tmp_path)))
    parsed = build_parser().parse_args(
        ["ask", *[a.replace("{tmp}", str(tmp_path)) for a in args], "Q?"]
    )
    index_dir = _settings(parsed).index_dir
    if where == "cache":
        corpus = load_corpus(Path(parsed.corpus))
        expected = tmp_path / "cache" / "indexes" / fingerprint(corpus)
    else:
        expected = Settings().index_dir if where == "shipped" else tmp_path / "mine"
    assert index_dir == expected


def test_the_cache_key_is_the_fingerprint_of_the_files(tmp_path: Path) -> None:
    """Same files, same key from any folder; another byte, another key; a Word lock file and
    files of other types are no part of the corpus."""
    one, two = tmp_path / "one", tmp_path / "two" / "deeper"
    for folder in (one, two):
        (folder / "sub").mkdir(parents=True)
        (folder / "a.md").write_text("# A\n\nThe bridge opened in 1931.", encoding="utf-8")
        (folder / "sub" / "b.txt").write_text("The road opened in 1932.", encoding="utf-8")
    (two / "~$lock.docx").write_bytes(b"\x00")
    (two / "notes.csv").write_text("a,b", encoding="utf-8")
    cache = tmp_path / "cache"
    key = corpus_index_dir(one, cache)
    assert key == cache / "indexes" / fingerprint(load_corpus(one))
    assert corpus_index_dir(two, cache) == key
    (two / "sub" / "b.txt").write_text("The road opened in 1933.", encoding="utf-8")
    assert corpus_index_dir(two, cache) not in {key, None}
    assert corpus_index_dir(two / "notes.csv", cache) is None
    assert corpus_index_dir(tmp_path / "nowhere", cache) is None


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["ask", ""], {}, "the question is empty; type a question about the document"),
        (["ask", "   \t "], {}, "the question is empty; type a question about the document"),
        (
            ["ask", "--corpus", "/nonexistent", "When was the party declared illegal?"],
            {},
            "corpus folder '/nonexistent' does not exist; create it",
        ),
        (
            ["chat", "--corpus", "/nonexistent"],
            {},
            "corpus folder '/nonexistent' does not exist; create it",
        ),
        (
            ["ask", "--no-rebuild", "--index", "{tmp}/missing", "When?"],
            {},
            "no index in '{tmp}/missing'; run `cppqa index` to rebuild it, or drop --no-rebuild",
        ),
        (
            ["ask", "--model", "/nonexistent", "When?"],
            {},
            "model folder '/nonexistent' has no model.safetensors",
        ),
        (["ask", "When?"], {"CPPQA_TOP_K": "three"}, "CPPQA_TOP_K='three' is not a valid int"),
        (
            ["ask", "--reader", "{tmp}", "When?"],
            {},
            "no trained reader in '{tmp}' (missing model.safetensors); train one",
        ),
        (
            ["train-reader", "--data", "{tmp}/none.json"],
            {},
            "--data '{tmp}/none.json' is not a file",
        ),
        (
            ["train-reader", "--data", "tests/data/squad-slice.json", "--examples", "2"],
            {},
            "--examples must be at least the batch size (16)",
        ),
        (
            [
                "train-reader",
                "--data",
                "tests/data/squad-slice.json",
                "--resume",
                "--checkpoint",
                "{tmp}/ck",
            ],
            {},
            "--resume: no checkpoint at '{tmp}/ck/state.pt'; start without --resume",
        ),
        (
            ["eval", "--squad", "{tmp}/none.json"],
            {},
            "cannot read SQuAD data from '{tmp}/none.json'",
        ),
        (
            ["eval", "--squad", "tests/data/squad-slice.json", "--articles", "Atlantis"],
            {},
            "--articles: no article titled 'Atlantis' in the file",
        ),
        (
            ["eval", "--squad", "tests/data/squad-slice.json", "--conversations", "--calibrate"],
            {},
            "--conversations scores follow-ups: drop --calibrate and --foreign",
        ),
        (
            [
                "eval",
                "--squad",
                "tests/data/squad-slice.json",
                "--conversations",
                "--articles",
                "Symbiosis",
            ],
            {},
            "--conversations: none of these articles has a follow-up to ask",
        ),
        (
            ["train-reader", "--data", "tests/data/squad-slice.json", "--lr", "2"],
            {},
            "--lr must be between 0 and 1, got 2.0",
        ),
    ],
    ids=[
        "empty",
        "whitespace",
        "no-corpus",
        "chat-no-corpus",
        "no-rebuild",
        "no-model",
        "env",
        "no-reader",
        "train-no-data",
        "train-few",
        "train-no-checkpoint",
        "squad-missing",
        "squad-article",
        "conversations-calibrate",
        "conversations-none",
        "train-lr",
    ],
)
def test_errors_are_one_line_without_traceback(
    args: list[str], env: dict[str, str], message: str, tmp_path: Path
) -> None:
    result = run_cli(*[a.replace("{tmp}", str(tmp_path)) for a in args], env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("cppqa: error: "), result.stderr
    assert message.replace("{tmp}", str(tmp_path)) in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "command", [[], ["ask"], ["chat"], ["index"], ["eval"], ["train-reader"], ["bench"]]
)
def test_help_on_every_command(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: cppqa {' '.join(command)}".rstrip())
    assert result.stderr == ""


def test_a_missing_command_is_a_usage_error() -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "usage: cppqa" in result.stderr
    assert "Traceback" not in result.stderr


# --- the text rendering -------------------------------------------------------------------------

_AT = TEXT.index("For this reason, in 1954")
SENTENCE = Passage(DOCUMENT.name, _AT, _AT + 57, TEXT[_AT : _AT + 57])


def test_render_marks_the_answer_in_its_sentence() -> None:
    start = SENTENCE.start + SENTENCE.text.index("1954")
    answer = Answer("q", "q", "1954", 0.9, (Source(SENTENCE, 0.8),), start)
    assert render(answer).splitlines() == [
        "Answer: 1954",
        '  "For this reason, in **1954**, the party was declared illegal."',
        f"Source: {DOCUMENT.name}:{SENTENCE.start}-{SENTENCE.end}  (confidence 0.90)",
    ]


def test_render_quotes_a_whole_sentence_answer_once() -> None:
    answer = Answer("q", "q", SENTENCE.text, 0.9, (Source(SENTENCE, 0.8),), SENTENCE.start)
    assert render(answer).splitlines() == [
        f"Answer: {SENTENCE.text}",
        f"Source: {DOCUMENT.name}:{SENTENCE.start}-{SENTENCE.end}  (confidence 0.90)",
    ]


def test_index_shows_a_bar_with_a_count_for_each_stage(capsys: pytest.CaptureFixture[str]) -> None:
    bars = _StepBars(delay=0)  # `cppqa index` waits a second
    texts = "sentences and passages"
    for step in [
        Step(Stage.READING, 1, 3, "pages", "a.pdf"),
        Step(Stage.READING, 3, 3, "pages", "a.pdf"),
        Step(Stage.READING, 2, 2, "pages", "b/c.pdf"),
        Step(Stage.EMBEDDING, 0, 4310, texts),
        Step(Stage.EMBEDDING, 1280, 4310, texts),
        Step(Stage.EMBEDDING, 4310, 4310, texts),
    ]:
        bars(step)
    bars.close()
    shown = capsys.readouterr()
    assert shown.out == ""
    assert re.search(r"reading a\.pdf: 3 / 3 pages 100%", shown.err)
    assert re.search(r"reading b/c\.pdf: 2 / 2 pages 100%", shown.err)
    assert re.search(r"embedding 0 / 4,310 sentences and passages   0%", shown.err)
    assert re.search(r"embedding 4,310 / 4,310 sentences and passages 100%", shown.err)


def test_render_names_the_page_and_heading_of_a_source() -> None:
    start = SENTENCE.start + SENTENCE.text.index("1954")
    paged = Source(SENTENCE, 0.8, page=2, heading="History")
    answer = Answer("q", "q", "1954", 0.9, (paged,), start)
    where = f"{DOCUMENT.name}:{SENTENCE.start}-{SENTENCE.end}, p. 2, “History”"
    assert render(answer).splitlines()[-1] == f"Source: {where}  (confidence 0.90)"
    nearest = Answer("q", "q", None, 0.1, (Source(SENTENCE, 0.2, page=3),))
    assert render(nearest).splitlines()[2] == (
        f'  1. {DOCUMENT.name}:{SENTENCE.start}-{SENTENCE.end}, p. 3  "{SENTENCE.text}"'
    )


def test_render_abstention_lists_the_nearest_passages() -> None:
    answer = Answer("q", "q", None, 0.1, (Source(SENTENCE, 0.2), Source(SENTENCE, 0.1)))
    lines = render(answer).splitlines()
    assert lines[0] == NOT_FOUND
    assert lines[1] == "Nearest passages (not an answer):"
    assert lines[2] == f'  1. {DOCUMENT.name}:{SENTENCE.start}-{SENTENCE.end}  "{SENTENCE.text}"'
    assert len(lines) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mix", "tests/data/squad2-test-slice.json"], "is not FILE:SHARE with a share"),
        (["--mix", "tests/data/squad2-test-slice.json:1.5"], "is not FILE:SHARE with a share"),
        (["--mix", "{tmp}/none.json:0.3"], "'{tmp}/none.json' is not a file"),
    ],
    ids=["no-share", "share-too-big", "no-file"],
)
def test_a_bad_mix_is_named(args: list[str], message: str, tmp_path: Path) -> None:
    data = ["train-reader", "--data", "tests/data/squad-slice.json"]
    result = run_cli(*data, *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.returncode == 2
    assert message.replace("{tmp}", str(tmp_path)) in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_ask_verbose_shows_what_a_refusal_checked() -> None:
    result = run_cli("ask", "-v", "What is the capital of France?")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("I couldn't find that in the document.")
    found = re.search(r"Checked (\d+) passages; closest to an answer:\n  (.+)\n  (.+)", out)
    assert found and int(found.group(1)) >= 1, out
    assert DOCUMENT.name in found.group(2)
    assert found.group(3).startswith(("best span", "the reader marked no span"))


def test_plot_of_records_marks_the_threshold_in_use(tmp_path: Path) -> None:
    rows = [
        {"article": "A", "question": q, "answers": answers, "foreign": False,
         "prediction": "x", "margin": margin, "confidence": 0.0, "evidence": True, "top": ""}
        for q, answers, margin in (("q", ["x"], 9.0), ("r", [], 0.5), ("s", ["x"], 2.0))
    ]  # fmt: skip
    saved = tmp_path / "records.jsonl"
    saved.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    plot = tmp_path / "out" / "tradeoff.png"
    result = run_cli("eval", "--from-records", str(saved), "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    assert f"plot written to {plot}" in result.stderr
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    wrong = run_cli("eval", "--from-records", str(saved), "--plot", str(tmp_path / "t.jpg"))
    assert wrong.returncode == 2 and "must name a .png file" in wrong.stderr


@pytest.mark.slow
def test_eval_plot_draws_the_set_it_scored(tmp_path: Path) -> None:
    rows = [
        {"id": "a1", "category": "answerable", "style": "plain", "split": "dev",
         "question": "When was the party declared illegal?", "answers": ["1954"]},
        {"id": "o1", "category": "off_topic", "style": "plain", "split": "dev",
         "question": "What is the capital of France?", "answers": []},
    ]  # fmt: skip
    (tmp_path / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    (tmp_path / "conversations.jsonl").write_text("", encoding="utf-8")
    plot = tmp_path / "tradeoff.png"
    result = run_cli("eval", "--data", str(tmp_path), "--json", "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [d["proposed_right"] for d in report["decisions"]] == [True, False]
    assert report["decisions"][1]["proposed"] is None  # the reader's null beat every span
    assert report["threshold"] >= 0 and plot.stat().st_size > 1000


def test_records_from_an_earlier_run_are_scored_again(tmp_path: Path) -> None:
    rows = [
        {"article": "A", "question": "q", "answers": ["x"], "foreign": False,
         "prediction": "x", "margin": 9.0, "confidence": 0.0, "evidence": True, "top": ""},
        {"article": "A", "question": "r", "answers": [], "foreign": False,
         "prediction": "y", "margin": 0.5, "confidence": 1.0, "evidence": False, "top": ""},
    ]  # fmt: skip
    saved = tmp_path / "records.jsonl"
    saved.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    at_half = {"CPPQA_MIN_CONFIDENCE": "0.5"}
    result = run_cli("eval", "--from-records", str(saved), "--json", env=at_half)
    assert result.returncode == 0, result.stderr
    s = json.loads(result.stdout)["at_threshold"]
    # the confidences are the shipped reader's curve on the margins (about 0.70 and 0.17),
    # not the saved ones (0.0 and 1.0): the first is answered and the second withheld
    assert s["overall"]["f1"] == 1.0 and s["no_ans_abstained"] == 1.0
    missing = run_cli("eval", "--from-records", str(tmp_path / "none.jsonl"))
    assert missing.returncode == 2 and "cannot read --from-records" in missing.stderr

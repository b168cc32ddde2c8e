"""train.py: the example stream, and a tiny real run that must learn and resume exactly."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from cppqa.datasets.squad import ABSTENTION_ARTICLES, load_squad
from cppqa.errors import CppqaError
from cppqa.search.terms import content_stems
from cppqa.training.examples import example_stream, make_example, make_group, split_articles
from cppqa.training.hyperparameters import TrainConfig, resolve_config
from cppqa.training.train import shared_loss
from cppqa.training.windows import windows_of

SLICE = Path(__file__).resolve().parents[1] / "data" / "squad-slice.json"


def test_the_abstention_articles_are_always_held_out() -> None:
    articles = load_squad(SLICE)
    split = split_articles(articles, holdout=1, seed=3)
    trained = {a.title for a in split.train}
    assert not trained & set(ABSTENTION_ARTICLES)
    assert len(split.held_out) == 2  # one chosen by the seed, and Spectre
    assert split_articles(articles, 1, 3).titles_held_out == split.titles_held_out


def test_examples_hold_their_answer_or_none() -> None:
    articles = load_squad(SLICE)[:3]
    config = TrainConfig()
    kinds = set()
    for index in range(300):
        ex = make_example(articles, index, config, seed=5)
        if ex is None:
            continue
        kinds.add(ex.kind)
        if ex.answer_start is None:
            assert ex.kind in {"window", "near", "article", "swap", "perturb"}
        else:
            assert ex.context[ex.answer_start : ex.answer_start + len(ex.answer)] == ex.answer
    assert kinds == {"answer", "window", "near", "article", "swap", "perturb"}
    again = [make_example(articles, i, config, seed=5) for i in range(50)]
    assert again == [make_example(articles, i, config, seed=5) for i in range(50)]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(CppqaError, match="--examples"):
        resolve_config(examples=3)
    with pytest.raises(CppqaError, match="--holdout"):
        resolve_config(holdout=-1)
    for group in (-1, 1, 3):  # 3 does not divide the batch of 16
        with pytest.raises(CppqaError, match="--group"):
            resolve_config(group=group)
    assert resolve_config(group=4).group == 4
    with pytest.raises(CppqaError, match="precision"):
        resolve_config(precision="fp16")


def test_a_group_has_at_most_one_window_holding_the_answer() -> None:
    articles = load_squad(SLICE)[:3]
    config = TrainConfig(group=4)
    kinds = set()
    for index in range(200):
        group = make_group(articles, index, config, seed=5)
        if group is None:
            continue
        assert len(group) == 4
        assert len({e.question for e in group}) == 1  # one question, read with 4 windows
        holding = [e for e in group if e.answer_start is not None]
        assert len(holding) <= 1
        kinds.add(tuple(sorted({e.kind for e in group})))
        for e in holding:
            assert e.context[e.answer_start : e.answer_start + len(e.answer)] == e.answer
            others = [x for x in group if x is not e]
            assert all(e.answer.lower() not in x.context.lower() for x in others)
    # answerable with near windows; near windows only; a changed question; another article
    assert kinds == {("answer", "near"), ("near",), ("perturb",), ("article",)}
    assert make_group(articles, 7, config, 5) == make_group(articles, 7, config, 5)


def test_the_shared_loss_compares_windows_by_their_margins() -> None:
    import types

    import torch

    # two groups of two windows, four tokens each ([CLS], question, two context tokens);
    # in the first, window 2 holds the answer (tokens 2 to 3); the second has none
    mask = torch.tensor([[False, False, True, True]] * 4)
    batch = {
        "start_positions": torch.tensor([0, 2, 0, 0]),
        "end_positions": torch.tensor([0, 3, 0, 0]),
    }
    flat = types.SimpleNamespace(start_logits=torch.zeros(4, 4), end_logits=torch.zeros(4, 4))
    # nothing learned: the no-answer and the 4 context tokens of a group are alike
    assert float(shared_loss(flat, batch, mask, 2)) == pytest.approx(torch.log(torch.tensor(5.0)))
    start, end = torch.zeros(4, 4), torch.zeros(4, 4)
    start[1, 2] = end[1, 3] = 20.0  # the answer stands out in its window ...
    start[2:, 0] = end[2:, 0] = 20.0  # ... and the second group's windows say "no answer"
    right = types.SimpleNamespace(start_logits=start, end_logits=end)
    assert float(shared_loss(right, batch, mask, 2)) < 1e-6
    # the same logits, but the answer's window also says "no answer" loudly: its margin
    # no longer beats the other window's, and the shared loss says so
    start[1, 0] = end[1, 0] = 40.0
    assert float(shared_loss(right, batch, mask, 2)) > 1.0


def _tiny_config(**changes: Any) -> TrainConfig:
    """A run of 6 steps of 8 examples on the vendored slice, one article held out."""
    return TrainConfig(
        examples=48, batch_size=8, max_tokens=96, lr=3e-4, warmup=0.1,
        checkpoint_every=100, eval_every=100, eval_questions=8, holdout=1, **changes,
    )  # fmt: skip


def _tiny_start(config: TrainConfig):  # type: ignore[no-untyped-def]
    """The run's 48 examples, and the untrained reader (base encoder, new head) with its
    tokenizer."""
    from cppqa.reading.reader import new_span_model
    from cppqa.training.bases import minilm_folder

    split = split_articles(load_squad(SLICE), config.holdout, config.seed)
    seen = list(itertools.islice(example_stream(split.train, config, config.seed), 48))
    fresh, tokenizer = new_span_model(minilm_folder())
    return seen, fresh, tokenizer


def _batch_loss(model, tokenizer, examples, max_tokens):  # type: ignore[no-untyped-def]
    import torch

    from cppqa.training.examples import encode

    model.eval()
    with torch.inference_mode():
        batch = encode(tokenizer, examples, max_tokens)
        batch.pop("context_mask")
        return float(model(**batch).loss)


@pytest.mark.slow
def test_a_tiny_run_learns_and_a_resumed_run_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    import torch

    from cppqa.reading.reader import Reader
    from cppqa.training.train import train_reader

    config = _tiny_config()
    seen, fresh, tokenizer = _tiny_start(config)
    before = _batch_loss(fresh, tokenizer, seen, config.max_tokens)

    straight = train_reader(SLICE, tmp_path / "a", tmp_path / "ca", config, progress=False)
    assert straight.finished and straight.seen == 48
    after = _batch_loss(Reader.load(tmp_path / "a").model, tokenizer, seen, config.max_tokens)
    assert after < 0.8 * before, (before, after)

    half = train_reader(SLICE, tmp_path / "b", tmp_path / "cb", config, progress=False, steps=3)
    assert not half.finished and half.seen == 24
    assert (tmp_path / "b" / "model.safetensors").is_file()  # the reader so far is usable
    with pytest.raises(CppqaError, match="--resume"):
        train_reader(SLICE, tmp_path / "b", tmp_path / "cb", config, progress=False)
    resumed = train_reader(
        SLICE, tmp_path / "b", tmp_path / "cb", config, resume=True, progress=False
    )
    assert resumed.finished and resumed.seen == 48
    a = Reader.load(tmp_path / "a").model.state_dict()
    b = Reader.load(tmp_path / "b").model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    # a new run may start from a trained reader: it begins where that one ended
    from dataclasses import replace

    again = replace(config, init=str(tmp_path / "a"))
    train_reader(SLICE, tmp_path / "c", tmp_path / "cc", again, progress=False, steps=1)
    continued = Reader.load(tmp_path / "c").model
    assert _batch_loss(continued, tokenizer, seen, config.max_tokens) < 0.9 * before
    # ... and goes on with examples that one did not learn from
    meta = json.loads((tmp_path / "c" / "reader.json").read_text(encoding="utf-8"))
    assert meta["config"]["skip"] == 48 and meta["examples_seen"] == 56
    # a resumed run may be given a new length, longer than what it has seen
    with pytest.raises(CppqaError, match="already seen"):
        train_reader(SLICE, tmp_path / "c", tmp_path / "cc", again, resume=True, length=8)
    longer = train_reader(
        SLICE, tmp_path / "c", tmp_path / "cc", again, resume=True, length=24, progress=False
    )
    assert longer.finished and longer.seen == 24
    meta = json.loads((tmp_path / "c" / "reader.json").read_text(encoding="utf-8"))
    assert meta["planned_steps"] == 3
    with pytest.raises(CppqaError, match="held out other articles"):
        other = replace(again, holdout=0)
        train_reader(SLICE, tmp_path / "d", tmp_path / "cd", other, progress=False, steps=1)
    card = (tmp_path / "b" / "README.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in card and "Apache-2.0" in card and "Examples seen:** 48" in card


@pytest.mark.slow
def test_a_tiny_group_run_lowers_the_shared_loss(tmp_path: Path) -> None:
    import torch

    from cppqa.reading.reader import Reader
    from cppqa.training.examples import encode
    from cppqa.training.train import train_reader

    config = _tiny_config(group=4)
    seen, fresh, tokenizer = _tiny_start(config)
    assert [len({e.question for e in seen[i : i + 4]}) for i in range(0, 48, 4)] == [1] * 12

    def group_loss(model, tokenizer) -> float:  # type: ignore[no-untyped-def]
        model.eval()
        with torch.inference_mode():
            batch = encode(tokenizer, seen, config.max_tokens)
            mask = batch.pop("context_mask")
            return float(shared_loss(model(**batch), batch, mask, config.group))

    before = group_loss(fresh, tokenizer)
    result = train_reader(SLICE, tmp_path / "g", tmp_path / "cg", config, progress=False)
    assert result.finished and result.seen == 48
    after = group_loss(Reader.load(tmp_path / "g").model, tokenizer)
    assert after < 0.9 * before, (before, after)  # measured: 5.64 -> 4.61 in 6 steps
    # a run from it goes on with the stream it belongs to: a group run with groups it has
    # not read, a single-window run with the single-window stream from its start
    from dataclasses import replace

    for group, grouped in ((4, 56), (0, 48)):
        again = replace(config, init=str(tmp_path / "g"), group=group)
        train_reader(SLICE, tmp_path / f"g{group}", tmp_path / f"c{group}", again,
                     progress=False, steps=1)  # fmt: skip
        meta = json.loads((tmp_path / f"g{group}" / "reader.json").read_text(encoding="utf-8"))
        assert meta["examples_seen"] == 56 and meta["group_examples_seen"] == grouped
        assert meta["config"]["skip"] == 48 and meta["config"]["group_skip"] == 48


@pytest.mark.slow
def test_a_tiny_bf16_run_learns_and_keeps_fp32_weights(tmp_path: Path) -> None:
    import torch

    from cppqa.reading.reader import Reader
    from cppqa.training.train import train_reader

    config = _tiny_config(precision="bf16")
    seen, fresh, tokenizer = _tiny_start(config)
    before = _batch_loss(fresh, tokenizer, seen, config.max_tokens)
    result = train_reader(SLICE, tmp_path / "r", tmp_path / "c", config, progress=False)
    assert result.finished and result.seen == 48
    after = _batch_loss(Reader.load(tmp_path / "r").model, tokenizer, seen, config.max_tokens)
    assert after < 0.8 * before, (before, after)
    state = torch.load(tmp_path / "c" / "state.pt", map_location="cpu", weights_only=False)
    assert state["config"]["precision"] == "bf16"
    assert all(v.dtype == torch.float32 for v in state["model"].values() if v.is_floating_point())
    # the setting takes effect: one step in fp32 moves the weights otherwise, if little
    from dataclasses import replace

    for name, precision in (("one16", "bf16"), ("one32", "fp32")):
        step = replace(config, precision=precision)
        train_reader(SLICE, tmp_path / name, tmp_path / f"c{name}", step, progress=False, steps=1)
    a = Reader.load(tmp_path / "one16").model.state_dict()
    b = Reader.load(tmp_path / "one32").model.state_dict()
    key = "qa_outputs.weight"
    assert not torch.equal(a[key], b[key])
    assert torch.allclose(a[key].float(), b[key].float(), atol=1e-2)


def _squad2_copy(tmp_path: Path) -> Path:
    """SQuAD 2.0-shaped data to mix in: the slice's Spectre paragraphs (54 unanswerable
    questions) under another title, since Spectre itself is never trained on."""
    data = json.loads(SLICE.read_text(encoding="utf-8"))
    spectre = next(a for a in data["data"] if a["title"] == "Spectre_(2015_film)")
    out = tmp_path / "squad2.json"
    out.write_text(json.dumps({"data": [{**spectre, "title": "Spectre_copy"}]}), encoding="utf-8")
    return out


def test_a_mixed_stream_draws_real_unanswerable_questions_by_share(tmp_path: Path) -> None:
    from collections import Counter

    from cppqa.training.examples import mixable

    config = _tiny_config(mix=((str(_squad2_copy(tmp_path)), 0.5),))
    split = split_articles(load_squad(SLICE), config.holdout, config.seed)
    mixed = [mixable(load_squad(Path(config.mix[0][0])), split.titles_held_out)]
    stream = list(itertools.islice(example_stream(split.train, config, 5, mixed), 400))
    kinds = Counter(e.kind for e in stream)
    real = [e for e in stream if e.context in load_squad(Path(config.mix[0][0]))[0].text]
    assert 0.4 < len(real) / 400 < 0.6, kinds  # the share, give or take chance
    unanswerable = [e for e in real if e.kind == "unanswerable"]
    assert 0.2 < len(unanswerable) / len(real) < 0.55  # 54 of the 148 questions
    for e in unanswerable:
        assert e.answer_start is None
        # the window is the paragraph's closest to the question: none shares more words
        paragraph = next(c for c, _ in mixed[0][0].paragraphs if e.context in c)
        asked = set(content_stems(e.question))
        shared = len(asked & set(content_stems(e.context)))
        for a, b in windows_of(paragraph, config.window_sentences):
            assert len(asked & set(content_stems(paragraph[a:b]))) <= shared
    # the --data examples are the unmixed stream's at the same index
    plain = list(itertools.islice(example_stream(split.train, _tiny_config(), 5), 400))
    assert set(stream) - set(real) <= set(plain)
    # held-out and abstention articles are never drawn, whatever the file holds
    assert mixable(load_squad(SLICE), []) == [
        a for a in load_squad(SLICE) if a.title not in ABSTENTION_ARTICLES
    ]


@pytest.mark.parametrize("mix", [(("x", 0.0),), (("x", 0.6), ("y", 0.5))])
def test_mix_shares_must_leave_room_for_the_data(mix: tuple[tuple[str, float], ...]) -> None:
    with pytest.raises(CppqaError, match="--mix shares"):
        resolve_config(mix=mix)


@pytest.mark.slow
def test_a_tiny_mixed_run_learns_its_real_unanswerable_questions(tmp_path: Path) -> None:
    from cppqa.reading.reader import Reader
    from cppqa.training.examples import mixable
    from cppqa.training.train import train_reader

    config = _tiny_config(mix=((str(_squad2_copy(tmp_path)), 0.5),))
    split = split_articles(load_squad(SLICE), config.holdout, config.seed)
    mixed = [mixable(load_squad(Path(config.mix[0][0])), split.titles_held_out)]
    seen = list(itertools.islice(example_stream(split.train, config, config.seed, mixed), 48))
    unanswerable = [e for e in seen if e.kind == "unanswerable"]
    assert len(unanswerable) >= 6
    _, fresh, tokenizer = _tiny_start(config)
    before = _batch_loss(fresh, tokenizer, unanswerable, config.max_tokens)
    result = train_reader(SLICE, tmp_path / "m", tmp_path / "cm", config, progress=False)
    assert result.finished and result.seen == 48
    after = _batch_loss(Reader.load(tmp_path / "m").model, tokenizer, unanswerable, 96)
    assert after < 0.8 * before, (before, after)  # measured: 4.55 -> 3.27 in 6 steps
    meta = json.loads((tmp_path / "m" / "reader.json").read_text(encoding="utf-8"))
    assert meta["config"]["mix"] == [[config.mix[0][0], 0.5]]
    card = (tmp_path / "m" / "README.md").read_text(encoding="utf-8")
    assert "squad2.json` (50% of the examples)" in card and "squad_v2" in card

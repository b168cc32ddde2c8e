"""precision.py: bfloat16 only where the CPU has it, recorded with the index, never mixed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from conftest import CORPUS, INDEX, FakeEmbedder
from cppqa.config import Precision, Settings
from cppqa.errors import CppqaError, IndexStateError
from cppqa.search import precision
from cppqa.search.embed import ModelInfo
from cppqa.search.index import Index
from cppqa.search.manifest import vector_precision


def _info(embedder: FakeEmbedder) -> ModelInfo:
    return ModelInfo(embedder.name, Path("."), embedder.weights_sha256)


@pytest.mark.parametrize("hardware", [True, False])
def test_auto_follows_the_hardware_and_a_forced_setting_wins(
    monkeypatch: pytest.MonkeyPatch, hardware: bool
) -> None:
    monkeypatch.setattr(precision, "hardware_bf16", lambda: hardware)
    assert precision.resolve(Precision.AUTO) == ("bf16" if hardware else "fp32")
    assert precision.resolve(Precision.FP32) == "fp32"
    assert precision.resolve(Precision.BF16) == "bf16"


def test_the_setting_comes_from_the_environment() -> None:
    assert Settings.from_env({}).precision is Precision.AUTO
    assert Settings.from_env({"CPPQA_PRECISION": "FP32"}).precision is Precision.FP32
    with pytest.raises(CppqaError, match="is not one of auto, fp32, bf16"):
        Settings.from_env({"CPPQA_PRECISION": "int8"})


def test_detection_agrees_with_what_torch_reports() -> None:
    import torch

    reported = any(
        getattr(torch.cpu, name)()
        for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    )
    assert precision.hardware_bf16() == (reported and torch.backends.mkldnn.is_available())


def test_a_bf16_index_is_stale_to_a_forced_fp32_and_kept_by_auto(
    settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    fake_embedder.precision = "bf16"
    Index.build(settings, fake_embedder).save(settings.index_dir)
    loaded = Index.load(settings.index_dir, settings, _info(fake_embedder))
    assert vector_precision(loaded.manifest) == "bf16"  # recorded
    with pytest.raises(IndexStateError, match="made in bf16, and CPPQA_PRECISION asks for fp32"):
        Index.load(
            settings.index_dir, replace(settings, precision=Precision.FP32), _info(fake_embedder)
        )
    bf16 = replace(settings, precision=Precision.BF16)
    assert Index.load(settings.index_dir, bf16, _info(fake_embedder)).manifest == loaded.manifest


def test_an_index_from_before_the_record_is_fp32(
    settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    Index.build(settings, fake_embedder).save(settings.index_dir)
    manifest = Index.load(settings.index_dir, settings, _info(fake_embedder)).manifest
    del manifest["model"]["precision"]
    assert vector_precision(manifest) == "fp32"


def test_a_forced_fp32_rebuilds_a_bf16_index_in_fp32(
    settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    from cppqa.qa import QA

    fake_embedder.precision = "bf16"
    Index.build(settings, fake_embedder).save(settings.index_dir)
    forced = replace(settings, precision=Precision.FP32)
    with pytest.raises(IndexStateError, match="made in bf16"):
        QA.load(forced, rebuild=False, embedder=fake_embedder)
    fake_embedder.precision = "fp32"
    qa = QA.load(forced, embedder=fake_embedder)
    assert vector_precision(qa.index.manifest) == "fp32"
    assert qa.reader.precision == "fp32"


@pytest.mark.slow
def test_bf16_keeps_the_vectors_and_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from cppqa.reading.reader import Reader
    from cppqa.search.embed import load_embedder

    texts = [
        "For this reason, in 1954, the party was declared illegal.",
        "The party was founded in Calcutta in 1948 by delegates from West Pakistan.",
    ]
    fp32 = load_embedder(None, Precision.FP32)
    bf16 = load_embedder(None, Precision.BF16)
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    a, b = fp32.encode(texts), bf16.encode(texts)
    assert b.dtype == np.float32
    cosine = (a * b).sum(axis=1)
    assert cosine.min() > 0.99 and not np.array_equal(a, b)  # rounded, not the same path
    question = "When was the party declared illegal?"
    spans = []
    for mode in ("fp32", "bf16"):
        reader = Reader.load(precision=mode)
        [window] = reader.score(question, texts[:1])
        spans.append((int(np.argmax(window.start)), int(np.argmax(window.end))))
    assert spans[0] == spans[1]


@pytest.mark.slow
def test_the_precision_bench_measures_both_side_by_side() -> None:
    from cppqa.evaluation.bench_precision import run_precision

    eval_dir = Path(__file__).resolve().parents[2] / "eval"
    settings = Settings(corpus_dir=CORPUS, index_dir=INDEX)
    report = run_precision(settings, data=eval_dir, questions=3, texts=24)
    rows = {row.name: row for row in report.rows}
    speed = rows["embedding (texts/s), bf16 vs fp32"]
    assert speed.value > 0 and speed.floor and speed.floor > 0
    assert 0.9 < rows["embedding: lowest cosine to fp32"].value <= 1.0001
    for name in ("retrieval: top-1 unchanged (share)", "reader: same best span (share)"):
        assert rows[name].value in {0, 1 / 3, 2 / 3, 1}
    chosen = "bf16" if precision.hardware_bf16() else "fp32"
    assert f"CPPQA_PRECISION=auto chooses {chosen} here" in report.notes[-1]

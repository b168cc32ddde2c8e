"""cli/train.py: ``cppqa train-reader``'s flags checked before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli


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

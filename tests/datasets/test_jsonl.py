"""JSON Lines files as the commands write and read them (``cppqa.datasets.jsonl``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cppqa.datasets.jsonl import read_rows, write_rows
from cppqa.errors import CppqaError


def test_rows_read_back_as_written_even_with_unicode_line_separators(tmp_path: Path) -> None:
    rows = [{"answer": "a\u2028b\u2029c\x85d"}, {"answer": "é, 中文"}]
    path = tmp_path / "records.jsonl"
    write_rows(path, rows)
    assert read_rows(path) == [(1, rows[0]), (2, rows[1])]


def test_each_bad_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(CppqaError, match=r"rows.jsonl:3 is not a JSON object"):
        read_rows(path)
    path.write_text('{"a": 1}\n{"a": \n', encoding="utf-8")
    with pytest.raises(CppqaError, match=r"rows.jsonl:2 is not valid JSON"):
        read_rows(path)
    with pytest.raises(CppqaError, match=r"cannot read --from-records .*: it does not exist"):
        read_rows(tmp_path / "missing.jsonl", what="--from-records")


def test_only_a_last_line_cut_short_is_forgiven(tmp_path: Path) -> None:
    path = tmp_path / "votes.jsonl"
    path.write_text('{"vote": 1}\n{"vote": 2}\n{"vo', encoding="utf-8")

    def is_vote(row: dict) -> bool:
        return "vote" in row

    assert [n for n, _ in read_rows(path, cut_short=is_vote)] == [1, 2]
    with pytest.raises(CppqaError, match=r"votes.jsonl:3 is not valid JSON"):
        read_rows(path)  # without ``cut_short`` nothing is forgiven
    path.write_text('{"vote": 1}\n{"vo\n{"vote": 3}\n', encoding="utf-8")
    with pytest.raises(CppqaError, match=r"votes.jsonl:2 is not valid JSON"):
        read_rows(path, cut_short=is_vote)  # not the last line: not a crash mid-write

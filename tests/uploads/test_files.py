"""The names of uploaded files (``cppqa.uploads.files``); their origins and leftovers are
tried in tests/test_abuse.py."""

from __future__ import annotations

from cppqa.uploads.files import unique_names


def test_unique_names_keep_every_file_apart() -> None:
    assert unique_names(["a.pdf", "a.pdf", "x/a.pdf", "b.md"]) == [
        "a.pdf",
        "a (2).pdf",
        "a (3).pdf",
        "b.md",
    ]

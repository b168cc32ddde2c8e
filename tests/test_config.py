"""config.py: the OCR limits as settings, their CPPQA_* overrides and their checks."""

from __future__ import annotations

import pytest

from cppqa.config import Settings
from cppqa.errors import CppqaError


def test_the_ocr_limits_come_from_the_environment() -> None:
    settings = Settings.from_env({"CPPQA_OCR_MAX_PAGES": "7", "CPPQA_OCR_MAX_SECONDS": "12.5"})
    assert (settings.ocr_max_pages, settings.ocr_max_seconds) == (7, 12.5)
    assert (Settings.from_env({}).ocr_max_pages, Settings.from_env({}).ocr_max_seconds) == (
        Settings().ocr_max_pages,
        Settings().ocr_max_seconds,
    )


def test_the_default_ocr_time_lets_the_default_pages_be_read() -> None:
    """OCR read 0.22-0.32 pages/s on 2 cores held by a training run (docs/documents.md):
    at the slowest, the default page limit is reached within the default seconds."""
    slowest = 0.22  # pages a second
    assert Settings().ocr_max_pages / slowest <= Settings().ocr_max_seconds


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CPPQA_OCR_MAX_PAGES", "0", "ocr_max_pages must be positive, got 0"),
        ("CPPQA_OCR_MAX_PAGES", "-3", "ocr_max_pages must be positive, got -3"),
        ("CPPQA_OCR_MAX_PAGES", "ten", "CPPQA_OCR_MAX_PAGES='ten' is not a valid int"),
        ("CPPQA_OCR_MAX_SECONDS", "0", "ocr_max_seconds must be positive, got 0.0"),
        ("CPPQA_OCR_MAX_SECONDS", "nan", "ocr_max_seconds must be positive, got nan"),
        ("CPPQA_OCR_MAX_SECONDS", "5 min", "CPPQA_OCR_MAX_SECONDS='5 min' is not a valid float"),
    ],
)
def test_a_bad_ocr_limit_is_refused_quoting_it(variable: str, value: str, message: str) -> None:
    with pytest.raises(CppqaError) as raised:
        Settings.from_env({variable: value})
    assert str(raised.value) == message

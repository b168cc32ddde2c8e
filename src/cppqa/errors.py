"""The exceptions cppqa raises. Messages say what was wrong and how to fix it."""

from __future__ import annotations


class CppqaError(Exception):
    """Base class: every error cppqa raises on purpose."""


class QuestionError(CppqaError, ValueError):
    """The question cannot be asked (empty, too long, nothing to search for)."""


class CorpusError(CppqaError):
    """The corpus folder or one of its files cannot be used."""


class ModelError(CppqaError):
    """The embedding model is missing, unreadable or not the expected weights."""


class IndexStateError(CppqaError):
    """The index is missing, stale or damaged and may not be rebuilt."""


class UploadError(CppqaError):
    """Documents uploaded to the web chat cannot be taken now (too many files, the
    server holds its most)."""

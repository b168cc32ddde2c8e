"""cppqa: extractive question answering over a small document collection.

Importing the package is light: the model, FAISS and BM25 load only when an
index is built or loaded.

>>> from cppqa import QA                        # doctest: +SKIP
>>> qa = QA.load()                              # doctest: +SKIP
>>> qa.ask("When was the party declared illegal?").text   # doctest: +SKIP
'1954'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cppqa.errors import CppqaError
from cppqa.records import Answer, Passage, Source

__version__ = "0.1.0"
__all__ = ["QA", "Answer", "CppqaError", "Passage", "Source", "__version__"]

if TYPE_CHECKING:
    from cppqa.qa import QA


def __getattr__(name: str) -> Any:
    # QA pulls in numpy; keep `import cppqa` free of it until asked for.
    if name == "QA":
        from cppqa.qa import QA

        return QA
    raise AttributeError(f"module 'cppqa' has no attribute {name!r}")

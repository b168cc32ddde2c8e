"""BM25 over passage stems with bm25s; the only module that imports bm25s.

The BM25 matrix is rebuilt from the stored passages on load (milliseconds for
thousands of passages), so nothing but JSON and FAISS is read from disk.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

#: Robertson's usual BM25 constants, as bm25s defaults them.
K1, B = 1.5, 0.75


class LexicalIndex:
    """BM25 scores of token lists against a fixed list of passages."""

    def __init__(self, passages_tokens: list[list[str]]) -> None:
        import bm25s

        # bm25s sets its own logger to INFO on import; its progress notes are noise here.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self._size = len(passages_tokens)
        self._bm25: Any = bm25s.BM25(k1=K1, b=B)
        self._bm25.index(passages_tokens, show_progress=False)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """One BM25 score per passage (0 where no query token occurs)."""
        import numpy as np

        known = [t for t in query_tokens if t in self._bm25.vocab_dict]
        if not known:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

"""Rank fusion: pure functions over ranked id lists."""

from __future__ import annotations

from collections.abc import Sequence


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = 60) -> dict[int, float]:
    """Fuse rankings by summing ``1 / (k + rank)``, rank counted from 1.

    Cormack, Clarke and Büttcher, "Reciprocal Rank Fusion outperforms Condorcet
    and individual Rank Learning Methods" (SIGIR 2009): ``k = 60`` damps the
    weight of the very top ranks so that no single ranking dominates.

    >>> fused = reciprocal_rank_fusion([[1, 2], [2, 3]], k=60)
    >>> fused[2] > fused[1] > fused[3]
    True
    """
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused

"""Which arithmetic the embedder and the reader run in: float32, or bfloat16 autocast.

bfloat16 pays only on CPUs with bfloat16 instructions (AVX-512 BF16, or AMX tiles,
which oneDNN uses through ``torch.backends.mkldnn``): there the matrix products run
several times faster. Elsewhere torch emulates it, many times slower (on an AVX2-only
CPU a MiniLM training step in bf16 took 20x its fp32 time, docs/performance.md), so
``auto`` takes bf16 only where the hardware has it, and fp32 everywhere else.

Under autocast the weights stay fp32; only the products are rounded. An index records
the precision its vectors were made in (``index.py``), so a query is never embedded in
another one than the corpus was.
"""

from __future__ import annotations

import functools
import logging
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from cppqa.config import Precision

log = logging.getLogger(__name__)

FP32, BF16 = Precision.FP32.value, Precision.BF16.value


@functools.lru_cache(maxsize=1)
def hardware_bf16() -> bool:
    """Whether this CPU does bfloat16 natively (checked once per process)."""
    import torch

    if not torch.backends.mkldnn.is_available():
        return False
    cpu: Any = getattr(torch, "cpu", None)
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    found = any(bool(getattr(cpu, name, lambda: False)()) for name in checks)
    log.info(
        "CPU capability %s, bfloat16 instructions: %s",
        torch.backends.cpu.get_cpu_capability(),
        "yes" if found else "no",
    )
    return found


def resolve(setting: Precision) -> str:
    """``fp32`` or ``bf16``: the setting, with ``auto`` decided by the hardware."""
    if setting is Precision.AUTO:
        return BF16 if hardware_bf16() else FP32
    return setting.value


def autocast(precision: str) -> AbstractContextManager[Any]:
    """A context that runs torch's CPU matrix products in ``precision``."""
    if precision != BF16:
        return nullcontext()
    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16)

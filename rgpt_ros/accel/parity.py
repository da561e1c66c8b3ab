"""Numerical parity between a reference (eager PyTorch fp32) and an accelerated runner."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch

# Bound on max|out - ref| / max|ref| per output, by the precision the accelerated path computes in.
PARITY_BOUNDS = {"float32": 1e-4, "float16": 2e-2, "bfloat16": 6e-2}


class ParityError(AssertionError):
    """An accelerated output differs from the reference beyond its dtype's bound."""


def relative_error(reference, output) -> float:
    """max|output - reference| / max(max|reference|, 1e-12), both as float64 on the host."""
    ref = _host(reference)
    out = _host(output)
    if ref.shape != out.shape:
        raise ValueError(f"shape mismatch: reference {ref.shape} vs output {out.shape}")
    return float(np.abs(out - ref).max() / max(float(np.abs(ref).max()), 1e-12)) if ref.size else 0.0


def parity_errors(reference: Mapping[str, object], outputs: Mapping[str, object]) -> dict[str, float]:
    """Relative error per output name."""
    return {name: relative_error(reference[name], outputs[name]) for name in reference}


def check_parity(reference: Mapping[str, object], outputs: Mapping[str, object], dtype: str = "float32"
                 ) -> dict[str, float]:
    """Relative errors per output; raises :class:`ParityError` when one exceeds ``PARITY_BOUNDS[dtype]``."""
    if dtype not in PARITY_BOUNDS:
        raise ValueError(f"no parity bound for dtype {dtype!r}; known: {sorted(PARITY_BOUNDS)}")
    errors = parity_errors(reference, outputs)
    bad = {k: v for k, v in errors.items() if not v <= PARITY_BOUNDS[dtype]}
    if bad:
        raise ParityError(f"relative errors {bad} exceed the {dtype} bound {PARITY_BOUNDS[dtype]}")
    return errors


def _host(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().float().cpu().numpy().astype(np.float64)
    return np.asarray(value, dtype=np.float64)

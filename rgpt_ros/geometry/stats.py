"""Order statistics of small arrays without NumPy's per-call overhead.

``np.median`` / ``np.percentile`` cost 50-100 us per call in argument handling alone, several times the
work for the few hundred values of a region cloud; these select with one ``np.partition`` and return
the same numbers (the percentile with NumPy's default linear interpolation).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def median(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """``np.median(values, axis=axis)`` for a non-empty array."""
    n = values.shape[axis]
    mid = n // 2
    if n % 2:
        return np.take(np.partition(values, mid, axis=axis), mid, axis=axis)
    ordered = np.partition(values, (mid - 1, mid), axis=axis)
    return 0.5 * (np.take(ordered, mid - 1, axis=axis) + np.take(ordered, mid, axis=axis))


def percentiles(values: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """``np.percentile(values, qs, axis=0)`` (linear interpolation) for a non-empty array; qs in [0, 100]."""
    n = len(values)
    positions = np.asarray(qs, dtype=np.float64) / 100.0 * (n - 1)
    low = np.floor(positions).astype(np.int64)
    high = np.minimum(low + 1, n - 1)
    ordered = np.partition(values, np.unique(np.concatenate([low, high])), axis=0)
    weight = (positions - low).reshape((-1,) + (1,) * (values.ndim - 1))
    return ordered[low] + (ordered[high] - ordered[low]) * weight

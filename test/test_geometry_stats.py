"""Order statistics used by region clouds and median flow: the same numbers as NumPy's."""

from __future__ import annotations

import numpy as np
import pytest

from rgpt_ros.geometry.stats import median, percentiles


@pytest.mark.parametrize("n", [1, 2, 3, 8, 9, 100, 1601])
def test_median_and_percentiles_equal_numpy(n):
    values = np.random.default_rng(n).normal(size=(n, 3)).astype(np.float32)
    assert np.array_equal(median(values), np.median(values, axis=0))
    assert median(values[:, 1]) == np.median(values[:, 1])
    assert np.allclose(percentiles(values, (0.5, 99.5)), np.percentile(values, [0.5, 99.5], axis=0), rtol=0, atol=1e-6)
    assert np.allclose(percentiles(values[:, 2], (0, 50, 100)), np.percentile(values[:, 2], [0, 50, 100]),
                       rtol=0, atol=1e-6)

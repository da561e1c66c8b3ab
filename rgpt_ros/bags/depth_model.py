"""A metric depth model standing in for the depth camera of RGB-only bags (``rgpt-annotate --depth-model``)."""

from __future__ import annotations

import functools
from typing import Callable, Optional

import numpy as np


class ModelDepth:
    """``estimate(rgb) -> (H, W) float32 metres`` from a metric Depth Anything checkpoint; counts its calls."""

    def __init__(self, source: Callable[[np.ndarray], tuple[Optional[np.ndarray], bool]], name: str) -> None:
        self.source, self.name, self.calls = source, name, 0

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        depth, metric = self.source(rgb)
        if depth is None or not metric:
            raise ValueError(f"depth model {self.name!r} gave no metric depth")
        self.calls += 1
        return depth


@functools.lru_cache(maxsize=2)
def load_depth_model(path_or_id: str, device: str = "cpu") -> ModelDepth:
    """The metric depth model at ``path_or_id`` (loaded once per process and device).

    ValueError naming the checkpoint when it predicts relative depth (metres are needed).
    """
    from rgpt_ros.depth import make_depth_source

    source = make_depth_source(path_or_id, device=device, require_metric=True)
    return ModelDepth(source, str(path_or_id))

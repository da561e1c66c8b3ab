"""Depth for data that has none: a callable the bench / annotation CLIs call per RGB image."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import numpy as np
import torch

from rgpt_ros.depth.estimator import DepthEstimator, InputSize

DepthSource = Callable[[np.ndarray], tuple[Optional[np.ndarray], bool]]


def _no_depth(rgb: np.ndarray) -> tuple[Optional[np.ndarray], bool]:
    return None, False


def make_depth_source(path_or_id: Union[None, str, Path], *, device: Union[str, torch.device] = "cpu",
                      dtype: torch.dtype = torch.float32, input_size: InputSize = None,
                      require_metric: bool = False, accelerate: Union[None, str, Sequence[str]] = None,
                      local_files_only: Optional[bool] = None, device_preprocess: bool = False,
                      **accel_options) -> DepthSource:
    """Return ``source(rgb) -> (depth (H, W) float32 or None, metric)``.

    ``path_or_id`` None or "" gives a source that always answers ``(None, False)`` (no estimator).
    Metric models answer metres (``metric=True``, usable as ``RGBDFrame.depth``); relative models answer
    relative inverse depth (``metric=False``: only for the SpatialRGPT depth image, never as metres).
    ``require_metric`` refuses relative checkpoints up front. ``accelerate`` (e.g. "auto") needs an
    ``input_size`` and picks a runtime through :func:`rgpt_ros.accel.select_runner`; ``device_preprocess``
    resizes on the model's device (see :meth:`DepthEstimator.preprocess`).
    """
    if path_or_id is None or str(path_or_id).strip() == "":
        return _no_depth
    estimator = DepthEstimator.from_pretrained(path_or_id, device=device, dtype=dtype, input_size=input_size,
                                               local_files_only=local_files_only, device_preprocess=device_preprocess)
    if require_metric and not estimator.metric:
        raise ValueError(f"depth model {str(path_or_id)!r} predicts relative depth; a metric checkpoint "
                         "(e.g. Depth-Anything-V2-Metric-Indoor) is needed to stand in for a depth camera")
    if accelerate:
        estimator.accelerate(accelerate, **accel_options)
    return EstimatorDepthSource(estimator)


class EstimatorDepthSource:
    """``source(rgb) -> (depth, metric)`` backed by a :class:`DepthEstimator` (kept as ``.estimator``)."""

    def __init__(self, estimator: DepthEstimator):
        self.estimator = estimator

    def __call__(self, rgb: np.ndarray) -> tuple[Optional[np.ndarray], bool]:
        prediction = self.estimator.predict(rgb)
        return prediction.depth, prediction.metric

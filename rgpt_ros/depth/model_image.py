"""A depth prediction -> the SpatialRGPT depth image (min-max scaled inverse depth, 3 channels)."""

from __future__ import annotations

import numpy as np

from rgpt_ros.depth.estimator import DepthPrediction


def to_model_image(prediction: DepthPrediction) -> np.ndarray:
    """(H, W, 3) uint8 depth image for the model: relative inverse depth as is, metric depth inverted first.

    The conversion itself is :func:`rgpt_ros.model.preprocess.depth_to_model_image` (one implementation).
    """
    from rgpt_ros.model.preprocess import depth_to_model_image

    return depth_to_model_image(prediction.depth, is_inverse=not prediction.metric)

"""Depth Anything (V1/V2, relative or metric) monocular depth, and the SpatialRGPT depth-image conversion."""

from rgpt_ros.depth.estimator import DepthEstimator, DepthPrediction
from rgpt_ros.depth.loading import (DepthModelError, DepthModelNotFoundError, UnsupportedDepthModelError,
                                    load_depth_model)
from rgpt_ros.depth.model_image import to_model_image
from rgpt_ros.depth.source import DepthSource, make_depth_source

__all__ = ["DepthEstimator", "DepthModelError", "DepthModelNotFoundError", "DepthPrediction", "DepthSource",
           "UnsupportedDepthModelError", "load_depth_model", "make_depth_source", "to_model_image"]

"""Model inputs from numpy images: the reference's resize + SigLIP normalisation, depth images, masks.

All three follow the reference with ``image_aspect_ratio = "resize"``: the image is resized directly
to 384x384 (PIL bicubic, aspect ratio not kept), scaled to [0, 1] and normalised with mean = std = 0.5;
masks are resized with OpenCV nearest neighbour; a box is the filled rectangle of its truncated,
clamped integer corners.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
from PIL import Image

from rgpt_ros.geometry.regions import Region, RegionError

MODEL_IMAGE_SIZE = 384
SIGLIP_MEAN = 0.5
SIGLIP_STD = 0.5


class ImageInputError(ValueError):
    """An image or depth map that cannot be fed to the model."""


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ImageInputError(f"expected an (H, W, 3) image, got shape {rgb.shape}")
    if rgb.dtype != np.uint8:
        raise ImageInputError(f"expected a uint8 image, got dtype {rgb.dtype}")
    return rgb


def image_to_pixel_values(rgb: np.ndarray, size: int = MODEL_IMAGE_SIZE) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (3, size, size) float32 SigLIP input."""
    rgb = _check_rgb(rgb)
    resized = np.asarray(Image.fromarray(rgb).resize((size, size), Image.Resampling.BICUBIC))
    scaled = (resized.astype(np.float64) * (1.0 / 255.0)).astype(np.float32)
    normalised = (scaled - np.float32(SIGLIP_MEAN)) / np.float32(SIGLIP_STD)
    return np.ascontiguousarray(normalised.transpose(2, 0, 1))


def depth_to_model_image(depth_m_or_relative: np.ndarray, is_inverse: bool = False) -> np.ndarray:
    """Depth map -> the model's (H, W, 3) uint8 depth image (near = bright).

    Metric depth (metres, ``is_inverse=False``) is inverted first; relative inverse depth as
    Depth Anything predicts it (``is_inverse=True``) is used as is. Then min-max scaling to 0..255
    (truncated to uint8, as the reference does) and three identical channels. Invalid pixels
    (NaN, inf, depth <= 0) become 0 (as far as the farthest valid pixel). Raises ImageInputError when
    no pixel is valid.
    """
    depth = np.asarray(depth_m_or_relative, dtype=np.float64)
    if depth.ndim != 2 or depth.size == 0:
        raise ImageInputError(f"expected an (H, W) depth map, got shape {depth.shape}")
    if is_inverse:
        valid = np.isfinite(depth)
        inverse = depth
    else:
        valid = np.isfinite(depth) & (depth > 0)
        inverse = np.zeros_like(depth)
        inverse[valid] = 1.0 / depth[valid]
    if not valid.any():
        raise ImageInputError("the depth map has no valid pixel (all NaN, inf or <= 0)")
    low, high = inverse[valid].min(), inverse[valid].max()
    scaled = np.zeros_like(depth)
    if high > low:
        scaled[valid] = (inverse[valid] - low) / (high - low) * 255.0
    image = scaled.astype(np.uint8)
    return np.repeat(image[:, :, None], 3, axis=2)


def reference_box_mask(box: Sequence[float], height: int, width: int) -> np.ndarray:
    """Box mask as the reference draws it: int() corners clamped to the image, [y1:y2, x1:x2] filled."""
    x1, y1, x2, y2 = (int(v) for v in box)
    x1, x2 = (max(0, min(v, width)) for v in (x1, x2))
    y1, y2 = (max(0, min(v, height)) for v in (y1, y2))
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[y1:y2, x1:x2] = 1
    return mask


def region_mask(region: Region, height: int, width: int) -> np.ndarray:
    """(height, width) uint8 0/1 mask of one region at image size; RegionError when it is empty."""
    if region.kind == "box":
        mask = reference_box_mask(region.box, height, width)
        if not mask.any():
            raise RegionError(f"region {region.id!r}: box {region.box!r} has no pixels inside the {width}x{height} image")
        return mask
    return region.to_mask(height, width).astype(np.uint8)


def resize_mask(mask: np.ndarray, size: int = MODEL_IMAGE_SIZE) -> np.ndarray:
    """Nearest-neighbour resize of a 0/1 mask to (size, size) float32 (the reference uses cv2.INTER_NEAREST)."""
    return cv2.resize(np.ascontiguousarray(mask, dtype=np.uint8), (size, size),
                      interpolation=cv2.INTER_NEAREST).astype(np.float32)


def regions_to_masks(regions: Sequence[Region], height: int, width: int, size: int = MODEL_IMAGE_SIZE) -> np.ndarray:
    """(R, size, size) float32 model masks for regions on a height x width image."""
    out = np.zeros((len(regions), size, size), dtype=np.float32)
    for i, region in enumerate(regions):
        out[i] = resize_mask(region_mask(region, height, width), size)
    return out

"""RealSense-like sensor noise for rendered depth and colour images (seeded, vectorised)."""

from __future__ import annotations

import cv2
import numpy as np


def _check_rate(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in 0..1, got {value!r}")


def add_sensor_noise(depth: np.ndarray, rng: np.random.Generator, *, sigma_base: float = 0.001,
                     sigma_quadratic: float = 0.0025, dropout: float = 0.02, blob_fraction: float = 0.5,
                     edge_jump: float = 0.02, edge_invalid: float = 0.5, edge_flying: float = 0.3,
                     min_depth: float = 0.1, max_depth: float = 10.0, quantise_mm: bool = True,
                     invalid_value: float = np.nan) -> np.ndarray:
    """Noisy copy of a (H, W) metric depth image (NaN/0 = invalid in the input).

    - axial noise: N(0, sigma_base + sigma_quadratic * z^2) metres;
    - dropouts: a ``dropout`` fraction of pixels made invalid, ``blob_fraction`` of it in blobs;
    - depth edges (3x3 range above ``edge_jump`` m + 2 % of z): each edge pixel is invalid with
      probability ``edge_invalid`` or becomes a flying pixel (uniform between the near and far
      side) with probability ``edge_flying``;
    - out of [min_depth, max_depth] -> invalid; optional rounding to whole millimetres.
    Invalid pixels get ``invalid_value`` (NaN, or 0.0 to mimic raw 16UC1 streams).
    """
    for name, value in (("dropout", dropout), ("blob_fraction", blob_fraction),
                        ("edge_invalid", edge_invalid), ("edge_flying", edge_flying)):
        _check_rate(name, value)
    if edge_invalid + edge_flying > 1.0:
        raise ValueError(f"edge_invalid + edge_flying must be <= 1, got {edge_invalid + edge_flying}")
    depth = np.asarray(depth, dtype=np.float32)
    if depth.ndim != 2:
        raise ValueError(f"depth must be (H, W), got shape {depth.shape}")
    h, w = depth.shape
    valid = np.isfinite(depth) & (depth > 0)
    z = np.where(valid, depth, 0.0).astype(np.float32)

    far = cv2.dilate(z, np.ones((3, 3), np.uint8))
    near = -cv2.dilate(np.where(valid, -z, -np.float32(1e6)), np.ones((3, 3), np.uint8))
    near = np.where(near > 1e5, z, near)
    edge = valid & (far - near > edge_jump + 0.02 * z)
    roll = rng.random((h, w), dtype=np.float32)
    flying = edge & (roll >= edge_invalid) & (roll < edge_invalid + edge_flying)
    out = z + rng.standard_normal((h, w), dtype=np.float32) * (sigma_base + sigma_quadratic * z * z)
    out = np.where(flying, near + rng.random((h, w), dtype=np.float32) * (far - near), out)
    invalid = ~valid | (edge & (roll < edge_invalid))

    if dropout > 0:
        invalid |= rng.random((h, w), dtype=np.float32) < dropout * (1.0 - blob_fraction)
        if blob_fraction > 0:
            field = rng.random((max(h // 16, 2), max(w // 16, 2)), dtype=np.float32)
            field = cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)
            invalid |= field < np.quantile(field, dropout * blob_fraction)
    if quantise_mm:
        out = np.round(out * 1000.0) / 1000.0
    invalid |= (out < min_depth) | (out > max_depth)
    return np.where(invalid, np.float32(invalid_value), out).astype(np.float32)


def add_image_noise(rgb: np.ndarray, rng: np.random.Generator, sigma: float = 2.0) -> np.ndarray:
    """Gaussian read noise (``sigma`` in 8-bit levels) on a uint8 image."""
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma!r}")
    noisy = rgb.astype(np.float32) + rng.standard_normal(rgb.shape, dtype=np.float32) * sigma
    return np.clip(noisy + 0.5, 0, 255).astype(np.uint8)


def depth_to_mm_uint16(depth: np.ndarray) -> np.ndarray:
    """Metres (NaN invalid) -> uint16 millimetres (0 invalid), as a 16UC1 depth image / PNG."""
    mm = np.round(np.nan_to_num(np.asarray(depth, np.float64), nan=0.0) * 1000.0)
    return np.where((mm > 0) & (mm <= 65535), mm, 0).astype(np.uint16)

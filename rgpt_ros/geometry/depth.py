"""Depth image decoding: raw sensor encodings -> float32 metres with NaN where invalid."""

from __future__ import annotations

from typing import Optional

import numpy as np

# Encodings as ROS names them; "mm"/"m" are accepted aliases.
_MILLIMETRE_ENCODINGS = {"16uc1", "mono16", "mm", "uint16"}
_METRE_ENCODINGS = {"32fc1", "64fc1", "m", "float32", "float64"}

DEFAULT_MIN_M = 0.05
DEFAULT_MAX_M = 20.0


class DepthError(ValueError):
    """Depth data that cannot be decoded (wrong shape, dtype, encoding or scale)."""


def decode_depth(raw: np.ndarray, encoding: Optional[str] = None, scale: Optional[float] = None,
                 min_m: float = DEFAULT_MIN_M, max_m: float = DEFAULT_MAX_M) -> np.ndarray:
    """Raw depth image -> (H, W) float32 metres, NaN where invalid.

    encoding: ``16UC1``/``mono16`` (integer units, default 1 mm), ``32FC1``/``64FC1`` (metres);
              None infers it from the dtype (integers = millimetres, floats = metres).
    scale:    metres per raw unit, overriding the encoding's default (e.g. 0.0001 for 0.1 mm units,
              or the bench's ``depth_info.scale``).
    Zero, NaN, inf and values outside [min_m, max_m] become NaN.
    """
    raw = np.asarray(raw)
    if raw.ndim == 3 and raw.shape[2] == 1:
        raw = raw[:, :, 0]
    if raw.ndim != 2:
        raise DepthError(f"depth image must be 2-D (H, W), got shape {raw.shape}")
    kind = _encoding_kind(raw, encoding)
    if scale is None:
        scale = 0.001 if kind == "mm" else 1.0
    if not np.isfinite(scale) or scale <= 0:
        raise DepthError(f"depth scale must be a positive finite number, got {scale!r}")
    if not (0 <= min_m < max_m):
        raise DepthError(f"need 0 <= min_m < max_m, got min_m={min_m!r}, max_m={max_m!r}")
    depth = raw.astype(np.float32)
    if scale != 1.0:
        depth *= np.float32(scale)
    with np.errstate(invalid="ignore"):
        invalid = ~((depth >= max(min_m, 1e-9)) & (depth <= max_m))  # NaN compares False -> invalid
    depth[invalid] = np.nan
    return depth


def _encoding_kind(raw: np.ndarray, encoding: Optional[str]) -> str:
    if encoding is None:
        if np.issubdtype(raw.dtype, np.integer):
            return "mm"
        if np.issubdtype(raw.dtype, np.floating):
            return "m"
        raise DepthError(f"cannot infer the depth encoding of dtype {raw.dtype}")
    name = encoding.strip().lower()
    if name in _MILLIMETRE_ENCODINGS:
        if not np.issubdtype(raw.dtype, np.integer):
            raise DepthError(f"encoding {encoding!r} needs integer data, got dtype {raw.dtype}")
        return "mm"
    if name in _METRE_ENCODINGS:
        if not np.issubdtype(raw.dtype, np.floating):
            raise DepthError(f"encoding {encoding!r} needs float data, got dtype {raw.dtype}")
        return "m"
    raise DepthError(f"unsupported depth encoding {encoding!r}; use 16UC1, mono16 or 32FC1")


def encode_depth_mm(depth_m: np.ndarray, scale: float = 0.001) -> np.ndarray:
    """Metres (NaN invalid) -> uint16 in units of ``scale`` metres (0 = invalid), e.g. for a 16-bit PNG."""
    if not np.isfinite(scale) or scale <= 0:
        raise DepthError(f"depth scale must be a positive finite number, got {scale!r}")
    depth = np.asarray(depth_m, dtype=np.float64)
    units = np.where(np.isfinite(depth) & (depth > 0), np.round(depth / scale), 0)
    if units.max(initial=0) > 65535:
        raise DepthError(f"depth {np.nanmax(depth):.3f} m does not fit 16 bits at scale {scale} m/unit")
    return units.astype(np.uint16)

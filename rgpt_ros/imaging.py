"""``sensor_msgs/Image`` encodings <-> numpy: the one place images are decoded and encoded.

Used by the ROS nodes (rclpy messages) and by bag annotation (rosbags messages): every
function takes plain fields, and the ``*_msg`` helpers take any object with the
``encoding, height, width, step, data, is_bigendian`` attributes.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any, Optional

import cv2
import numpy as np


class ImageEncodingError(ValueError):
    """An image that cannot be decoded or encoded: unknown encoding, wrong size, wrong dtype."""


@dataclass(frozen=True)
class PixelFormat:
    """How one encoding lays out a pixel: element dtype and number of channels."""

    dtype: np.dtype
    channels: int


def _fmt(dtype: Any, channels: int) -> PixelFormat:
    return PixelFormat(np.dtype(dtype), channels)


# Named encodings of sensor_msgs/image_encodings.hpp (the ones robots actually send).
_NAMED: dict[str, PixelFormat] = {
    "rgb8": _fmt(np.uint8, 3), "bgr8": _fmt(np.uint8, 3),
    "rgba8": _fmt(np.uint8, 4), "bgra8": _fmt(np.uint8, 4),
    "rgb16": _fmt(np.uint16, 3), "bgr16": _fmt(np.uint16, 3),
    "rgba16": _fmt(np.uint16, 4), "bgra16": _fmt(np.uint16, 4),
    "mono8": _fmt(np.uint8, 1), "mono16": _fmt(np.uint16, 1),
    # YUV 4:2:2, two bytes per pixel: "yuv422" is UYVY, "yuv422_yuy2"/"yuyv" is YUYV.
    "yuv422": _fmt(np.uint8, 2), "uyvy": _fmt(np.uint8, 2),
    "yuv422_yuy2": _fmt(np.uint8, 2), "yuyv": _fmt(np.uint8, 2),
}
_GENERIC = re.compile(r"^(8|16|32|64)(U|S|F)C([1-4])$")
_GENERIC_DTYPES = {("8", "U"): np.uint8, ("8", "S"): np.int8, ("16", "U"): np.uint16, ("16", "S"): np.int16,
                   ("32", "S"): np.int32, ("32", "F"): np.float32, ("64", "F"): np.float64}
_UYVY = {"yuv422", "uyvy"}
_YUYV = {"yuv422_yuy2", "yuyv"}
DEPTH_ENCODINGS = frozenset({"16UC1", "mono16", "32FC1"})


def pixel_format(encoding: str) -> PixelFormat:
    """Element dtype and channel count of ``encoding``; ImageEncodingError when unknown."""
    if encoding in _NAMED:
        return _NAMED[encoding]
    match = _GENERIC.match(encoding)
    if match and (match.group(1), match.group(2)) in _GENERIC_DTYPES:
        return _fmt(_GENERIC_DTYPES[(match.group(1), match.group(2))], int(match.group(3)))
    known = sorted(_NAMED) + ["8UC1..4", "16UC1..4", "32FC1..4", "..."]
    raise ImageEncodingError(f"unsupported image encoding {encoding!r}; known: {', '.join(known)}")


def _as_bytes(data: Any) -> np.ndarray:
    """Any buffer (bytes, bytearray, memoryview, array.array, numpy, list of ints) -> 1-D uint8 view."""
    if isinstance(data, np.ndarray):
        return np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    if isinstance(data, (list, tuple)):
        return np.asarray(data, dtype=np.uint8)
    return np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)


def image_to_numpy(encoding: str, height: int, width: int, step: int, data: Any,
                   is_bigendian: bool | int = False) -> np.ndarray:
    """Decode raw image fields to ``(H, W)`` (one channel) or ``(H, W, C)`` in the encoding's dtype.

    Honours row padding (``step`` larger than a row) and byte order. The result is a
    read-only view of ``data`` whenever no copy is needed (copy it before writing to it).
    """
    fmt = pixel_format(encoding)
    height, width, step = int(height), int(width), int(step)
    if height < 0 or width < 0:
        raise ImageEncodingError(f"image size must be non-negative, got {width}x{height}")
    row_bytes = width * fmt.channels * fmt.dtype.itemsize
    if step < row_bytes:
        raise ImageEncodingError(f"{encoding} image {width}x{height}: step {step} is smaller than a row "
                                 f"({row_bytes} bytes)")
    raw = _as_bytes(data)
    needed = height * step
    if raw.size != needed and not (height and needed - step + row_bytes <= raw.size < needed):
        raise ImageEncodingError(f"{encoding} image {width}x{height} with step {step} needs {needed} bytes, "
                                 f"got {raw.size}")
    if height == 0 or width == 0:
        shape = (height, width) if fmt.channels == 1 else (height, width, fmt.channels)
        return np.zeros(shape, dtype=fmt.dtype)
    if raw.size < needed:  # last row without its padding
        raw = np.concatenate([raw, np.zeros(needed - raw.size, np.uint8)])
    rows = raw[:needed].reshape(height, step)[:, :row_bytes]
    if fmt.dtype.itemsize > 1:
        order = ">" if is_bigendian else "<"
        wire = fmt.dtype.newbyteorder(order)
        pixels = rows.view(wire)
        if wire != fmt.dtype:  # foreign byte order -> native
            pixels = pixels.astype(fmt.dtype)
    else:
        pixels = rows
    if fmt.channels == 1:
        return pixels.reshape(height, width)
    return pixels.reshape(height, width, fmt.channels)


def numpy_to_image_fields(array: np.ndarray, encoding: str, *, as_bytes: bool = False) -> dict[str, Any]:
    """Array -> ``dict(height, width, encoding, is_bigendian, step, data)`` for a ``sensor_msgs/Image``.

    ``data`` is a 1-D uint8 numpy array (what rosbags serialises) or ``bytes`` with ``as_bytes``
    (what rclpy takes fastest). The array's dtype and channel count must match the encoding.
    """
    fmt = pixel_format(encoding)
    array = np.asarray(array)
    channels = 1 if array.ndim == 2 else (array.shape[2] if array.ndim == 3 else -1)
    if array.ndim == 3 and fmt.channels == 1 and array.shape[2] == 1:
        channels = 1
    if channels != fmt.channels:
        raise ImageEncodingError(f"{encoding} needs {fmt.channels} channel(s), got array of shape {array.shape}")
    if array.dtype != fmt.dtype:
        raise ImageEncodingError(f"{encoding} needs dtype {fmt.dtype}, got {array.dtype}")
    height, width = int(array.shape[0]), int(array.shape[1])
    contiguous = np.ascontiguousarray(array)
    data = contiguous.reshape(-1).view(np.uint8)
    return {"height": height, "width": width, "encoding": encoding,
            "is_bigendian": int(sys.byteorder == "big" and fmt.dtype.itemsize > 1),
            "step": width * fmt.channels * fmt.dtype.itemsize,
            "data": data.tobytes() if as_bytes else data}


def _to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        return (array >> 8).astype(np.uint8)
    if array.dtype == np.int8:
        return (array.astype(np.int16) + 128).astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        return (np.clip(np.nan_to_num(array, nan=0.0), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    raise ImageEncodingError(f"cannot show {array.dtype} pixels as 8-bit colour")


def to_rgb(array: np.ndarray, encoding: str) -> np.ndarray:
    """Decoded image (from :func:`image_to_numpy`) -> contiguous ``(H, W, 3)`` uint8 RGB.

    Generic ``8UC3``/``8UC4`` are taken as BGR(A), the OpenCV convention; 16-bit colour keeps
    the high byte; float colour is taken in [0, 1].
    """
    fmt = pixel_format(encoding)
    if encoding in _UYVY or encoding in _YUYV:
        code = cv2.COLOR_YUV2RGB_UYVY if encoding in _UYVY else cv2.COLOR_YUV2RGB_YUY2
        return cv2.cvtColor(np.ascontiguousarray(array), code)
    pixels = _to_uint8(np.asarray(array))
    if fmt.channels == 1:
        return cv2.cvtColor(np.ascontiguousarray(pixels.reshape(pixels.shape[:2])), cv2.COLOR_GRAY2RGB)
    if fmt.channels == 2:
        raise ImageEncodingError(f"{encoding}: two-channel images have no colour interpretation")
    rgb_order = encoding.startswith("rgb")
    if fmt.channels == 3:
        if rgb_order:
            return np.ascontiguousarray(pixels)
        return cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_BGR2RGB)
    return cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGBA2RGB if rgb_order else cv2.COLOR_BGRA2RGB)


def depth_to_metres(array: np.ndarray, encoding: str, scale: Optional[float] = None,
                    **limits: float) -> np.ndarray:
    """Decoded depth image -> ``(H, W)`` float32 metres, NaN where invalid.

    Delegates to :func:`rgpt_ros.geometry.depth.decode_depth` (the one depth decoder):
    16UC1/mono16 are millimetres unless ``scale`` (metres per unit) says otherwise, 32FC1 metres;
    ``limits`` are its ``min_m``/``max_m`` (depth outside becomes NaN).
    """
    if encoding not in DEPTH_ENCODINGS:
        raise ImageEncodingError(f"depth encoding must be one of {sorted(DEPTH_ENCODINGS)}, got {encoding!r}")
    from rgpt_ros.geometry.depth import decode_depth

    return decode_depth(array, encoding, scale, **limits)


def image_msg_to_numpy(msg: Any) -> np.ndarray:
    """:func:`image_to_numpy` for any object with ``sensor_msgs/Image`` attributes."""
    return image_to_numpy(msg.encoding, msg.height, msg.width, msg.step, msg.data,
                          bool(getattr(msg, "is_bigendian", False)))


def image_msg_to_rgb(msg: Any) -> np.ndarray:
    """``sensor_msgs/Image``-like object -> ``(H, W, 3)`` uint8 RGB."""
    return to_rgb(image_msg_to_numpy(msg), msg.encoding)


def image_msg_to_metres(msg: Any, scale: Optional[float] = None, **limits: float) -> np.ndarray:
    """``sensor_msgs/Image``-like depth object -> ``(H, W)`` float32 metres, NaN invalid.

    ``scale`` (metres per unit) applies to integer encodings only; float depth is always metres.
    """
    if msg.encoding == "32FC1":
        scale = None
    return depth_to_metres(image_msg_to_numpy(msg), msg.encoding, scale, **limits)

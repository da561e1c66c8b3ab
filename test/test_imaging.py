"""sensor_msgs/Image encodings <-> numpy (rgpt_ros.imaging)."""

import array
from types import SimpleNamespace

import numpy as np
import pytest

from rgpt_ros.imaging import (ImageEncodingError, depth_to_metres, image_msg_to_metres, image_msg_to_rgb,
                              image_to_numpy, numpy_to_image_fields, pixel_format, to_rgb)

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)


def _fields_roundtrip(arr, encoding):
    fields = numpy_to_image_fields(arr, encoding)
    return image_to_numpy(fields["encoding"], fields["height"], fields["width"], fields["step"], fields["data"],
                          fields["is_bigendian"])


@pytest.mark.parametrize("encoding,dtype,channels", [
    ("rgb8", np.uint8, 3), ("bgr8", np.uint8, 3), ("rgba8", np.uint8, 4), ("bgra8", np.uint8, 4),
    ("mono8", np.uint8, 1), ("mono16", np.uint16, 1), ("16UC1", np.uint16, 1), ("32FC1", np.float32, 1),
    ("8UC3", np.uint8, 3), ("8UC1", np.uint8, 1), ("16SC1", np.int16, 1), ("64FC1", np.float64, 1),
])
def test_roundtrip_every_encoding(encoding, dtype, channels):
    shape = (4, 6) if channels == 1 else (4, 6, channels)
    arr = (RNG.random(shape) * 1000).astype(dtype)
    back = _fields_roundtrip(arr, encoding)
    assert back.dtype == np.dtype(dtype) and back.shape == shape
    np.testing.assert_array_equal(back, arr)


def test_step_padding_is_skipped():
    height, width, pad = 3, 4, 5
    img = RNG.integers(0, 65535, size=(height, width), dtype=np.uint16)
    step = width * 2 + pad
    buf = bytearray()
    for row in img:
        buf += row.astype("<u2").tobytes() + b"\xee" * pad
    np.testing.assert_array_equal(image_to_numpy("16UC1", height, width, step, bytes(buf)), img)
    # odd padding leaves uint16 rows misaligned; decoding must still be exact
    np.testing.assert_array_equal(image_to_numpy("16UC1", height, width, step, bytes(buf)).astype(int), img)
    # the last row may omit its padding
    np.testing.assert_array_equal(image_to_numpy("16UC1", height, width, step, bytes(buf[:-pad])), img)


def test_big_endian_is_converted_to_native():
    img = np.array([[1, 256], [513, 65535]], dtype=np.uint16)
    out = image_to_numpy("16UC1", 2, 2, 4, img.astype(">u2").tobytes(), is_bigendian=1)
    np.testing.assert_array_equal(out, img)
    assert out.dtype == np.uint16 and out.dtype.isnative
    floats = np.array([[0.5, np.nan]], dtype=np.float32)
    out = image_to_numpy("32FC1", 1, 2, 8, floats.astype(">f4").tobytes(), is_bigendian=True)
    np.testing.assert_array_equal(out, floats)


def test_accepts_any_buffer_type():
    data = RGB.tobytes()
    for buf in (data, bytearray(data), memoryview(data), array.array("B", data), np.frombuffer(data, np.uint8),
                list(data)):
        np.testing.assert_array_equal(image_to_numpy("rgb8", 5, 7, 21, buf), RGB)


def test_to_rgb_conversions():
    bgr = RGB[..., ::-1].copy()
    np.testing.assert_array_equal(to_rgb(RGB, "rgb8"), RGB)
    np.testing.assert_array_equal(to_rgb(bgr, "bgr8"), RGB)
    np.testing.assert_array_equal(to_rgb(bgr, "8UC3"), RGB)  # generic 3-channel = OpenCV BGR
    rgba = np.dstack([RGB, np.full(RGB.shape[:2], 9, np.uint8)])
    np.testing.assert_array_equal(to_rgb(rgba, "rgba8"), RGB)
    bgra = np.dstack([bgr, np.full(RGB.shape[:2], 9, np.uint8)])
    np.testing.assert_array_equal(to_rgb(bgra, "bgra8"), RGB)
    gray = RGB[..., 0]
    out = to_rgb(gray, "mono8")
    assert out.shape == (5, 7, 3) and np.all(out == gray[..., None])
    out16 = to_rgb(gray.astype(np.uint16) << 8, "mono16")
    np.testing.assert_array_equal(out16[..., 1], gray)
    for out in (to_rgb(bgr, "bgr8"), to_rgb(gray, "mono8")):
        assert out.flags.c_contiguous and out.dtype == np.uint8


@pytest.mark.parametrize("encoding", ["yuv422", "yuyv"])
def test_yuv422_flat_colour(encoding):
    # a flat colour survives 4:2:2 chroma subsampling, so decoding must give it back (within rounding)
    flat = np.zeros((4, 8, 3), np.uint8)
    flat[:] = (200, 40, 90)
    r, g, b = 200.0, 40.0, 90.0  # BT.601 video range, what cameras send
    y = round(16 + 0.257 * r + 0.504 * g + 0.098 * b)
    u = round(128 - 0.148 * r - 0.291 * g + 0.439 * b)
    v = round(128 + 0.439 * r - 0.368 * g - 0.071 * b)
    packed = np.empty((4, 8, 2), np.uint8)
    if encoding == "yuv422":  # U Y0 V Y1
        packed[..., 1] = y
        packed[:, 0::2, 0], packed[:, 1::2, 0] = u, v
    else:  # Y0 U Y1 V
        packed[..., 0] = y
        packed[:, 0::2, 1], packed[:, 1::2, 1] = u, v
    decoded = image_to_numpy(encoding, 4, 8, 16, packed.tobytes())
    assert decoded.shape == (4, 8, 2)
    assert np.abs(to_rgb(decoded, encoding).astype(int) - flat).max() <= 3


def test_errors_are_clear():
    with pytest.raises(ImageEncodingError, match="unsupported image encoding 'jpeg'"):
        image_to_numpy("jpeg", 2, 2, 6, b"\0" * 12)
    with pytest.raises(ImageEncodingError, match="needs 18 bytes, got 17"):
        image_to_numpy("rgb8", 2, 3, 9, b"\0" * 17)
    with pytest.raises(ImageEncodingError, match="needs 18 bytes, got 30"):
        image_to_numpy("rgb8", 2, 3, 9, b"\0" * 30)
    with pytest.raises(ImageEncodingError, match="step 8 is smaller than a row"):
        image_to_numpy("rgb8", 2, 3, 8, b"\0" * 16)
    with pytest.raises(ImageEncodingError, match="needs 3 channel"):
        numpy_to_image_fields(np.zeros((2, 2), np.uint8), "rgb8")
    with pytest.raises(ImageEncodingError, match="needs dtype uint16"):
        numpy_to_image_fields(np.zeros((2, 2), np.float32), "16UC1")
    with pytest.raises(ImageEncodingError):
        depth_to_metres(np.zeros((2, 2), np.uint8), "mono8")
    assert issubclass(ImageEncodingError, ValueError)
    assert pixel_format("32FC3").channels == 3


def test_message_helpers_work_on_plain_objects():
    fields = numpy_to_image_fields(RGB[..., ::-1].copy(), "bgr8", as_bytes=True)
    assert isinstance(fields["data"], bytes)
    np.testing.assert_array_equal(image_msg_to_rgb(SimpleNamespace(**fields)), RGB)
    depth_mm = np.array([[0, 1000], [1500, 65535]], np.uint16)
    metres = image_msg_to_metres(SimpleNamespace(**numpy_to_image_fields(depth_mm, "16UC1")))
    assert metres.dtype == np.float32 and np.isnan(metres[0, 0])
    np.testing.assert_allclose(metres[0, 1:], [1.0], rtol=1e-6)
    np.testing.assert_allclose(metres[1, 0], 1.5, rtol=1e-6)
    metres_f = depth_to_metres(np.array([[0.0, 2.5]], np.float32), "32FC1")
    assert np.isnan(metres_f[0, 0]) and metres_f[0, 1] == pytest.approx(2.5)


def test_depth_scale_applies_to_integer_depth_only_and_limits_apply():
    mm = SimpleNamespace(**numpy_to_image_fields(np.array([[600, 20000]], np.uint16), "16UC1"))
    np.testing.assert_allclose(image_msg_to_metres(mm, scale=0.0001), [[0.06, 2.0]], rtol=1e-6)  # 0.1 mm units
    metres = SimpleNamespace(**numpy_to_image_fields(np.array([[0.5, 12.0]], np.float32), "32FC1"))
    np.testing.assert_allclose(image_msg_to_metres(metres, scale=0.001), [[0.5, 12.0]])  # float depth is metres
    limited = image_msg_to_metres(metres, scale=0.001, min_m=0.6, max_m=20.0)
    assert np.isnan(limited[0, 0]) and limited[0, 1] == pytest.approx(12.0)

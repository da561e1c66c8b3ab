"""Depth decoding: encodings, scale factors, invalid values, bad input."""

import numpy as np
import pytest

from rgpt_ros.geometry.camera import CameraIntrinsics
from rgpt_ros.geometry.depth import DepthError, decode_depth, encode_depth_mm


def test_16uc1_millimetres_with_invalid_zero_and_range():
    raw = np.array([[0, 1000, 65535], [500, 20, 3000]], np.uint16)
    depth = decode_depth(raw, "16UC1")
    assert depth.dtype == np.float32
    np.testing.assert_allclose(depth[0, 1], 1.0)
    np.testing.assert_allclose(depth[1, 2], 3.0, rtol=1e-6)
    assert np.isnan(depth[0, 0])  # zero = no reading
    assert np.isnan(depth[0, 2])  # 65.5 m > max_m
    assert np.isnan(depth[1, 1])  # 2 cm < min_m


def test_32fc1_metres_nan_inf_negative_invalid():
    raw = np.array([[np.nan, np.inf, 1.5, -1.0, 0.0]], np.float32)
    depth = decode_depth(raw, "32FC1")
    assert np.isnan(depth[0, [0, 1, 3, 4]]).all()
    assert depth[0, 2] == pytest.approx(1.5)


def test_scale_factor_and_inferred_encoding():
    raw = np.array([[12345]], np.uint16)  # 0.1 mm units
    assert decode_depth(raw, "16UC1", scale=0.0001)[0, 0] == pytest.approx(1.2345, rel=1e-6)
    assert decode_depth(raw)[0, 0] == pytest.approx(12.345, rel=1e-6)  # integers -> millimetres
    assert decode_depth(np.array([[2.5]], np.float64))[0, 0] == pytest.approx(2.5)  # floats -> metres
    assert decode_depth(raw[..., None], "mono16")[0, 0] == pytest.approx(12.345, rel=1e-6)  # (H, W, 1) accepted


def test_custom_range():
    raw = np.array([[0.3, 1.0, 4.0]], np.float32)
    depth = decode_depth(raw, "32FC1", min_m=0.5, max_m=3.0)
    assert np.isnan(depth[0, 0]) and np.isnan(depth[0, 2]) and depth[0, 1] == pytest.approx(1.0)


@pytest.mark.parametrize("raw, encoding, scale, match", [
    (np.zeros((2, 2, 3), np.uint16), "16UC1", None, "2-D"),
    (np.zeros((2, 2), np.float32), "16UC1", None, "integer"),
    (np.zeros((2, 2), np.uint16), "32FC1", None, "float"),
    (np.zeros((2, 2), np.uint16), "rgb8", None, "unsupported depth encoding 'rgb8'"),
    (np.zeros((2, 2), np.uint16), "16UC1", -1.0, "scale"),
    (np.zeros((2, 2), np.uint16), "16UC1", float("nan"), "scale"),
])
def test_bad_input_is_a_clear_error(raw, encoding, scale, match):
    with pytest.raises(DepthError, match=match):
        decode_depth(raw, encoding, scale)


def test_encode_roundtrip_and_overflow():
    depth = np.array([[np.nan, 0.5, 1.2345, 0.0]], np.float32)
    raw = encode_depth_mm(depth)
    assert raw.dtype == np.uint16
    assert raw[0, [0, 1, 3]].tolist() == [0, 500, 0] and raw[0, 2] in (1234, 1235)
    back = decode_depth(raw, "16UC1")
    np.testing.assert_allclose(back[0, 1:3], [0.5, 1.2345], atol=6e-4)
    with pytest.raises(DepthError, match="does not fit 16 bits"):
        encode_depth_mm(np.array([[70.0]]))


def test_camera_info_k_and_dict_backproject_the_same():
    k = [600.0, 0.0, 320.0, 0.0, 610.0, 240.0, 0.0, 0.0, 1.0]
    a = CameraIntrinsics.from_k(k, 640, 480)
    b = CameraIntrinsics.from_dict({"fx": 600, "fy": 610, "cx": 320, "cy": 240})
    p = a.backproject(np.array([620.0]), np.array([240.0]), np.array([2.0]))
    np.testing.assert_allclose(p, b.backproject(np.array([620.0]), np.array([240.0]), np.array([2.0])))
    np.testing.assert_allclose(p[0], [1.0, 0.0, 2.0])
    with pytest.raises(ValueError, match="all zeros"):
        CameraIntrinsics.from_k([0.0] * 9)

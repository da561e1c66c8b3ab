"""Depth Anything loading, prediction, model-image conversion and the depth source (tiny random checkpoints)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rgpt_ros.depth import (DepthEstimator, DepthModelError, DepthModelNotFoundError, UnsupportedDepthModelError,
                            make_depth_source, to_model_image)
from rgpt_ros.depth.configs import depth_image_processor, random_depth_model, write_random_depth_checkpoint


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("depth")
    return {"relative": write_random_depth_checkpoint(root / "relative", metric=False, seed=1),
            "metric": write_random_depth_checkpoint(root / "metric", metric=True, max_depth=20, seed=2)}


@pytest.fixture(scope="module")
def loaded(checkpoints):
    """Default-preprocessing estimators, loaded once."""
    return {kind: DepthEstimator.from_pretrained(path) for kind, path in checkpoints.items()}


@pytest.fixture(scope="module")
def rgb():
    rng = np.random.default_rng(0)
    image = np.zeros((60, 80, 3), np.uint8)
    image[:, :40] = (200, 30, 30)
    image[:, 40:] = (20, 160, 220)
    return np.clip(image + rng.integers(0, 40, image.shape), 0, 255).astype(np.uint8)


def test_metric_model_predicts_metres_at_input_size(checkpoints, loaded, rgb):
    est = loaded["metric"]
    pred = est.predict(rgb)
    assert est.metric and est.max_depth == 20.0
    assert pred.metric and pred.kind == "metric"
    assert pred.depth.shape == rgb.shape[:2] and pred.depth.dtype == np.float32
    assert np.all(np.isfinite(pred.depth)) and 0 < pred.depth.min() and pred.depth.max() < 20
    assert pred.depth.std() > 0.05  # a real map, not a constant


def test_relative_model_predicts_inverse_depth(checkpoints, loaded, rgb):
    pred = loaded["relative"].predict(rgb)
    assert not pred.metric and pred.kind == "relative_inverse"
    assert pred.depth.shape == (60, 80) and pred.depth.min() >= 0 and pred.depth.max() > 0


def test_prediction_equals_processor_model_and_bilinear_resize(checkpoints, loaded, rgb):
    """The estimator is exactly: checkpoint's image processor -> model -> bilinear resize to the image."""
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    processor = AutoImageProcessor.from_pretrained(checkpoints["metric"])
    model = AutoModelForDepthEstimation.from_pretrained(checkpoints["metric"]).eval()
    pixels = processor(images=rgb, return_tensors="pt")["pixel_values"]
    assert pixels.shape[-2] % 14 == 0 and pixels.shape[-1] % 14 == 0
    assert pixels.shape[-1] > pixels.shape[-2]  # aspect kept by default
    with torch.no_grad():
        raw = model(pixel_values=pixels).predicted_depth
    expected = torch.nn.functional.interpolate(raw[:, None], size=(60, 80), mode="bilinear", align_corners=False)
    got = loaded["metric"].predict(rgb).depth
    np.testing.assert_allclose(got, expected[0, 0].numpy(), rtol=1e-5, atol=1e-5)


def test_fixed_input_size_is_square(checkpoints, rgb):
    est = DepthEstimator.from_pretrained(checkpoints["relative"], input_size=98)
    assert tuple(est.preprocess(rgb).shape) == (1, 3, 98, 98)
    assert est.predict(rgb).depth.shape == (60, 80)
    assert tuple(DepthEstimator.from_pretrained(checkpoints["relative"], input_size=(56, 84))
                 .preprocess(rgb).shape) == (1, 3, 56, 84)


def test_device_preprocessing_matches_the_processor(checkpoints, rgb):
    exact = DepthEstimator.from_pretrained(checkpoints["metric"], input_size=98)
    fast = DepthEstimator.from_pretrained(checkpoints["metric"], input_size=98, device_preprocess=True)
    difference = (fast.preprocess(rgb) - exact.preprocess(rgb)).abs()  # torch vs PIL bicubic on a noisy image
    assert difference.mean() < 0.01 and difference.max() < 0.1  # 0.1 ~ 6 grey levels after normalising
    np.testing.assert_allclose(fast.predict(rgb).depth, exact.predict(rgb).depth, rtol=0.02, atol=0.05)
    with pytest.raises(ValueError, match="fixed input_size"):
        DepthEstimator.from_pretrained(checkpoints["metric"], device_preprocess=True)


@pytest.mark.parametrize("size", [100, 0, (98,), "abc"])
def test_bad_input_size(checkpoints, size):
    with pytest.raises(ValueError, match="input_size|invalid literal"):
        DepthEstimator.from_pretrained(checkpoints["relative"], input_size=size)


@pytest.mark.parametrize("image", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32),
                                   np.zeros((10, 10, 4), np.uint8)])
def test_bad_rgb(checkpoints, loaded, image):
    est = loaded["relative"]
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8.*" + str(image.shape[0])):
        est.predict(image)


def test_missing_folder_names_it(tmp_path):
    with pytest.raises(DepthModelNotFoundError, match="nowhere"):
        DepthEstimator.from_pretrained(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DepthModelNotFoundError, match="no config.json"):
        DepthEstimator.from_pretrained(tmp_path / "empty")


def test_hub_id_offline_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(DepthModelNotFoundError, match="offline mode"):
        DepthEstimator.from_pretrained("depth-anything/Depth-Anything-V2-Small-hf")


def test_not_a_depth_model(tmp_path):
    from transformers import Dinov2Config

    Dinov2Config(hidden_size=8, num_hidden_layers=1, num_attention_heads=2).save_pretrained(tmp_path)
    with pytest.raises(UnsupportedDepthModelError, match="dinov2"):
        DepthEstimator.from_pretrained(tmp_path)


def test_missing_processor_falls_back_to_standard_preprocessing(tmp_path, rgb):
    random_depth_model("tiny", seed=3).save_pretrained(tmp_path)
    assert not (tmp_path / "preprocessor_config.json").exists()
    est = DepthEstimator.from_pretrained(tmp_path)
    reference = depth_image_processor()(images=rgb, return_tensors="pt")["pixel_values"]
    assert torch.equal(est.preprocess(rgb), reference)


def test_broken_local_config_is_reported_with_its_folder(tmp_path):
    path = write_random_depth_checkpoint(tmp_path / "broken", "tiny")
    config = json.loads((path / "config.json").read_text())
    config["depth_estimation_type"] = "absolute"
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(DepthModelError, match="(?s)broken.*depth_estimation_type") as info:
        DepthEstimator.from_pretrained(path)
    assert not isinstance(info.value, DepthModelNotFoundError)


def test_model_image_from_relative_and_metric(checkpoints, loaded, rgb):
    relative = loaded["relative"].predict(rgb)
    image = to_model_image(relative)
    assert image.shape == (60, 80, 3) and image.dtype == np.uint8
    assert image.max() == 255 and image.min() == 0
    assert np.array_equal(image[..., 0], image[..., 2])
    assert image[..., 0].flat[np.argmax(relative.depth)] == 255  # inverse depth: largest = nearest = brightest
    metric = loaded["metric"].predict(rgb)
    image = to_model_image(metric)
    assert image[..., 0].flat[np.argmin(metric.depth)] == 255  # metres: nearest = brightest
    assert image[..., 0].flat[np.argmax(metric.depth)] == 0


def test_depth_source(checkpoints, loaded, rgb):
    assert make_depth_source(None)(rgb) == (None, False)
    assert make_depth_source("")(rgb) == (None, False)
    source = make_depth_source(checkpoints["metric"], require_metric=True)
    depth, metric = source(rgb)
    assert metric and depth.shape == (60, 80) and depth.dtype == np.float32
    np.testing.assert_array_equal(depth, loaded["metric"].predict(rgb).depth)
    with pytest.raises(ValueError, match="relative depth"):
        make_depth_source(checkpoints["relative"], require_metric=True)


def test_depth_source_accelerated_on_onnxruntime_cpu(checkpoints, rgb, tmp_path):
    eager = make_depth_source(checkpoints["metric"], input_size=98)
    fast = make_depth_source(checkpoints["metric"], input_size=98, accelerate="ort-cpu", cache_dir=tmp_path)
    assert fast.estimator.runner.provider == "ort:CPUExecutionProvider"
    np.testing.assert_allclose(fast(rgb)[0], eager(rgb)[0], rtol=1e-4, atol=1e-4)


def test_accelerate_needs_fixed_size(checkpoints, loaded):
    with pytest.raises(ValueError, match="fixed input_size"):
        loaded["metric"].accelerate("ort-cpu")

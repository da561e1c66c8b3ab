"""Image normalisation, the sensor depth image, and region masks at 384x384."""

import numpy as np
import pytest
from PIL import Image

from rgpt_ros.geometry.regions import Region, RegionError, mask_to_rle
from rgpt_ros.model.preprocess import (ImageInputError, depth_to_model_image, image_to_pixel_values,
                                       reference_box_mask, regions_to_masks)


def test_pixel_values_siglip_normalisation():
    rng = np.random.default_rng(0)
    square = rng.integers(0, 256, (384, 384, 3), dtype=np.uint8)
    px = image_to_pixel_values(square)
    assert px.shape == (3, 384, 384) and px.dtype == np.float32
    np.testing.assert_allclose(px, square.transpose(2, 0, 1) / 255.0 * 2 - 1, atol=1e-6)  # no resize at 384
    odd = rng.integers(0, 256, (120, 500, 3), dtype=np.uint8)
    want = np.asarray(Image.fromarray(odd).resize((384, 384), Image.Resampling.BICUBIC)).transpose(2, 0, 1)
    np.testing.assert_allclose(image_to_pixel_values(odd), want / 255.0 * 2 - 1, atol=1e-6)
    with pytest.raises(ImageInputError, match="uint8"):
        image_to_pixel_values(odd.astype(np.float32))
    with pytest.raises(ImageInputError, match=r"\(H, W, 3\)"):
        image_to_pixel_values(odd[:, :, 0])


def test_depth_image_from_metric_depth():
    depth = np.array([[1.0, 2.0], [4.0, np.nan]], dtype=np.float32)
    image = depth_to_model_image(depth)
    assert image.shape == (2, 2, 3) and image.dtype == np.uint8
    assert (image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all()
    # inverse depth 1, 0.5, 0.25 -> (x - 0.25) / 0.75 * 255, truncated
    assert image[..., 0].tolist() == [[255, int((0.5 - 0.25) / 0.75 * 255)], [0, 0]]


def test_depth_image_from_relative_inverse_and_errors():
    relative = np.array([[0.0, 5.0], [10.0, 2.5]])
    assert depth_to_model_image(relative, is_inverse=True)[..., 0].tolist() == [[0, 127], [255, 63]]
    assert depth_to_model_image(np.full((3, 3), 2.0))[..., 0].max() == 0  # flat depth: no contrast
    with pytest.raises(ImageInputError, match="no valid pixel"):
        depth_to_model_image(np.array([[0.0, np.nan]]))
    with pytest.raises(ImageInputError, match=r"\(H, W\)"):
        depth_to_model_image(np.zeros((2, 2, 3)))


def test_box_is_drawn_like_the_reference():
    mask = reference_box_mask((2.7, 1.2, 5.9, 3.99), 6, 8)
    assert mask.sum() == (3 - 1) * (5 - 2) and mask[1:3, 2:5].all()  # int() truncation of every corner
    assert reference_box_mask((-5, -5, 100, 100), 6, 8).all()


def test_region_kinds_agree_and_resize_nearest():
    h, w = 96, 128
    mask = np.zeros((h, w), dtype=bool)
    mask[10:40, 20:100] = True
    polygon = [[20, 10, 99, 10, 99, 39, 20, 39]]
    regions = [Region("box", box=(20, 10, 100, 40)), Region("mask", mask=mask), Region("rle", rle=mask_to_rle(mask)),
               Region("poly", polygon=polygon)]
    masks = regions_to_masks(regions, h, w)
    assert masks.shape == (4, 384, 384) and masks.dtype == np.float32
    for i in range(1, 4):
        np.testing.assert_array_equal(masks[i], masks[0])
    rows = (np.arange(384) * h / 384).astype(int)
    cols = (np.arange(384) * w / 384).astype(int)
    np.testing.assert_array_equal(masks[0], mask[rows][:, cols].astype(np.float32))


def test_empty_region_is_an_error():
    with pytest.raises(RegionError, match="no pixels"):
        regions_to_masks([Region("off", box=(500, 500, 600, 600))], 96, 128)

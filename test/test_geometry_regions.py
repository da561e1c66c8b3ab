"""Regions of every shape clipped to the image, and clear errors for unusable ones."""

import numpy as np
import pytest

from rgpt_ros.geometry.regions import Region, RegionError, mask_to_rle

H, W = 40, 60


def _square_mask():
    mask = np.zeros((H, W), bool)
    mask[10:20, 30:45] = True
    return mask


@pytest.mark.parametrize("region", [
    Region("box", box=(30, 10, 45, 20)),
    Region("mask", mask=_square_mask()),
    Region("rle", rle=mask_to_rle(_square_mask())),
    Region("polygon", polygon=[[30, 10, 44, 10, 44, 19, 30, 19]]),
])
def test_every_kind_rasterises_to_the_same_pixels(region):
    np.testing.assert_array_equal(region.to_mask(H, W), _square_mask())
    assert region.bounding_box(H, W) == (30, 10, 45, 20)


def test_clipped_to_the_image():
    mask = Region("edge", box=(50, -5, 80, 5)).to_mask(H, W)
    assert mask.sum() == 10 * 5 and mask[:5, 50:].all()
    poly = Region("p", polygon=[-10, -10, 20, -10, 20, 20, -10, 20]).to_mask(H, W)
    assert poly[:21, :21].all() and poly.sum() == 21 * 21


@pytest.mark.parametrize("make, match", [
    (lambda: Region("r", box=(5, 5, 5, 9)), "empty"),
    (lambda: Region("r", box=(1, 2, 3)), "4 finite"),
    (lambda: Region("r"), "exactly one"),
    (lambda: Region("r", box=(100, 100, 120, 120)).to_mask(H, W), "no pixels inside"),
    (lambda: Region("r", mask=np.zeros((H, W), bool)).to_mask(H, W), "no pixels"),
    (lambda: Region("r", mask=np.ones((H + 1, W), bool)).to_mask(H, W), "but the image is"),
    (lambda: Region("r", rle={"size": [H, W + 1], "counts": "abc"}).to_mask(H, W), "RLE is"),
    (lambda: Region("r", polygon=[[1, 2, 3, 4]]).to_mask(H, W), "3 finite points"),
])
def test_unusable_regions_raise_region_error(make, match):
    with pytest.raises(RegionError, match=match):
        make()

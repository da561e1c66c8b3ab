"""Region clouds: exact where depth is clean, robust to flying pixels, spikes, dropouts and leaking masks."""

import numpy as np
import pytest

from rgpt_ros.geometry.camera import CameraIntrinsics
from rgpt_ros.geometry.gravity import gravity_from_tilt
from rgpt_ros.geometry.pointcloud import CloudOptions, EmptyCloudError, cloud_from_points, region_cloud
from rgpt_ros.geometry.regions import RegionError

CAM = CameraIntrinsics(500.0, 500.0, 159.5, 119.5, 320, 240)


def _wall_with_board():
    """A wall 3 m away and a fronto-parallel board 1 m away covering pixels [100:140, 120:200]."""
    depth = np.full((240, 320), 3.0, np.float32)
    depth[100:140, 120:200] = 1.0
    mask = np.zeros((240, 320), bool)
    mask[100:140, 120:200] = True
    return depth, mask


def _board_width_m():
    return 80 / 500.0  # 80 px at 1 m with fx = 500 (pixel centres span 79 px)


def test_clean_board_is_measured_exactly_in_the_camera_frame():
    depth, mask = _wall_with_board()
    cloud = region_cloud(depth, CAM, mask, region_id="board")
    assert cloud.region_id == "board" and cloud.n_pixels == 3200 and cloud.n_valid == 3200
    assert len(cloud.points) <= CloudOptions().max_points
    assert cloud.width == pytest.approx(_board_width_m(), abs=1.5 / 500)
    assert cloud.height == pytest.approx(40 / 500, abs=1.5 / 500)
    assert cloud.extents[2] == pytest.approx(0.0, abs=1e-5)
    assert cloud.centroid[2] == pytest.approx(1.0, abs=1e-5)
    # canonical frame: y is up, so pixel rows above the principal point have positive y
    assert cloud.centroid[1] == pytest.approx(-(120 - 119.5) / 500, abs=3e-3)
    assert cloud.nearest[2] == pytest.approx(1.0) and cloud.near_z == pytest.approx(1.0)
    assert 0.9 < cloud.confidence <= 1.0


def test_flying_pixels_spikes_and_dropouts_are_ignored():
    depth, mask = _wall_with_board()
    rng = np.random.default_rng(0)
    # mixed pixels on the board's border, interpolated between board and wall
    border = mask & ~np.pad(mask[1:-1, 1:-1], 1)
    depth[border] = rng.uniform(1.0, 3.0, border.sum())
    inside = np.argwhere(mask)
    spikes = inside[rng.choice(len(inside), 40, replace=False)]
    depth[spikes[:, 0], spikes[:, 1]] = rng.uniform(1.5, 6.0, 40)  # isolated wrong readings
    holes = inside[rng.choice(len(inside), 300, replace=False)]
    depth[holes[:, 0], holes[:, 1]] = np.nan  # dropouts
    cloud = region_cloud(depth, CAM, mask)
    assert cloud.extents[2] < 0.02
    assert cloud.width == pytest.approx(_board_width_m(), abs=6 / 500)
    assert cloud.centroid[2] == pytest.approx(1.0, abs=0.005)
    assert cloud.n_valid == 3200 - 300
    assert cloud.confidence < 0.95


def test_largest_cluster_drops_a_leaking_background_patch():
    depth, mask = _wall_with_board()
    mask[100:140, 200:215] = True  # the mask leaks onto 15 columns of wall, 2 m behind the board
    plain = region_cloud(depth, CAM, mask, options=CloudOptions(outlier_k=0))
    assert plain.extents[2] > 1.5
    clustered = region_cloud(depth, CAM, mask, options=CloudOptions(outlier_k=0, largest_cluster=True))
    assert clustered.extents[2] < 0.01 and clustered.centroid[2] == pytest.approx(1.0, abs=1e-4)


def test_pitched_camera_cloud_is_gravity_aligned():
    # a floor seen by a camera 1 m up pitched 30 degrees down: every floor point has canonical y = -1
    pitch = np.radians(30)
    up = np.array([0.0, -np.cos(pitch), -np.sin(pitch)])
    v, u = np.mgrid[0:240, 0:320].astype(np.float64)
    rays = np.stack([(u - CAM.cx) / CAM.fx, (v - CAM.cy) / CAM.fy, np.ones_like(u)], -1)
    t = -1.0 / (rays @ up)  # plane up . p = -1
    depth = np.where(t > 0, t, np.nan).astype(np.float32)
    mask = np.zeros((240, 320), bool)
    mask[150:200, 100:220] = True
    cloud = region_cloud(depth, CAM, mask, gravity=gravity_from_tilt(30))
    assert cloud.centroid[1] == pytest.approx(-1.0, abs=1e-3)
    assert cloud.height == pytest.approx(0.0, abs=2e-3)


def test_regions_without_usable_depth_raise_clear_errors():
    depth, mask = _wall_with_board()
    depth[mask] = np.nan
    with pytest.raises(EmptyCloudError, match=r"'cup': only 0 of 3200 pixels have valid depth"):
        region_cloud(depth, CAM, mask, region_id="cup")
    with pytest.raises(EmptyCloudError, match="no pixels"):
        region_cloud(depth, CAM, np.zeros_like(mask))
    with pytest.raises(RegionError, match="differ in size"):
        region_cloud(depth, CAM, mask[:-1])
    assert issubclass(EmptyCloudError, ValueError)


def test_cloud_from_points():
    cloud = cloud_from_points([[0, 0, 1], [1, 2, 3]], "p")
    np.testing.assert_allclose(cloud.centroid, [0.5, 1.0, 2.0])
    assert cloud.width == pytest.approx(0.99) and cloud.volume > 0
    with pytest.raises(EmptyCloudError):
        cloud_from_points(np.zeros((0, 3)))

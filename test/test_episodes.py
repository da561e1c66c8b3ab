"""Generated reaching episodes: trajectories, analytic distances, per-frame truth, determinism."""

import numpy as np
import pytest

from rgpt_ros.synthetic.episodes import KINDS, box_point_distance, make_episode
from rgpt_ros.synthetic.shapes import Box


def test_box_point_distance_analytic():
    box = Box((0, 0.5, 0), (1.0, 1.0, 2.0), yaw_deg=90)  # after yaw the 2 m side lies along x
    pts = np.array([[0.0, 0.5, 0.0], [1.5, 0.5, 0.0], [0.0, 0.5, 1.0], [2.0, 2.0, 0.0]])
    assert np.allclose(box_point_distance(box, pts), [0.0, 0.5, 0.5, np.hypot(1.0, 1.0)])


@pytest.mark.parametrize("kind", KINDS)
def test_distance_profiles(kind):
    ep = make_episode(kind, n_frames=40, seed=3, width=320, height=240)
    d = ep.distances()
    assert len(ep) == 40 and d[0] > 0.12 and np.isclose(d.min(), 0.01, atol=1e-6)
    assert np.all(ep.centroid_distances() > d)
    steps = np.diff(d)
    if kind == "pause_retreat":
        k = int(np.argmin(d))
        assert np.all(steps[: int(0.4 * 39) - 1] <= 1e-9) and np.all(steps[int(0.6 * 39) + 1:] >= -1e-9)
        assert np.isclose(d[-1], d[0]) and 0.35 * 40 <= k <= 0.65 * 40
    else:
        assert np.isclose(d[-1], 0.01, atol=1e-6)
        assert steps[:20].max() <= 1e-9 or kind == "curved"
    if kind == "curved":
        names = [o.name for o in ep.scene(0).objects]
        assert "distractor" in names


def test_frames_truth_and_determinism():
    ep = make_episode("straight", n_frames=10, seed=5, width=320, height=240)
    f0, f0b = ep[0], make_episode("straight", n_frames=10, seed=5, width=320, height=240)[0]
    assert np.array_equal(f0.rgb, f0b.rgb) and np.array_equal(f0.depth, f0b.depth, equal_nan=True)
    assert not np.array_equal(f0.rgb, make_episode("straight", n_frames=10, seed=6, width=320, height=240)[0].rgb)
    assert f0.rgb.shape == (240, 320, 3) and f0.depth.dtype == np.float32
    assert ep[3].stamp_ns - ep[2].stamp_ns == pytest.approx(1e9 / 30, abs=1)
    # the fingertip's true box contains the projection of its centre
    tip_opt = ep.pose.to_optical(ep.tip_positions[[0]])
    u, v = ep.camera.project(tip_opt)[0]
    x1, y1, x2, y2 = f0.boxes["fingertip"]
    assert x1 <= u < x2 and y1 <= v < y2 and 8 < x2 - x1 < 40
    assert [r.id for r in f0.regions()] == ["fingertip", "cube"]
    rgbd = f0.rgbd()
    assert rgbd.up is not None and rgbd.camera.width == 320
    assert np.isnan(f0.depth).sum() > np.isnan(f0.clean_depth).sum()  # sensor noise applied
    frames = list(ep)
    assert [f.index for f in frames] == list(range(10)) and frames[-1].distance == pytest.approx(0.01)


def test_occlusion_hides_fingertip():
    ep = make_episode("straight", n_frames=12, seed=1, width=320, height=240, occlude=(4, 6))
    assert ep[3].boxes["fingertip"] is not None and ep[7].boxes["fingertip"] is not None
    assert all(ep[i].boxes["fingertip"] is None for i in (4, 5, 6))


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        make_episode("zigzag")
    with pytest.raises(ValueError, match="n_frames"):
        make_episode("straight", n_frames=1)
    with pytest.raises(IndexError):
        make_episode("straight", n_frames=3, width=160, height=120)[3]

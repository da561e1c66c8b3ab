"""Gravity frame: given up-vector, camera tilt, RANSAC supporting plane on pitched cameras, honest fallback."""

import numpy as np
import pytest

from rgpt_ros.geometry.camera import CameraIntrinsics
from rgpt_ros.geometry.gravity import (GravityError, camera_gravity, estimate_gravity, gravity_from_tilt,
                                       gravity_from_up)
from rgpt_ros.synthetic import Box, CameraPose, Scene, add_sensor_noise, render
from rgpt_ros.synthetic.shapes import Plane

CAM = CameraIntrinsics(300.0, 300.0, 159.5, 119.5, 320, 240)


def _angle_deg(u, v):
    return float(np.degrees(np.arccos(np.clip(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v), -1, 1))))


@pytest.mark.parametrize("pitch, roll, on_table", [(10, 0, False), (25, 3, False), (35, -4, True), (50, 0, False)])
def test_plane_estimate_matches_the_true_up_on_pitched_noisy_cameras(pitch, roll, on_table):
    support = 0.75 if on_table else 0.0
    objects = [Box((-0.3, support + 0.2, -2.0), (0.3, 0.4, 0.3), yaw_deg=30),
               Box((0.35, support + 0.15, -1.6), (0.25, 0.3, 0.25))]
    table = Plane(point=(0, support, -2.0), half_extent=(1.5, 1.5)) if on_table else None
    pose = CameraPose((0.0, support + 1.2, 0.0), yaw_deg=10, pitch_deg=pitch, roll_deg=roll)
    frame = render(Scene(objects, wall=table), pose, CAM)
    depth = add_sensor_noise(frame.depth, np.random.default_rng(pitch))
    gravity = estimate_gravity(depth, CAM)
    assert gravity.source == "plane" and gravity.from_plane and not gravity.is_fallback
    assert _angle_deg(gravity.up, frame.up) < 1.0
    assert gravity.pitch_deg == pytest.approx(pitch, abs=1.0)
    assert gravity.plane_offset == pytest.approx(1.2, abs=0.03)  # camera height above the support
    # canonical frame: the camera's centre ray points forward-down, the support is 1.2 m below
    np.testing.assert_allclose(np.linalg.norm(gravity.matrix, axis=1), 1.0, atol=1e-9)
    assert np.linalg.det(gravity.matrix) == pytest.approx(-1.0)  # (right, up, forward) is left-handed
    ray = gravity.to_canonical(np.array([[0.0, 0.0, 1.0]]))[0]
    assert ray[2] > 0 and ray[1] < 0


def test_estimate_is_deterministic():
    frame = render(Scene([Box((0, 0.2, -2.0), (0.4, 0.4, 0.4))]), CameraPose((0, 1.0, 0), pitch_deg=30), CAM)
    depth = add_sensor_noise(frame.depth, np.random.default_rng(1))
    a, b = estimate_gravity(depth, CAM, seed=3), estimate_gravity(depth, CAM, seed=3)
    np.testing.assert_array_equal(a.matrix, b.matrix)


def test_given_up_vector_wins_over_the_depth():
    frame = render(Scene([]), CameraPose((0, 1.0, 0), pitch_deg=30), CAM)
    gravity = estimate_gravity(frame.depth, CAM, hint_up=np.array([0.0, -2.0, 0.0]))
    assert gravity.source == "given"
    np.testing.assert_allclose(gravity.up, [0, -1, 0])


def test_tilt_gives_the_same_frame_as_the_renderer():
    pose = CameraPose((0, 1.0, 0), pitch_deg=40, roll_deg=5)
    gravity = gravity_from_tilt(40, 5)
    assert gravity.source == "tilt"
    assert _angle_deg(gravity.up, pose.up_optical()) < 1e-6
    assert gravity.pitch_deg == pytest.approx(40)


def test_no_supporting_plane_falls_back_to_the_camera_frame_with_a_flag():
    # a level camera facing a wall: the only plane is vertical, which must never be taken as the floor
    wall_only = Scene([], plane=None, wall=Plane.wall(-3.0))
    depth = render(wall_only, CameraPose((0, 1.0, 0), pitch_deg=0), CAM).depth
    gravity = estimate_gravity(depth, CAM)
    assert gravity.is_fallback and gravity.source == "camera" and not gravity.from_plane
    np.testing.assert_allclose(gravity.up, [0, -1, 0])
    assert estimate_gravity(None, CAM).is_fallback
    assert estimate_gravity(np.full((240, 320), np.nan, np.float32), CAM).is_fallback
    noise = np.random.default_rng(0).uniform(0.5, 5.0, (240, 320)).astype(np.float32)
    assert estimate_gravity(noise, CAM).is_fallback


def test_looking_straight_down_still_gives_a_frame():
    gravity = gravity_from_up([0.0, 0.0, -1.0])
    np.testing.assert_allclose(gravity.matrix @ gravity.matrix.T, np.eye(3), atol=1e-9)
    assert gravity.pitch_deg == pytest.approx(90)


@pytest.mark.parametrize("up", [[0, 0, 0], [np.nan, 1, 0], [1, 2]])
def test_bad_up_vectors(up):
    with pytest.raises(GravityError, match="up-vector"):
        gravity_from_up(up)


def test_bad_tilt():
    with pytest.raises(GravityError, match="pitch"):
        gravity_from_tilt(120)
    assert camera_gravity().is_fallback

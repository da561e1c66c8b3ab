"""The synthetic renderer: exact depth, instance ids, ground-truth frames, sensor noise."""

import numpy as np
import pytest

from rgpt_ros.frame import RGBDFrame
from rgpt_ros.synthetic import (Box, Capsule, CameraPose, Plane, Scene, Sphere, add_sensor_noise,
                                checker_texture, d435_intrinsics, depth_to_mm_uint16, render, wood_texture)


def _pixel_points(frame):
    v, u = np.nonzero(np.isfinite(frame.depth))
    return frame.camera.backproject(u, v, frame.depth[v, u]).astype(np.float64), v, u


def test_floor_depth_is_exact_plane_in_world_and_gravity_frame():
    pose = CameraPose((0.1, 0.6, 0.2), yaw_deg=20, pitch_deg=40, roll_deg=5)
    frame = render(Scene([], plane=Plane.horizontal(0.0, texture=wood_texture())), pose, width=320, height=240)
    pts, _, _ = _pixel_points(frame)
    assert len(pts) == 320 * 240  # a pitched-down camera sees floor everywhere
    world = pts @ pose.world_from_camera().T + np.asarray(pose.position)
    assert np.abs(world[:, 1]).max() < 1e-4
    # the up vector in the optical frame gives the camera height above the floor
    assert np.allclose(pts @ frame.up, -0.6, atol=1e-4)
    assert np.isclose(np.linalg.norm(frame.up), 1.0)


def test_box_and_sphere_front_depths_and_instance_ids():
    scene = Scene([Box((0, 0.1, -1.0), (0.2, 0.2, 0.2), name="box"),
                   Sphere((0.3, 0.1, -0.8), 0.05, name="ball")], plane=Plane.horizontal(0.0))
    pose = CameraPose((0, 0.1, 0), pitch_deg=0)
    f = render(scene, pose)
    cam = f.camera
    u, v = int(round(cam.cx)), int(round(cam.cy))
    assert f.instance[v, u] == 0 and np.isclose(f.depth[v, u], 0.9, atol=1e-5)
    su, sv = cam.project(np.array([[0.3, 0.0, 0.8]]))[0]
    su, sv = int(round(su)), int(round(sv))
    assert f.instance[sv, su] == 1
    assert abs(f.depth[sv, su] - (np.hypot(0.3, 0.8) - 0.05) * 0.8 / np.hypot(0.3, 0.8)) < 2e-3
    assert f.mask("ball").sum() > 100 and f.index("box") == 0
    x1, y1, x2, y2 = f.visible_box("box")
    assert x1 < u < x2 and y1 < v < y2
    # projected corners of the box's front face bound its visible box
    front = f.objects[0].corners_optical
    uv = cam.project(front[front[:, 2] < 0.95])
    assert np.allclose([x1, y1, x2 - 1, y2 - 1], [uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max()],
                       atol=1.5)


def test_occlusion_and_background_ids():
    scene = Scene([Box((0, 0.1, -1.5), (0.3, 0.2, 0.1), name="back"), Box((0, 0.1, -1.0), (0.1, 0.1, 0.1), name="front")],
                  plane=None, wall=None)
    f = render(scene, CameraPose((0, 0.1, 0), pitch_deg=0), width=160, height=120)
    c = (60, 80)
    assert f.instance[c] == 1
    assert np.isnan(f.depth[0, 0]) and f.instance[0, 0] == -1
    assert f.region("back").box[0] < f.region("front").box[0]
    assert f.region("front", use_mask=True).mask.sum() == f.mask(1).sum()


def test_ground_truth_frames_agree_with_up_vector_construction():
    pose = CameraPose.look_at((0.2, 0.5, 0.3), (0.0, 0.0, -0.5), roll_deg=7)
    box = Box((0, 0.05, -0.5), (0.1, 0.1, 0.06), yaw_deg=30, name="cube")
    f = render(Scene([box, Capsule((0.1, 0.02, -0.4), (0.15, 0.05, -0.45), 0.01, name="cap")]), pose)
    truth = f.objects[0]
    # canonical axes from the optical frame and up: y = up, z = horizontal forward, x = z cross y
    up = f.up
    fwd = np.array([0, 0, 1.0]) - up[2] * up
    fwd /= np.linalg.norm(fwd)
    rot = np.stack([np.cross(fwd, up), up, fwd])
    assert np.allclose(truth.corners_optical @ rot.T, truth.corners_canonical, atol=1e-9)
    assert np.allclose(truth.centre_canonical, truth.corners_canonical.mean(axis=0))
    # box rests on the floor: its canonical bottom is the camera height below
    assert np.isclose(truth.aabb_canonical[0, 1], -0.5)
    assert np.allclose(truth.size_canonical[1], 0.1)
    cap = f.objects[1]
    assert np.isclose(cap.size_canonical[1], 0.03 + 0.02)
    # exact AABB of the yawed box in the canonical frame equals the corners' extent
    assert np.allclose(truth.aabb_canonical, [truth.corners_canonical.min(0), truth.corners_canonical.max(0)])


def test_faces_are_shaded_differently_and_texture_varies():
    scene = Scene([Box((0, 0.1, -0.8), (0.2, 0.2, 0.2), yaw_deg=35, colour=(200, 60, 40))],
                  plane=Plane.horizontal(0.0, texture=checker_texture()))
    f = render(scene, CameraPose.look_at((0, 0.5, 0), (0, 0.1, -0.8)))
    box_colours = f.rgb[f.mask(0)].reshape(-1, 3)
    assert len(np.unique(box_colours[:, 0])) >= 3  # top, left and right faces
    floor = f.rgb[f.instance == -1].astype(float)
    assert floor.std() > 15


def test_camera_pose_validation_and_look_at_roundtrip():
    with pytest.raises(ValueError, match="pitch"):
        CameraPose((0, 1, 0), pitch_deg=95)
    with pytest.raises(ValueError, match="size"):
        Box((0, 0, 0), (0.1, -0.1, 0.1))
    with pytest.raises(ValueError, match="radius"):
        Sphere((0, 0, 0), 0.0)
    with pytest.raises(ValueError, match="Box, Sphere or Capsule"):
        Scene(["cube"])
    pose = CameraPose.look_at((0, 1, 0), (1, 0, -1))
    assert np.isclose(pose.pitch_deg, np.degrees(np.arctan2(1, np.sqrt(2))))
    fwd = pose.world_from_camera()[:, 2]
    assert np.allclose(fwd, np.array([1, -1, -1]) / np.sqrt(3))
    r = pose.world_from_camera()
    assert np.allclose(r.T @ r, np.eye(3)) and np.isclose(np.linalg.det(r), 1.0)


def test_sensor_noise_model():
    scene = Scene([Box((0, 0.1, -0.7), (0.1, 0.2, 0.1))], plane=Plane.horizontal(0.0), wall=Plane.wall(-2.5))
    f = render(scene, CameraPose((0, 0.3, 0), pitch_deg=10))
    a = add_sensor_noise(f.depth, np.random.default_rng(1))
    b = add_sensor_noise(f.depth, np.random.default_rng(1))
    assert np.array_equal(a, b, equal_nan=True)
    dropped = np.isnan(a) & np.isfinite(f.depth)
    assert 0.015 < dropped.mean() < 0.06
    ok = np.isfinite(a)
    assert np.allclose(a[ok] * 1000, np.round(a[ok] * 1000), atol=1e-3)  # millimetre quantisation
    err = a - f.depth
    near = ok & (f.depth < 0.8) & (f.instance == -1)
    far = ok & (f.depth > 2.0) & (f.instance == -1)
    assert np.nanstd(err[far]) > 3 * np.nanstd(err[near])
    zeros = add_sensor_noise(f.depth, np.random.default_rng(1), invalid_value=0.0)
    assert not np.isnan(zeros).any() and np.array_equal(zeros == 0, np.isnan(a))
    mm = depth_to_mm_uint16(a)
    assert mm.dtype == np.uint16 and np.all(mm[~ok] == 0)
    with pytest.raises(ValueError, match="dropout"):
        add_sensor_noise(f.depth, np.random.default_rng(0), dropout=1.5)


def test_to_rgbd_frame():
    f = render(Scene([Sphere((0, 0.05, -0.5), 0.02)]), CameraPose((0, 0.4, 0), pitch_deg=40), d435_intrinsics(320, 240))
    clean = f.to_rgbd_frame(stamp_ns=5)
    noisy = f.to_rgbd_frame(noisy=True, rng=np.random.default_rng(3))
    assert isinstance(clean, RGBDFrame) and clean.stamp_ns == 5 and np.allclose(clean.up, f.up)
    assert clean.depth is not f.depth and np.array_equal(clean.depth, f.depth, equal_nan=True)
    assert np.isnan(noisy.depth).sum() > np.isnan(clean.depth).sum()
    assert not np.array_equal(noisy.rgb, clean.rgb)

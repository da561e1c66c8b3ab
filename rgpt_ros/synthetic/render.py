"""Vectorised numpy ray-caster: RGB, exact optical depth, instance ids and 3D ground truth.

Frames (all right-handed except the canonical one, which follows the spatial-QA convention):
- world: gravity-aligned metres, y up. A camera with yaw = pitch = roll = 0 looks along world -z,
  its image x axis is world +x.
- optical: x right, y down, z forward (the depth image's z).
- canonical: camera-centred, gravity-aligned: x right (horizontal), y up, z forward-horizontal
  (the optical forward axis projected on the horizontal plane). Derivable from the optical frame
  and the up vector: y = up, z = normalise(fwd - (fwd . up) up), x = z x y (in optical coords).

Typical use::

    scene = Scene([Box((0, 0.025, -0.6), (0.05, 0.05, 0.05), name="cube")], plane=Plane.horizontal(0, texture=wood_texture()))
    pose = CameraPose.look_at((0, 0.45, 0), (0, 0, -0.6))
    frame = render(scene, pose)                  # default 640x480 D435-like intrinsics
    rgbd = frame.to_rgbd_frame(noisy=True, rng=np.random.default_rng(0))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional, Sequence

import numpy as np

from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry.camera import CameraIntrinsics
from rgpt_ros.geometry.regions import Region
from rgpt_ros.synthetic.noise import add_image_noise, add_sensor_noise
from rgpt_ros.synthetic.shapes import Box, Capsule, Plane, Shape, _vec3
from rgpt_ros.synthetic.textures import checker_texture

_NEAR = 0.02  # metres; corners closer than this to the camera disable the screen-space ROI
_BAND_ROWS = 48  # planes are ray-cast in bands of this many image rows


def d435_intrinsics(width: int = 640, height: int = 480) -> CameraIntrinsics:
    """RealSense-D435-like colour intrinsics (fx = fy = 615 px at 640x480), scaled to the size."""
    f = 615.0 * width / 640.0
    return CameraIntrinsics(f, f, (width - 1) / 2.0, (height - 1) / 2.0, width, height)


@dataclass(frozen=True)
class CameraPose:
    """Camera position (world, metres) and orientation: ``yaw_deg`` about world +y (counter-clockwise
    from above; 0 looks along -z), ``pitch_deg`` down from horizontal (0..89), ``roll_deg`` about the
    viewing axis (positive turns the image x axis towards image down)."""

    position: tuple = (0.0, 0.5, 0.0)
    yaw_deg: float = 0.0
    pitch_deg: float = 35.0
    roll_deg: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "position", tuple(_vec3(self.position, "camera position").tolist()))
        if not -89.0 <= self.pitch_deg <= 89.0:
            raise ValueError(f"pitch_deg must be within -89..89, got {self.pitch_deg!r}")
        if not (np.isfinite(self.yaw_deg) and np.isfinite(self.roll_deg)):
            raise ValueError("yaw_deg and roll_deg must be finite")

    @classmethod
    def look_at(cls, position: Sequence[float], target: Sequence[float], roll_deg: float = 0.0) -> "CameraPose":
        """The pose at ``position`` whose optical axis passes through ``target``."""
        p, q = _vec3(position, "position"), _vec3(target, "target")
        d = q - p
        if np.linalg.norm(d) < 1e-9:
            raise ValueError("look_at target coincides with the camera position")
        d /= np.linalg.norm(d)
        pitch = float(np.degrees(np.arcsin(np.clip(-d[1], -1.0, 1.0))))
        yaw = float(np.degrees(np.arctan2(-d[0], -d[2])))
        return cls(tuple(p), yaw, pitch, roll_deg)

    def _level_axes(self) -> tuple[np.ndarray, np.ndarray]:
        y = np.deg2rad(self.yaw_deg)
        return np.array([np.cos(y), 0.0, -np.sin(y)]), np.array([-np.sin(y), 0.0, -np.cos(y)])

    def world_from_camera(self) -> np.ndarray:
        """3x3 rotation whose columns are the optical x, y, z axes in world coordinates."""
        right, fwd_level = self._level_axes()
        p = np.deg2rad(self.pitch_deg)
        fwd = np.cos(p) * fwd_level + np.array([0.0, -np.sin(p), 0.0])
        down = np.cross(fwd, right)
        r = np.deg2rad(self.roll_deg)
        right, down = np.cos(r) * right + np.sin(r) * down, -np.sin(r) * right + np.cos(r) * down
        return np.stack([right, down, fwd], axis=1)

    def camera_from_world(self) -> np.ndarray:
        """3x3 rotation mapping world vectors to the optical frame."""
        return self.world_from_camera().T

    def up_optical(self) -> np.ndarray:
        """Gravity "up" unit vector expressed in the optical frame."""
        return self.camera_from_world() @ np.array([0.0, 1.0, 0.0])

    def world_from_canonical(self) -> np.ndarray:
        """3x3 matrix with columns canonical x (right), y (up), z (forward-horizontal) in world coordinates."""
        right, fwd_level = self._level_axes()
        return np.stack([right, np.array([0.0, 1.0, 0.0]), fwd_level], axis=1)

    def to_optical(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) world points -> optical frame."""
        return (np.asarray(points, np.float64) - np.asarray(self.position)) @ self.world_from_camera()

    def to_canonical(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) world points -> gravity-aligned camera-centred canonical frame."""
        return (np.asarray(points, np.float64) - np.asarray(self.position)) @ self.world_from_canonical()


@dataclass(eq=False)
class Scene:
    """Objects (boxes, spheres, capsules) on a ground ``plane`` with an optional back ``wall``."""

    objects: list
    plane: Optional[Plane] = field(default_factory=lambda: Plane.horizontal(0.0, texture=checker_texture()))
    wall: Optional[Plane] = None
    light_dir: Sequence[float] = (0.35, 1.0, 0.55)
    ambient: float = 0.35
    background: Sequence[float] = (0, 0, 0)
    max_range: float = 10.0

    def __post_init__(self) -> None:
        self.objects = list(self.objects)
        for i, obj in enumerate(self.objects):
            if not isinstance(obj, (Box, Capsule)):
                raise ValueError(f"scene object {i} must be a Box, Sphere or Capsule, got {type(obj).__name__}")
        light = _vec3(self.light_dir, "light_dir")
        self._light = light / np.linalg.norm(light)
        if not 0.0 <= self.ambient <= 1.0:
            raise ValueError(f"ambient must be within 0..1, got {self.ambient!r}")
        if not self.max_range > 0:
            raise ValueError(f"max_range must be > 0, got {self.max_range!r}")

    def index(self, name: str) -> int:
        """Index of the object called ``name``."""
        for i, obj in enumerate(self.objects):
            if obj.name == name:
                return i
        raise KeyError(f"no object named {name!r}; have {[o.name for o in self.objects]}")


@dataclass
class ObjectTruth:
    """Exact geometry of one object. ``*_optical`` in the optical frame, ``*_canonical`` in the
    gravity-aligned camera-centred frame; ``aabb_*`` is (2, 3) [min, max]; ``corners_*`` (8, 3)."""

    index: int
    name: str
    kind: str
    centre_optical: np.ndarray
    corners_optical: np.ndarray
    aabb_optical: np.ndarray
    centre_canonical: np.ndarray
    corners_canonical: np.ndarray
    aabb_canonical: np.ndarray

    @property
    def size_canonical(self) -> np.ndarray:
        """(x, y, z) extents of the canonical AABB (width, height, depth as the QA bench uses them)."""
        return self.aabb_canonical[1] - self.aabb_canonical[0]


@dataclass
class RenderedFrame:
    """One rendered view: images, exact depth (NaN = no hit), instance ids (-1 = planes/background)."""

    rgb: np.ndarray
    depth: np.ndarray
    instance: np.ndarray
    camera: CameraIntrinsics
    up: np.ndarray
    pose: CameraPose
    objects: list[ObjectTruth]
    names: list[str]

    def index(self, key: int | str) -> int:
        if isinstance(key, str):
            if key not in self.names:
                raise KeyError(f"no object named {key!r}; have {self.names}")
            return self.names.index(key)
        if not 0 <= key < len(self.objects):
            raise IndexError(f"object index {key} out of range 0..{len(self.objects) - 1}")
        return int(key)

    def mask(self, key: int | str) -> np.ndarray:
        """Visible-pixel mask of an object (by index or name)."""
        return self.instance == self.index(key)

    def visible_box(self, key: int | str) -> Optional[tuple[int, int, int, int]]:
        """Tight (x1, y1, x2, y2) box (x2/y2 exclusive) of the visible pixels; None when invisible."""
        m = self.mask(key)
        cols, rows = np.flatnonzero(m.any(axis=0)), np.flatnonzero(m.any(axis=1))
        if cols.size == 0:
            return None
        return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1

    def region(self, key: int | str, region_id: Optional[str] = None, use_mask: bool = False) -> Region:
        """The object as a ``Region`` prompt (its visible box, or its mask)."""
        i = self.index(key)
        rid = region_id if region_id is not None else (self.names[i] or str(i))
        if use_mask:
            return Region(id=rid, mask=self.mask(i))
        box = self.visible_box(i)
        if box is None:
            raise ValueError(f"object {rid!r} is not visible in this frame")
        return Region(id=rid, box=box)

    def to_rgbd_frame(self, noisy: bool = False, rng: Optional[np.random.Generator] = None, stamp_ns: int = 0,
                      with_up: bool = True, frame_id: str = "camera_color_optical_frame") -> RGBDFrame:
        """As an ``RGBDFrame``; ``noisy`` applies ``add_sensor_noise`` / ``add_image_noise`` with ``rng``."""
        rgb, depth = self.rgb, self.depth
        if noisy:
            rng = rng if rng is not None else np.random.default_rng(0)
            depth = add_sensor_noise(depth, rng)
            rgb = add_image_noise(rgb, rng)
        return RGBDFrame(rgb=rgb.copy() if rgb is self.rgb else rgb, depth=depth.copy() if depth is self.depth else depth,
                         camera=self.camera, stamp_ns=int(stamp_ns), up=self.up.copy() if with_up else None,
                         frame_id=frame_id)


@lru_cache(maxsize=8)
def _camera_rays(fx: float, fy: float, cx: float, cy: float, width: int, height: int) -> np.ndarray:
    """(H, W, 3) optical-frame ray directions with unit z (so ray parameter = optical depth)."""
    u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    rays = np.stack([(u - cx) / fx, (v - cy) / fy, np.ones_like(u)], axis=-1).astype(np.float32)
    rays.setflags(write=False)
    return rays


def _screen_roi(shape: Shape, pose: CameraPose, camera: CameraIntrinsics, width: int, height: int):
    """Pixel rectangle (r1, r2, c1, c2) that contains the shape's projection, or None if off-screen."""
    pts = pose.to_optical(shape.corners())
    if np.any(pts[:, 2] < _NEAR):
        return (0, height, 0, width) if np.any(pts[:, 2] > 0) else None
    uv = camera.project(pts)
    c1, r1 = np.floor(uv.min(axis=0)).astype(int) - 1
    c2, r2 = np.ceil(uv.max(axis=0)).astype(int) + 2
    c1, r1, c2, r2 = max(c1, 0), max(r1, 0), min(c2, width), min(r2, height)
    return (r1, r2, c1, c2) if (c2 > c1 and r2 > r1) else None


def _truth(i: int, shape: Shape, pose: CameraPose) -> ObjectTruth:
    origin = np.asarray(pose.position)
    opt, can = pose.world_from_camera(), pose.world_from_canonical()
    corners = shape.corners()
    return ObjectTruth(i, shape.name, shape.kind,
                       pose.to_optical(shape.centre[None])[0], pose.to_optical(corners), shape.aabb_in(opt, origin),
                       pose.to_canonical(shape.centre[None])[0], pose.to_canonical(corners), shape.aabb_in(can, origin))


def render(scene: Scene, pose: CameraPose, camera: Optional[CameraIntrinsics] = None,
           width: Optional[int] = None, height: Optional[int] = None) -> RenderedFrame:
    """Ray-cast ``scene`` from ``pose``. Image size: ``width``/``height``, else the intrinsics' size,
    else 640x480 with D435-like intrinsics."""
    if camera is None:
        camera = d435_intrinsics(width or 640, height or 480)
    width, height = int(width or camera.width or 640), int(height or camera.height or 480)
    camera.check_image_size(width, height)
    origin = np.asarray(pose.position)
    r_wc = pose.world_from_camera().astype(np.float32)
    rays = _camera_rays(camera.fx, camera.fy, camera.cx, camera.cy, width, height)  # optical frame

    depth = np.full((height, width), np.inf, dtype=np.float32)
    instance = np.full((height, width), -1, dtype=np.int32)
    colour = np.empty((height, width, 3), dtype=np.float32)
    colour[:] = np.asarray(scene.background, np.float32) / 255.0
    light = scene._light.astype(np.float32)

    def paint(surface, roi, ident: int, dtype=np.float32) -> None:
        r1, r2, c1, c2 = roi
        dirs = (rays[r1:r2, c1:c2].reshape(-1, 3) @ r_wc.T).astype(dtype, copy=False)  # world directions
        t = surface.hit(origin, dirs)
        zbuf = depth[r1:r2, c1:c2]
        closer = (t < np.minimum(zbuf.reshape(-1), scene.max_range)).reshape(zbuf.shape)
        if not closer.any():
            return
        flat = closer.reshape(-1)
        d_hit, t_hit = dirs[flat], t[flat]
        normal, albedo = surface.shade(origin, d_hit, t_hit)
        if normal.ndim == 1:  # planes: one normal; flip it towards the camera
            side = -1.0 if float(normal @ (surface.point - origin)) > 0 else 1.0
            lambert = max(side * float(normal @ light), 0.0)
        else:
            normal = np.where(((normal * d_hit).sum(axis=1) > 0)[:, None], -normal, normal)  # face the camera
            lambert = np.clip(normal.astype(np.float32) @ light, 0.0, None)[:, None]
        zbuf[closer] = t_hit
        instance[r1:r2, c1:c2][closer] = ident
        colour[r1:r2, c1:c2][closer] = albedo * np.float32(scene.ambient + (1.0 - scene.ambient) * lambert)

    for plane in (scene.plane, scene.wall):
        if plane is not None:
            for r1 in range(0, height, _BAND_ROWS):  # bands keep the working set in cache
                paint(plane, (r1, min(r1 + _BAND_ROWS, height), 0, width), -1)
    for i, obj in enumerate(scene.objects):
        roi = _screen_roi(obj, pose, camera, width, height)
        if roi is not None:
            paint(obj, roi, i, np.float64)

    depth = np.where(np.isfinite(depth), depth, np.nan).astype(np.float32)
    rgb = np.clip(colour * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return RenderedFrame(rgb=rgb, depth=depth, instance=instance, camera=camera, up=pose.up_optical(), pose=pose,
                         objects=[_truth(i, o, pose) for i, o in enumerate(scene.objects)],
                         names=[o.name for o in scene.objects])
